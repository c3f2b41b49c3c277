"""The call log of each run: every Salesforce and NetSuite request, already redacted.

Connectors report ``CallRecord`` values through ``dealbridge.core.calls`` (where redaction
happens, bodies included: they arrive masked and cut to a bounded size); the engine collects a
run's records and stores them here in one bulk insert, and keeps a per-system summary on the run
itself so the run list never has to count rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from dealbridge.core.calls import CallRecord
from dealbridge.db.dialect import Executor
from dealbridge.db.models import ApiCall
from dealbridge.db.timestamps import ensure_aware, utc_now

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_RESPONSE = "none"
_API_CALLS = cast(Table, ApiCall.__table__)
# Built once (``runs``): every step of every deal stores its calls, every run counts them.
_INSERT_CALLS = insert(_API_CALLS)
_CALLS_OF_RUN = select(
    _API_CALLS.c.system,
    _API_CALLS.c.method,
    _API_CALLS.c.path,
    _API_CALLS.c.status,
    _API_CALLS.c.duration_ms,
).where(_API_CALLS.c.run_id == bindparam("run"))


def record_calls(
    session: Executor, run_id: str, records: Sequence[CallRecord], *, at: datetime | None = None
) -> int:
    """Store a run's calls in one statement; returns how many were stored.

    A record's time is ``extra["at"]`` when the connector put one there (aware datetime or ISO
    text), else ``at`` (default now): ``CallRecord`` carries durations, not timestamps.
    """
    if not records:
        return 0
    default_at = ensure_aware(at or utc_now(), "at")
    rows = [_row(run_id, record, default_at) for record in records]
    # Into the table, not the entity: the ORM's bulk insert handles each row in Python first,
    # which cost more CPU than the insert itself on every step of every deal (issue 8).
    session.execute(_INSERT_CALLS, rows)
    return len(rows)


def calls_for_run(session: Session, run_id: str) -> list[ApiCall]:
    """A run's calls in the order they were made."""
    query = select(ApiCall).where(ApiCall.run_id == run_id).order_by(ApiCall.at, ApiCall.id)
    return list(session.scalars(query))


def call_records_for_run(session: Executor, run_id: str) -> list[CallRecord]:
    """A run's calls as ``CallRecord``s of what ``call_counts`` reads, without loading rows.

    Columns rather than ORM objects: counted at the end of every run, where building each
    stored call as an entity cost more CPU than the query (issue 8).
    """
    return [CallRecord(*row) for row in session.execute(_CALLS_OF_RUN, {"run": run_id})]


def call_counts(records: Sequence[CallRecord]) -> dict[str, Any]:
    """The run's ``api_calls`` summary: per system, total, writes and counts by status.

    Statuses are strings (JSON object keys); a call that got no response counts as ``"none"``.
    """
    summary: dict[str, Any] = {}
    for record in records:
        system = summary.setdefault(record.system, {"total": 0, "writes": 0, "by_status": {}})
        system["total"] += 1
        system["writes"] += record.method.upper() in WRITE_METHODS
        status = NO_RESPONSE if record.status is None else str(record.status)
        system["by_status"][status] = system["by_status"].get(status, 0) + 1
    return summary


def _row(run_id: str, record: CallRecord, default_at: datetime) -> dict[str, Any]:
    extra = {key: value for key, value in record.extra.items() if key != "at"}
    return {
        "run_id": run_id,
        "system": record.system,
        "method": record.method.upper(),
        "path": record.path,
        "status": record.status,
        "duration_ms": float(record.duration_ms),
        "error_code": record.error_code,
        "request_id": record.request_id,
        "attempt": record.attempt,
        "at": _call_time(record.extra.get("at"), default_at),
        "extra": extra or None,
        "request_body": record.request_body,
        "response_body": record.response_body,
    }


def _call_time(value: Any, default: datetime) -> datetime:
    if isinstance(value, datetime):
        return ensure_aware(value, "extra.at")
    if isinstance(value, str):
        return ensure_aware(datetime.fromisoformat(value), "extra.at")
    return default
