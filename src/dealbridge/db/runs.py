"""Run history: one row per deal workflow, from trigger to outcome.

A run is keyed by its workflow id (``deal:<OpportunityId>:<SystemModstamp>``), so recording the
start is idempotent: a repeated notification, or a step replayed after a crash, finds the row
already there. The dashboard's figures (latency percentiles, deals per hour) are computed here
from the same rows the run list shows.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Select, Table, bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from dealbridge.db.dialect import Executor, dialect_name, upsert_insert_for
from dealbridge.db.ledger_errors import LedgerError, NotInLedgerError
from dealbridge.db.models import FINISHED_STATUSES, RUN_STATUSES, TRIGGERS, Run
from dealbridge.db.timestamps import ensure_aware, utc_now

SUCCESS_STATUSES = ("synced", "unchanged")
# The table itself, for the engine's statements that need no entity (``open_run``).
_RUNS = cast(Table, Run.__table__)

# The engine's statements, built once with their values bound at execution: every deal runs
# each of them, and building a statement and its cache key again cost about as much CPU as
# running it (issue 8). An UPDATE's SET list is the execution's column keys.
_RUN_ID_OF_WORKFLOW = select(_RUNS.c.id).where(_RUNS.c.workflow_id == bindparam("workflow"))
_RUN_TIMES = select(_RUNS.c.received_at, _RUNS.c.started_at).where(_RUNS.c.id == bindparam("run"))
_UPDATE_RUN = _RUNS.update().where(_RUNS.c.id == bindparam("run"))
_MARK_RUNNING = (
    _RUNS.update()
    .where(_RUNS.c.id == bindparam("run"), _RUNS.c.status.not_in(FINISHED_STATUSES))
    # Typed as the column, so the value is stored as every other timestamp is (UtcDateTime).
    .values(
        started_at=func.coalesce(
            _RUNS.c.started_at, bindparam("started", type_=_RUNS.c.started_at.type)
        )
    )
)


@dataclass(frozen=True)
class RunFilter:
    """The run list's filters; ``None`` means "any". Time bounds apply to ``received_at``."""

    status: str | None = None
    opportunity: str | None = None
    trigger: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class OpenedRun(NamedTuple):
    """The run of a workflow id, and whether this call created it (``open_run``)."""

    id: str
    created: bool


@dataclass(frozen=True)
class HourCount:
    """Runs finished in one hour (UTC), by status."""

    hour: datetime
    counts: dict[str, int] = field(default_factory=dict)


def start_run(
    session: Session,
    *,
    workflow_id: str,
    opportunity_id: str,
    trigger: str,
    account_id: str | None = None,
    trigger_ref: str | None = None,
    system_modstamp: datetime | None = None,
    flow: str | None = None,
    flow_version: int | None = None,
    received_at: datetime | None = None,
    deal_graph: dict[str, Any] | None = None,
) -> Run:
    """Record that a workflow was queued, or return its run when it already exists.

    Safe under any number of concurrent callers: the insert is ``ON CONFLICT DO NOTHING`` on the
    unique workflow id, so exactly one row exists afterwards and every caller gets it.
    """
    run_id, _created = open_run(
        session,
        workflow_id=workflow_id,
        opportunity_id=opportunity_id,
        trigger=trigger,
        account_id=account_id,
        trigger_ref=trigger_ref,
        system_modstamp=system_modstamp,
        flow=flow,
        flow_version=flow_version,
        received_at=received_at,
        deal_graph=deal_graph,
    )
    return _require(session, run_id)


def open_run(
    session: Executor,
    *,
    workflow_id: str,
    opportunity_id: str,
    trigger: str,
    account_id: str | None = None,
    trigger_ref: str | None = None,
    system_modstamp: datetime | None = None,
    flow: str | None = None,
    flow_version: int | None = None,
    received_at: datetime | None = None,
    deal_graph: dict[str, Any] | None = None,
) -> OpenedRun:
    """``start_run`` for the engine: the run's id, without building the row as an entity.

    Why apart: the engine opens a run for every deal and needs only its id; reading the row
    back as an entity cost it more CPU than the insert (issue 8). Whether the row was already
    there tells the engine a deal is resumed rather than new (``deal_sync``).
    """
    _check(trigger, TRIGGERS, "trigger")
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "workflow_id": workflow_id,
        "opportunity_id": opportunity_id,
        "account_id": account_id,
        "trigger": trigger,
        "trigger_ref": trigger_ref,
        "system_modstamp": system_modstamp,
        "flow": flow,
        "flow_version": flow_version,
        "status": "queued",
        "received_at": ensure_aware(received_at or utc_now(), "received_at"),
        "step_timings": [],
        "api_calls": {},
        "records_written": 0,
        "records_unchanged": 0,
        "deal_graph": deal_graph,
    }
    inserted = session.execute(_open_run_insert(dialect_name(session)), values).scalar()
    if inserted is not None:
        return OpenedRun(str(inserted), True)
    found = session.execute(_RUN_ID_OF_WORKFLOW, {"workflow": workflow_id}).scalar()
    if found is None:  # pragma: no cover - the row was just inserted or already there
        raise LedgerError(f"run for workflow {workflow_id} vanished after insert")
    return OpenedRun(str(found), False)


