"""The engine's per-deal ledger writes (Core connections, statements built once), on both engines.

``sync.ledger.Ledger`` runs a deal's transactions on a connection, not an ORM session; these
tests hold it to the same rules the session-based repository functions keep
(``test_ledger_rules``): one run per workflow id, forward-only watermarks, the id map, and an
open error closed by the next success.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey
from dealbridge.db import open_errors, runs
from dealbridge.db.open_errors import Failure
from dealbridge.db.session import session_scope
from dealbridge.db.synced import SyncedWrite, payload_hash
from dealbridge.sync.ledger import Ledger, RunFinish, SyncedState

OPPORTUNITY = "006000000000001AAA"
STAMP = "2026-11-28T06:58:12Z"
TRIGGER = {"kind": "outbound_message", "system_modstamp": STAMP, "account_id": "001A"}
CALL = CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", 204, 12.5)


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = Ledger(ledger_url)
    yield opened
    opened.dispose()


def _finish(status: str = "synced") -> RunFinish:
    return RunFinish(status, [{"step": "upserts", "ms": 3.0}], 1, 0, {"operations": []}, None)


def test_a_run_is_opened_once_per_workflow(ledger: Ledger) -> None:
    first = ledger.begin_run("deal:1", OPPORTUNITY, TRIGGER, echo_check=True)
    again = ledger.begin_run("deal:1", OPPORTUNITY, TRIGGER, echo_check=True)
    assert (first.run_id, first.reopened, first.own_write_back) == (again.run_id, False, False)
    assert again.reopened


def test_concurrent_openers_get_one_run(ledger: Ledger) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(6)

    def open_it() -> None:
        barrier.wait()
        ids.append(ledger.start_run("deal:race", OPPORTUNITY, TRIGGER))

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 6
    assert len(set(ids)) == 1


def test_a_deals_writes_are_stored_and_counted(ledger: Ledger) -> None:
    run_id = ledger.begin_run("deal:2", OPPORTUNITY, TRIGGER, echo_check=False).run_id
    ledger.mark_running(run_id, {"opportunity": {"Id": OPPORTUNITY, "Name": "Ünïcode"}}, [CALL])
    key = RecordKey("customer", "SFACC-1")
    assert ledger.synced_state([key]) == {}
    written = SyncedWrite(key, "entity", "701", payload_hash({"companyName": "Acme"}), OPPORTUNITY)
    ledger.record_writes([written], run_id, [CALL, CALL])
    ledger.record_writes([SyncedWrite(key, "entity", "701", "changed", OPPORTUNITY)], run_id)
    assert ledger.synced_state([key, RecordKey("contact", "none")]) == {
        key: SyncedState("701", "changed", None, run_id)
    }
    assert ledger.finish_run(run_id, _finish(), resolve_opportunity=OPPORTUNITY) is None
    with session_scope(ledger.factory) as session:
        run = runs.get_run(session, run_id)
        assert run is not None
        assert (run.status, run.records_written, run.plan) == ("synced", 1, {"operations": []})
        assert run.deal_graph == {"opportunity": {"Id": OPPORTUNITY, "Name": "Ünïcode"}}
        assert run.api_calls["netsuite"] == {"total": 3, "writes": 3, "by_status": {"204": 3}}
        assert run.started_at is not None
        assert run.started_at.tzinfo is UTC


def test_marking_a_finished_run_running_changes_nothing(ledger: Ledger) -> None:
    """A replayed ``read_and_plan`` after the run finished leaves its outcome alone."""
    run_id = ledger.begin_run("deal:3", OPPORTUNITY, TRIGGER, echo_check=False).run_id
    ledger.mark_running(run_id, {"first": True})
    ledger.finish_run(run_id, _finish())
    ledger.mark_running(run_id, {"second": True})
    with session_scope(ledger.factory) as session:
        run = runs.get_run(session, run_id)
        assert run is not None
        assert (run.status, run.deal_graph) == ("synced", {"first": True})


def test_the_write_back_watermark_moves_forward_only(ledger: Ledger) -> None:
    run_id = ledger.begin_run("deal:4", OPPORTUNITY, TRIGGER, echo_check=True).run_id
    ledger.remember_write_back(OPPORTUNITY, "2026-11-28T07:00:00.000+0000", run_id=run_id)
    ledger.remember_write_back(OPPORTUNITY, "2026-11-28T06:00:00Z", run_id=run_id, calls=[CALL])
    assert ledger.own_write_back(OPPORTUNITY) == "2026-11-28T07:00:00.000+0000"
    ledger.remember_write_back(OPPORTUNITY, "2026-11-28T08:00:00Z")
    assert ledger.own_write_back(OPPORTUNITY) == "2026-11-28T08:00:00Z"
    echo = {**TRIGGER, "system_modstamp": "2026-11-28T08:00:00.000+0000"}
    assert ledger.begin_run("deal:echo", OPPORTUNITY, echo, echo_check=True).own_write_back
    assert ledger.is_own_write_back(OPPORTUNITY, "2026-11-28T08:00:00Z")
    assert not ledger.is_own_write_back(OPPORTUNITY, "2026-11-28T07:00:00Z")


def test_a_success_closes_the_open_error_in_its_finish(ledger: Ledger) -> None:
    failed = ledger.begin_run("deal:5", OPPORTUNITY, TRIGGER, echo_check=False).run_id
    error_id = ledger.record_failure(Failure("remote_outage", "503"), OPPORTUNITY, failed, "w")
    ledger.finish_run(failed, _finish("failed"))
    retried = ledger.begin_run("retry:5:1", OPPORTUNITY, {"kind": "retry"}, echo_check=False)
    closed = ledger.finish_run(retried.run_id, _finish(), resolve_opportunity=OPPORTUNITY)
    assert closed == error_id
    with session_scope(ledger.factory) as session:
        assert open_errors.active_error(session, OPPORTUNITY) is None
        error = open_errors.get_error(session, error_id)
        assert error is not None
        assert (error.state, error.resolved_by) == ("resolved", "system")
        assert error.resolution_note is not None
        assert retried.run_id in error.resolution_note
        run = runs.get_run(session, retried.run_id)
        assert run is not None
        assert run.status == "synced"


class _SessionsOnly(Ledger):
    """A ledger over another's sessions, as the console's and the API's are."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory


