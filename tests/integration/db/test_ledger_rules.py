"""The ledger's rules hold on both engines, including under concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey, SourceRecord
from dealbridge.db.api_calls import calls_for_run, record_calls
from dealbridge.db.models import Run, SyncError
from dealbridge.db.open_errors import (
    ErrorFilter,
    Failure,
    active_error,
    count_errors,
    mark_retrying,
    record_failure,
    resolve_for_success,
)
from dealbridge.db.runs import (
    OpenedRun,
    finish_run,
    get_run,
    latency_percentiles,
    list_runs,
    open_run,
    start_run,
)
from dealbridge.db.session import session_scope
from dealbridge.db.synced import (
    SyncedWrite,
    get_synced,
    is_unchanged,
    list_synced,
    payload_hash,
    upsert_synced,
)
from dealbridge.db.users import create_user, get_user
from dealbridge.db.watermarks import advance_watermark, get_watermark

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
WORKERS = 8
Factory = sessionmaker[Session]


def _race(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads released together; re-raise any failure."""
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_start_run_is_idempotent_under_concurrency(factory: Factory) -> None:
    ids: list[str] = []

    def start(_index: int) -> None:
        with session_scope(factory) as session:
            run = start_run(
                session, workflow_id="deal:006A:1", opportunity_id="006A", trigger="poller"
            )
            ids.append(run.id)

    _race(WORKERS, start)
    assert len(set(ids)) == 1
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 1


def test_exactly_one_concurrent_opener_creates_the_run(factory: Factory) -> None:
    """``open_run`` says who created the row: the engine's sign that a deal is being resumed."""
    opened: list[OpenedRun] = []

    def open_it(_index: int) -> None:
        with session_scope(factory) as session:
            opened.append(
                open_run(
                    session, workflow_id="deal:006A:1", opportunity_id="006A", trigger="poller"
                )
            )

    _race(WORKERS, open_it)
    assert len({run.id for run in opened}) == 1
    assert sorted(run.created for run in opened) == [False] * (WORKERS - 1) + [True]


def test_one_open_error_per_opportunity_under_concurrency(factory: Factory) -> None:
    def fail(index: int) -> None:
        with session_scope(factory) as session:
            failure = Failure("remote_outage", f"503 #{index}")
            record_failure(session, failure, opportunity_id="006A", run_id=f"run-{index}")

    _race(WORKERS, fail)
    with session_scope(factory) as session:
        assert count_errors(session) == 1
        error = active_error(session, "006A")
        assert error is not None
        assert (error.state, error.occurrences) == ("open", WORKERS)


def test_error_lifecycle(factory: Factory) -> None:
    with session_scope(factory) as session:
        run = start_run(session, workflow_id="wf-1", opportunity_id="006A", trigger="poller")
        error = record_failure(
            session, Failure("validation", "name too long"), opportunity_id="006A", run_id=run.id
        )
        finish_run(session, run.id, status="invalid", error_id=error.id)
    with session_scope(factory) as session:
        mark_retrying(session, error.id, "alice")
        again = record_failure(session, Failure("validation", "still"), opportunity_id="006A")
        assert (again.id, again.state, again.occurrences) == (error.id, "open", 2)
    with session_scope(factory) as session:
        resolved = resolve_for_success(session, "006A", run_id="run-ok")
        assert resolved is not None
        assert (resolved.state, resolved.resolved_by) == ("resolved", "system")
    with session_scope(factory) as session:
        fresh = record_failure(session, Failure("auth", "401"), opportunity_id="006A")
        assert fresh.id != error.id
        assert count_errors(session, ErrorFilter(opportunity="006A")) == 2
        stored_run = get_run(session, run.id)
        assert stored_run is not None
        assert stored_run.error_id == error.id