@functools.cache
def _open_run_insert(dialect: str) -> ReturningInsert[Any]:
    """The run's ``INSERT``: nothing on a repeated workflow id, else the new row's id."""
    insert = upsert_insert_for(dialect, _RUNS)
    return insert.on_conflict_do_nothing(index_elements=["workflow_id"]).returning(_RUNS.c.id)


def mark_running(
    session: Session,
    run_id: str,
    *,
    started_at: datetime | None = None,
    deal_graph: dict[str, Any] | None = None,
    flow: str | None = None,
    flow_version: int | None = None,
) -> Run:
    """Move a queued run to running; a finished run is left as it is (a replayed step)."""
    session.flush()  # the statement below bypasses the session: pending changes go first
    record_running(
        session,
        run_id,
        started_at=started_at,
        deal_graph=deal_graph,
        flow=flow,
        flow_version=flow_version,
    )
    return _require(session, run_id, fresh=True)


def record_running(
    session: Executor,
    run_id: str,
    *,
    started_at: datetime | None = None,
    deal_graph: dict[str, Any] | None = None,
    flow: str | None = None,
    flow_version: int | None = None,
) -> None:
    """``mark_running`` for the engine: one ``UPDATE``, no entity (see ``open_run``)."""
    values: dict[str, Any] = {
        "run": run_id,
        "status": "running",
        "started": ensure_aware(started_at or utc_now(), "started_at"),
    }
    if deal_graph is not None:
        values["deal_graph"] = deal_graph
    if flow:
        values["flow"] = flow
    if flow_version is not None:
        values["flow_version"] = flow_version
    result = cast(CursorResult[Any], session.execute(_MARK_RUNNING, values))
    if result.rowcount == 0:
        _require_row(session, run_id)  # finished already (a replayed step), or missing


def finish_run(
    session: Session,
    run_id: str,
    *,
    status: str,
    finished_at: datetime | None = None,
    step_timings: list[dict[str, Any]] | None = None,
    api_calls: dict[str, Any] | None = None,
    records_written: int = 0,
    records_unchanged: int = 0,
    plan: dict[str, Any] | None = None,
    deal_graph: dict[str, Any] | None = None,
    error_id: int | None = None,
) -> Run:
    """Record a run's outcome; calling it again with the same facts changes nothing.

    ``latency_ms`` is measured from ``received_at`` (the trigger), not ``started_at``: it is the
    wait a finance user sees, queueing included.
    """
    session.flush()  # the statement below bypasses the session: pending changes go first
    record_finish(
        session,
        run_id,
        status=status,
        finished_at=finished_at,
        step_timings=step_timings,
        api_calls=api_calls,
        records_written=records_written,
        records_unchanged=records_unchanged,
        plan=plan,
        deal_graph=deal_graph,
        error_id=error_id,
    )
    return _require(session, run_id, fresh=True)


def record_finish(
    session: Executor,
    run_id: str,
    *,
    status: str,
    finished_at: datetime | None = None,
    step_timings: list[dict[str, Any]] | None = None,
    api_calls: dict[str, Any] | None = None,
    records_written: int = 0,
    records_unchanged: int = 0,
    plan: dict[str, Any] | None = None,
    deal_graph: dict[str, Any] | None = None,
    error_id: int | None = None,
) -> None:
    """``finish_run`` for the engine: two columns read, one ``UPDATE`` (see ``open_run``).

    The deal graph and plan already stored are neither read nor rewritten unless given.
    """
    _check(status, FINISHED_STATUSES, "finished status")
    received_at, started_at = _require_row(session, run_id)
    finished = ensure_aware(finished_at or utc_now(), "finished_at")
    values: dict[str, Any] = {
        "run": run_id,
        "status": status,
        "finished_at": finished,
        "started_at": started_at or finished,
        "latency_ms": max(0, round((finished - received_at).total_seconds() * 1000)),
        "step_timings": list(step_timings or []),
        "api_calls": dict(api_calls or {}),
        "records_written": records_written,
        "records_unchanged": records_unchanged,
        "error_id": error_id,
    }
    if plan is not None:
        values["plan"] = plan
    if deal_graph is not None:
        values["deal_graph"] = deal_graph
    session.execute(_UPDATE_RUN, values)


