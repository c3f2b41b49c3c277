"""Each run's API calls: bulk insert, read back in order, summarised per system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dealbridge.core.calls import CallRecord
from dealbridge.db.api_calls import call_counts, calls_for_run, record_calls
from dealbridge.db.models import Run
from dealbridge.db.runs import start_run

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def _run(session: Session) -> str:
    return start_run(session, workflow_id="wf", opportunity_id="006A", trigger="manual").id


def _calls() -> list[CallRecord]:
    return [
        CallRecord("salesforce", "GET", "/services/data/v65.0/query?q=***", 200, 80.5),
        CallRecord(
            "netsuite",
            "put",
            "/record/v1/customer/eid:SFACC-001",
            429,
            12.0,
            error_code="CONCURRENCY_LIMIT_EXCEEDED",
            request_id="req-1",
            attempt=1,
            extra={"operation": "PUT customer", "at": (T0 + timedelta(seconds=2)).isoformat()},
        ),
        CallRecord(
            "netsuite",
            "PUT",
            "/record/v1/customer/eid:SFACC-001",
            204,
            30.0,
            attempt=2,
            extra={"at": T0 + timedelta(seconds=3)},
        ),
        CallRecord("netsuite", "POST", "/query/v1/suiteql", None, 5000.0, error_code="timeout"),
    ]


def test_record_and_read_back(session: Session) -> None:
    run_id = _run(session)
    assert record_calls(session, run_id, _calls(), at=T0 + timedelta(seconds=9)) == 4
    stored = calls_for_run(session, run_id)
    assert [(c.system, c.method, c.status) for c in stored] == [
        ("netsuite", "PUT", 429),
        ("netsuite", "PUT", 204),
        ("salesforce", "GET", 200),
        ("netsuite", "POST", None),
    ]
    first = stored[0]
    assert first.at == T0 + timedelta(seconds=2)
    assert first.at.tzinfo is UTC
    assert (first.error_code, first.request_id, first.attempt) == (
        "CONCURRENCY_LIMIT_EXCEEDED",
        "req-1",
        1,
    )
    assert first.extra == {"operation": "PUT customer"}  # "at" moved to its column
    assert stored[2].at == T0 + timedelta(seconds=9)
    assert stored[2].extra is None


def test_nothing_to_record(session: Session) -> None:
    assert record_calls(session, _run(session), []) == 0


def test_calls_of_other_runs_are_not_mixed_in(session: Session) -> None:
    run_id = _run(session)
    other = start_run(session, workflow_id="wf-2", opportunity_id="006B", trigger="manual").id
    record_calls(session, run_id, _calls()[:1])
    record_calls(session, other, _calls()[1:])
    assert len(calls_for_run(session, run_id)) == 1
    assert len(calls_for_run(session, other)) == 3


def test_calls_go_with_their_run(session: Session) -> None:
    run_id = _run(session)
    record_calls(session, run_id, _calls())
    session.execute(delete(Run).where(Run.id == run_id))
    assert calls_for_run(session, run_id) == []


def test_call_counts_summary() -> None:
    assert call_counts(_calls()) == {
        "salesforce": {"total": 1, "writes": 0, "by_status": {"200": 1}},
        "netsuite": {"total": 3, "writes": 3, "by_status": {"429": 1, "204": 1, "none": 1}},
    }
    assert call_counts([]) == {}
