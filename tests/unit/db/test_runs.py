"""Run history: idempotent start, outcome, filters, and the dashboard's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import LedgerError, NotInLedgerError
from dealbridge.db.runs import (
    RunFilter,
    count_runs,
    counts_by_hour,
    finish_run,
    get_run,
    get_run_by_workflow,
    latency_percentiles,
    list_runs,
    mark_running,
    start_run,
)

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def _start(
    session: Session,
    opportunity: str = "006A",
    *,
    workflow_id: str | None = None,
    trigger: str = "outbound_message",
    received_at: datetime = T0,
) -> str:
    run = start_run(
        session,
        workflow_id=workflow_id or f"deal:{opportunity}:{T0.isoformat()}",
        opportunity_id=opportunity,
        trigger=trigger,
        received_at=received_at,
    )
    return run.id


def test_start_run_records_the_trigger(session: Session) -> None:
    run = start_run(
        session,
        workflow_id="deal:006A:2025-06-01T09:00:00Z",
        opportunity_id="006A",
        account_id="001A",
        trigger="outbound_message",
        trigger_ref="04l000000000001",
        system_modstamp=T0,
        flow="cpq_closed_won",
        flow_version=3,
        received_at=T0,
    )
    assert run.status == "queued"
    assert run.received_at == T0
    assert run.system_modstamp == T0
    assert run.step_timings == []
    assert run.api_calls == {}
    assert len(run.id) == 36


def test_start_run_is_idempotent_on_workflow_id(session: Session) -> None:
    first = _start(session)
    second = start_run(
        session,
        workflow_id=f"deal:006A:{T0.isoformat()}",
        opportunity_id="006A",
        trigger="poller",
        received_at=T0 + timedelta(minutes=5),
    )
    assert second.id == first
    assert second.trigger == "outbound_message"  # the first notification wins
    assert count_runs(session) == 1


def test_start_run_refuses_unknown_trigger(session: Session) -> None:
    with pytest.raises(LedgerError, match="unknown trigger 'carrier_pigeon'"):
        start_run(session, workflow_id="w", opportunity_id="006A", trigger="carrier_pigeon")


def test_mark_running_then_finish(session: Session) -> None:
    run_id = _start(session)
    running = mark_running(
        session, run_id, started_at=T0 + timedelta(seconds=2), deal_graph={"Id": "006A"}
    )
    assert running.status == "running"
    assert running.deal_graph == {"Id": "006A"}
    timings = [{"step": "extract", "started_at": T0.isoformat(), "duration_ms": 120}]
    calls = {"netsuite": {"total": 7, "writes": 6, "by_status": {"200": 7}}}
    done = finish_run(
        session,
        run_id,
        status="synced",
        finished_at=T0 + timedelta(seconds=3, milliseconds=250),
        step_timings=timings,
        api_calls=calls,
        records_written=6,
        records_unchanged=1,
        plan={"operations": 7},
    )
    assert done.status == "synced"
    assert done.latency_ms == 3250  # from the trigger, not from the start
    assert done.started_at == T0 + timedelta(seconds=2)
    assert (done.step_timings, done.api_calls) == (timings, calls)
    assert (done.records_written, done.records_unchanged) == (6, 1)
    assert done.plan == {"operations": 7}


def test_finish_run_twice_is_harmless(session: Session) -> None:
    run_id = _start(session)
    end = T0 + timedelta(seconds=1)
    finish_run(session, run_id, status="unchanged", finished_at=end, records_unchanged=5)
    again = finish_run(session, run_id, status="unchanged", finished_at=end, records_unchanged=5)
    assert (again.status, again.latency_ms, again.records_unchanged) == ("unchanged", 1000, 5)


def test_mark_running_leaves_a_finished_run_alone(session: Session) -> None:
    run_id = _start(session)
    finish_run(session, run_id, status="failed", finished_at=T0 + timedelta(seconds=1))
    assert mark_running(session, run_id).status == "failed"


def test_finish_run_refuses_non_final_status(session: Session) -> None:
    run_id = _start(session)
    with pytest.raises(LedgerError, match="unknown finished status 'running'"):
        finish_run(session, run_id, status="running")


def test_missing_runs(session: Session) -> None:
    assert get_run(session, "nope") is None
    assert get_run_by_workflow(session, "nope") is None
    with pytest.raises(NotInLedgerError, match="no run with id nope"):
        finish_run(session, "nope", status="synced")
    with pytest.raises(NotInLedgerError):
        mark_running(session, "nope")


def test_get_run_by_id_and_workflow(session: Session) -> None:
    run_id = _start(session, workflow_id="deal:006B:x", opportunity="006B")
    assert get_run(session, run_id) is get_run_by_workflow(session, "deal:006B:x")


def _history(session: Session) -> dict[str, str]:
    ids = {}
    for index, (opportunity, trigger, status) in enumerate(
        [
            ("006A", "outbound_message", "synced"),
            ("006A", "retry", "failed"),
            ("006B", "poller", "synced"),
            ("006C", "manual", "invalid"),
            ("006D", "backfill", "unchanged"),
        ]
    ):
        received = T0 + timedelta(minutes=10 * index)
        run_id = _start(
            session, opportunity, workflow_id=f"wf-{index}", trigger=trigger, received_at=received
        )
        finish_run(
            session,
            run_id,
            status=status,
            finished_at=received + timedelta(milliseconds=1000 * (index + 1)),
        )
        ids[f"{opportunity}/{trigger}"] = run_id
    return ids


def test_list_runs_filters_and_pages(session: Session) -> None:
    ids = _history(session)
    newest_first = [run.workflow_id for run in list_runs(session)]
    assert newest_first == ["wf-4", "wf-3", "wf-2", "wf-1", "wf-0"]
    assert {r.id for r in list_runs(session, RunFilter(status="synced"))} == {
        ids["006A/outbound_message"],
        ids["006B/poller"],
    }
    assert [r.trigger for r in list_runs(session, RunFilter(opportunity="006A"))] == [
        "retry",
        "outbound_message",
    ]
    assert [r.id for r in list_runs(session, RunFilter(trigger="manual"))] == [ids["006C/manual"]]
    window = RunFilter(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=30))
    assert [r.workflow_id for r in list_runs(session, window)] == ["wf-2", "wf-1"]
    assert [r.workflow_id for r in list_runs(session, limit=2, offset=1)] == ["wf-3", "wf-2"]
    assert count_runs(session, RunFilter(status="synced")) == 2
    assert count_runs(session) == 5


def test_latency_percentiles_of_successful_runs(session: Session) -> None:
    _history(session)  # successful latencies: 1000, 3000, 5000 ms
    figures = latency_percentiles(session, since=T0)
    assert figures == {50.0: 3000.0, 95.0: pytest.approx(4800.0)}
    assert latency_percentiles(session, since=T0, percentiles=(100.0,)) == {100.0: 5000.0}
    assert latency_percentiles(session, since=T0 + timedelta(days=1)) == {50.0: None, 95.0: None}


def test_counts_by_hour_fills_every_hour(session: Session) -> None:
    _history(session)
    late = _start(session, "006E", workflow_id="wf-late", received_at=T0 + timedelta(hours=2))
    finish_run(session, late, status="failed", finished_at=T0 + timedelta(hours=2, minutes=5))
    hours = counts_by_hour(session, since=T0 + timedelta(minutes=5), until=T0 + timedelta(hours=3))
    assert [h.hour for h in hours] == [T0 + timedelta(hours=i) for i in range(4)]
    assert hours[0].counts == {"synced": 2, "failed": 1, "invalid": 1, "unchanged": 1}
    assert hours[1].counts == {}
    assert hours[2].counts == {"failed": 1}
    assert all(h.hour.tzinfo is UTC for h in hours)


def test_naive_filters_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="since must be timezone-aware"):
        list_runs(session, RunFilter(since=datetime(2025, 1, 1)))