def get_run(session: Session, run_id: str) -> Run | None:
    """The run with this id, or ``None``."""
    return session.get(Run, run_id)


def get_run_by_workflow(session: Session, workflow_id: str) -> Run | None:
    """The run of this workflow id, or ``None``."""
    return session.scalars(select(Run).where(Run.workflow_id == workflow_id)).one_or_none()


def list_runs(
    session: Session, filters: RunFilter | None = None, *, limit: int = 50, offset: int = 0
) -> list[Run]:
    """Runs matching ``filters``, newest trigger first."""
    query = _filtered(select(Run), filters or RunFilter())
    query = query.order_by(Run.received_at.desc(), Run.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def count_runs(session: Session, filters: RunFilter | None = None) -> int:
    """How many runs match ``filters`` (the run list's pager)."""
    query = _filtered(select(func.count()).select_from(Run), filters or RunFilter())
    return int(session.scalar(query) or 0)


def latency_percentiles(
    session: Session,
    since: datetime,
    percentiles: tuple[float, ...] = (50.0, 95.0),
    statuses: tuple[str, ...] = SUCCESS_STATUSES,
) -> dict[float, float | None]:
    """Trigger → done latency (ms) of runs finished since ``since``, by percentile.

    Computed in Python with linear interpolation: SQLite has no ``percentile_cont`` and a
    dashboard window holds few enough runs to read one integer column of each.
    """
    query = select(Run.latency_ms).where(
        Run.finished_at >= ensure_aware(since, "since"),
        Run.status.in_(statuses),
        Run.latency_ms.is_not(None),
    )
    values = sorted(int(value) for value in session.scalars(query) if value is not None)
    return {p: _percentile(values, p) for p in percentiles}


def counts_by_hour(
    session: Session, since: datetime, until: datetime | None = None
) -> list[HourCount]:
    """Finished runs per UTC hour and status, with an entry (maybe empty) for every hour.

    Bucketed in Python so the hour is the same on both engines (no ``date_trunc`` on SQLite).
    """
    start = _hour(ensure_aware(since, "since"))
    end = _hour(ensure_aware(until or utc_now(), "until"))
    query = select(Run.finished_at, Run.status).where(
        Run.finished_at >= start, Run.finished_at < end + timedelta(hours=1)
    )
    buckets: dict[datetime, Counter[str]] = {}
    for finished_at, status in session.execute(query):
        if finished_at is not None:
            buckets.setdefault(_hour(finished_at), Counter())[status] += 1
    hours = int((end - start) / timedelta(hours=1)) + 1
    slots = (start + timedelta(hours=i) for i in range(hours))
    return [HourCount(slot, dict(buckets.get(slot, Counter()))) for slot in slots]


def _filtered(query: Select[Any], filters: RunFilter) -> Select[Any]:
    if filters.status is not None:
        query = query.where(Run.status == filters.status)
    if filters.opportunity is not None:
        query = query.where(Run.opportunity_id == filters.opportunity)
    if filters.trigger is not None:
        query = query.where(Run.trigger == filters.trigger)
    if filters.since is not None:
        query = query.where(Run.received_at >= ensure_aware(filters.since, "since"))
    if filters.until is not None:
        query = query.where(Run.received_at < ensure_aware(filters.until, "until"))
    return query


def _require(session: Session, run_id: str, *, fresh: bool = False) -> Run:
    run = session.get(Run, run_id, populate_existing=fresh)
    if run is None:
        raise NotInLedgerError(f"no run with id {run_id}")
    return run


def _require_row(session: Executor, run_id: str) -> tuple[datetime, datetime | None]:
    """``(received_at, started_at)`` of the run, or ``NotInLedgerError``."""
    row = session.execute(_RUN_TIMES, {"run": run_id}).one_or_none()
    if row is None:
        raise NotInLedgerError(f"no run with id {run_id}")
    return row[0], row[1]


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise LedgerError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


def _hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _percentile(values: list[int], percentile: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    position = (len(values) - 1) * percentile / 100.0
    lower = int(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


__all__ = [
    "RUN_STATUSES",
    "HourCount",
    "RunFilter",
    "count_runs",
    "counts_by_hour",
    "finish_run",
    "get_run",
    "get_run_by_workflow",
    "latency_percentiles",
    "list_runs",
    "mark_running",
    "start_run",
]