def test_a_ledger_without_an_engine_writes_through_its_sessions(ledger: Ledger) -> None:
    borrowed = _SessionsOnly(ledger.factory)
    run_id = borrowed.begin_run("deal:6", OPPORTUNITY, TRIGGER, echo_check=True).run_id
    borrowed.remember_write_back(OPPORTUNITY, STAMP, run_id=run_id, calls=[CALL])
    assert ledger.own_write_back(OPPORTUNITY) == STAMP
    assert borrowed.finish_run(run_id, _finish(), resolve_opportunity=OPPORTUNITY) is None
    with session_scope(ledger.factory) as session:
        run = runs.get_run(session, run_id)
        assert run is not None
        assert run.api_calls["netsuite"]["total"] == 1
        assert run.finished_at is not None
        assert run.finished_at > datetime(2026, 1, 1, tzinfo=UTC)


def test_a_ledger_without_an_engine_closes_an_open_error_in_its_session(ledger: Ledger) -> None:
    """The entity path of ``finish_run`` joins the borrowed session's transaction."""
    borrowed = _SessionsOnly(ledger.factory)
    failed = borrowed.begin_run("deal:7", OPPORTUNITY, TRIGGER, echo_check=False).run_id
    error_id = borrowed.record_failure(Failure("auth", "401"), OPPORTUNITY, failed, "w")
    retried = borrowed.begin_run("retry:7:1", OPPORTUNITY, {"kind": "retry"}, echo_check=False)
    closed = borrowed.finish_run(retried.run_id, _finish(), resolve_opportunity=OPPORTUNITY)
    assert closed == error_id
    with session_scope(ledger.factory) as session:
        error = open_errors.get_error(session, error_id)
        assert error is not None
        assert error.state == "resolved"
        run = runs.get_run(session, retried.run_id)
        assert run is not None
        assert run.status == "synced"
