"""The ledger writes a step makes at its end, stored together with the step's API calls.

One transaction instead of two per step (issue 8's CPU per deal): what each combined method
stores must be exactly what the separate methods stored.
"""

from __future__ import annotations

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey
from dealbridge.db import api_calls, open_errors, runs, synced
from dealbridge.db.open_errors import Failure
from dealbridge.db.synced import SyncedWrite
from dealbridge.sync.ledger import Ledger, RunFinish, SyncedState

STAMP = "2026-03-01T10:00:00.000Z"
TRIGGER = {"kind": "poller", "account_id": "001A", "system_modstamp": STAMP}
CALL = CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", 204, 3.0)


def stored_calls(ledger: Ledger, run_id: str) -> list[tuple[str, str]]:
    with ledger.session() as session:
        return [(row.method, row.path) for row in api_calls.calls_for_run(session, run_id)]


def test_begin_run_starts_the_run_once_and_sees_our_own_echo(ledger: Ledger) -> None:
    run_id, echo, reopened = ledger.begin_run("wf-1", "006A", TRIGGER, echo_check=True)
    assert (echo, reopened) == (False, False)
    assert ledger.begin_run("wf-1", "006A", TRIGGER, echo_check=True) == (run_id, False, True)
    ledger.remember_write_back("006A", STAMP)
    assert ledger.begin_run("wf-2", "006A", TRIGGER, echo_check=True)[1] is True
    assert ledger.begin_run("wf-3", "006A", TRIGGER, echo_check=False)[1] is False
    without_stamp = {**TRIGGER, "system_modstamp": None}
    assert ledger.begin_run("wf-4", "006A", without_stamp, echo_check=True)[1] is False


def test_the_graph_the_writes_and_the_write_back_stamp_carry_the_step_calls(
    ledger: Ledger,
) -> None:
    run_id = ledger.start_run("wf-1", "006A", TRIGGER)
    ledger.mark_running(run_id, {"opportunity": {"Id": "006A"}}, [CALL])
    key = RecordKey("customer", "SFACC-1")
    ledger.record_writes([SyncedWrite(key, "entity", "12", "h1")], run_id, [CALL, CALL])
    ledger.record_writes([], run_id)  # nothing at all: still fine
    ledger.remember_write_back("006A", STAMP, run_id=run_id, calls=[CALL])

    assert len(stored_calls(ledger, run_id)) == 4
    assert ledger.synced_state([key])[key].netsuite_id == "12"
    assert ledger.is_own_write_back("006A", STAMP)
    with ledger.session() as session:
        run = runs.get_run(session, run_id)
        assert run is not None
        assert run.deal_graph == {"opportunity": {"Id": "006A"}}


def test_finish_run_closes_the_open_error_only_when_asked(ledger: Ledger) -> None:
    failed = ledger.start_run("wf-1", "006A", TRIGGER)
    error_id = ledger.record_failure(Failure("validation", "bad"), "006A", failed, "wf-1")
    finish = RunFinish("synced", [], 1, 0, None, None)
    later = ledger.start_run("wf-2", "006A", TRIGGER)

    assert ledger.finish_run(later, finish) is None
    with ledger.session() as session:
        assert open_errors.active_error(session, "006A") is not None
    assert ledger.finish_run(later, finish, resolve_opportunity="006A") == error_id
    with ledger.session() as session:
        assert open_errors.active_error(session, "006A") is None
        run = runs.get_run(session, later)
        assert run is not None
        assert run.status == "synced"


def test_synced_state_reads_id_hash_a_pending_override_and_the_writing_run(
    ledger: Ledger,
) -> None:
    run_id = ledger.start_run("wf-1", "006A", TRIGGER)
    key, other = RecordKey("customer", "SFACC-1"), RecordKey("customer", "SFACC-2")
    ledger.record_writes([SyncedWrite(key, "entity", "12", "h1")], run_id)
    assert ledger.synced_state([key, other]) == {key: SyncedState("12", "h1", None, run_id)}
    with ledger.session() as session:
        synced.set_override_payload(session, key, group="entity", payload={"companyName": "X"})
    assert ledger.synced_state([key])[key] == SyncedState("12", "h1", {"companyName": "X"}, run_id)


def test_the_run_summary_counts_the_stored_calls(ledger: Ledger) -> None:
    run_id = ledger.start_run("wf-1", "006A", TRIGGER)
    salesforce = CallRecord("salesforce", "GET", "/query", 200, 1.0)
    ledger.mark_running(run_id, {}, [salesforce, salesforce])
    ledger.record_calls(run_id, [CALL, CallRecord("netsuite", "PUT", "/x", None, 1.0)])
    ledger.finish_run(run_id, RunFinish("synced", [], 1, 0, None, None))
    with ledger.session() as session:
        run = runs.get_run(session, run_id)
        assert run is not None
        assert run.api_calls == {
            "salesforce": {"total": 2, "writes": 0, "by_status": {"200": 2}},
            "netsuite": {"total": 2, "writes": 2, "by_status": {"204": 1, "none": 1}},
        }