def test_watermark_ends_at_the_latest_value_under_concurrency(factory: Factory) -> None:
    values = [(T0 + timedelta(minutes=7 * i)).isoformat() for i in range(WORKERS)]
    shuffled = values[3:] + values[:3]

    def advance(index: int) -> None:
        with session_scope(factory) as session:
            advance_watermark(session, "poller", shuffled[index])

    _race(WORKERS, advance)
    with session_scope(factory) as session:
        assert get_watermark(session, "poller") == values[-1]
        assert advance_watermark(session, "poller", values[0]) == values[-1]


def test_timestamps_come_back_aware_utc(factory: Factory) -> None:
    tokyo = timezone(timedelta(hours=9))
    received = datetime(2025, 6, 1, 18, 0, tzinfo=tokyo)
    with session_scope(factory) as session:
        run = start_run(
            session, workflow_id="wf", opportunity_id="006A", trigger="api", received_at=received
        )
        finish_run(session, run.id, status="synced", finished_at=received + timedelta(seconds=2))
        create_user(session, "alice", "hash", "viewer")
    with session_scope(factory) as session:
        stored = get_run(session, run.id)
        assert stored is not None
        for value in (stored.received_at, stored.finished_at, stored.started_at):
            assert value is not None
            assert value.tzinfo is UTC
        assert stored.received_at == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
        assert stored.latency_ms == 2000
        user = get_user(session, "alice")
        assert user is not None
        assert user.created_at.tzinfo is UTC
        assert [r.id for r in list_runs(session)] == [run.id]
        assert latency_percentiles(session, since=T0 - timedelta(hours=1)) == {
            50.0: 2000.0,
            95.0: 2000.0,
        }


def test_id_map_round_trip(factory: Factory) -> None:
    keys = [RecordKey("customer", f"SFACC-{i:03d}") for i in range(50)]
    writes = [
        SyncedWrite(
            key=key,
            group="entity",
            netsuite_id=str(1000 + i),
            payload_hash=payload_hash({"companyName": f"Acme {i}", "credit": 10.0}),
            opportunity_id="006A",
            source=SourceRecord("Account", f"001{i:03d}"),
            flow="cpq_closed_won",
        )
        for i, key in enumerate(keys)
    ]
    with session_scope(factory) as session:
        upsert_synced(session, writes, run_id="r1", at=T0)
        upsert_synced(session, writes[:10], run_id="r2", at=T0 + timedelta(hours=1))
    with session_scope(factory) as session:
        found = get_synced(session, keys)
        assert len(found) == 50
        assert found[keys[0]].last_run_id == "r2"
        assert found[keys[0]].last_synced_at == T0 + timedelta(hours=1)
        assert found[keys[20]].last_run_id == "r1"
        assert is_unchanged(session, keys[5], payload_hash({"credit": 10, "companyName": "Acme 5"}))
        assert len(list_synced(session, prefix="SFACC-", limit=100)) == 50


def test_api_calls_and_json_round_trip(factory: Factory) -> None:
    graph = {"Opportunity": {"Id": "006A", "Amount": 1200.5, "Lines": [{"Qty": 3}]}, "ü": "é"}
    with session_scope(factory) as session:
        run = start_run(
            session, workflow_id="wf", opportunity_id="006A", trigger="replay", deal_graph=graph
        )
        record_calls(
            session,
            run.id,
            [CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", 204, 31.5)] * 3,
            at=T0,
        )
    with session_scope(factory) as session:
        stored = get_run(session, run.id)
        assert stored is not None
        assert stored.deal_graph == graph
        calls = calls_for_run(session, run.id)
        assert [(c.status, c.duration_ms, c.at) for c in calls] == [(204, 31.5, T0)] * 3


def test_deleting_a_failed_runs_error_keeps_the_run(factory: Factory) -> None:
    with session_scope(factory) as session:
        run = start_run(session, workflow_id="wf", opportunity_id="006A", trigger="poller")
        error = record_failure(session, Failure("bug", "boom"), opportunity_id="006A")
        finish_run(session, run.id, status="failed", error_id=error.id)
    with session_scope(factory) as session:
        session.delete(session.get_one(SyncError, error.id))
    with session_scope(factory) as session:
        stored = get_run(session, run.id)
        assert stored is not None
        assert stored.error_id is None
