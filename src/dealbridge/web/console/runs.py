"""``/runs`` and ``/runs/{id}``: the run history, and one run with every call it made.

``/runs?status=pending`` is not a ledger status: it lists what the engine holds unfinished —
workflows ``PENDING`` on an executor and deals ``ENQUEUED`` for a worker, with their age and
executor (``engine_work``) — which is where the ``stale_pending`` alert links.

A run's page answers "what happened to this deal?": the step timeline (``runs.step_timings``),
each Salesforce and NetSuite call as recorded (already redacted by the connectors: no headers,
secrets masked in paths, request and response bodies masked and cut to a bounded size, each
call's in a ``<details>`` so the table stays readable), and the records of its plan with the
NetSuite ids the ledger holds for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from dealbridge.connectors.salesforce.models import to_id18
from dealbridge.db import api_calls, runs, synced
from dealbridge.db.models import RUN_STATUSES, TRIGGERS, Run
from dealbridge.settings import NetSuiteSettings
from dealbridge.web.console.common import (
    DEFAULT_PER_PAGE,
    LedgerSession,
    Pager,
    Viewer,
    blank_to_none,
)
from dealbridge.web.console.engine_work import EngineWork, age_text
from dealbridge.web.console.links import record_link
from dealbridge.web.console.services import ConsoleServices, console_services
from dealbridge.web.context import web_context
from dealbridge.web.pages import render

# Ledger rows of one deal read for the records table (a deal plans a few dozen records).
RECORDS_LIMIT = 500
# Not a ledger run status: the engine's unfinished workflows (module docstring).
PENDING = "pending"

router = APIRouter(include_in_schema=False)
Services = Annotated[ConsoleServices, Depends(console_services)]


@dataclass(frozen=True)
class RecordRow:
    """One record of a run's plan, with what the ledger knows of it."""

    record_type: str
    external_id: str
    name: str | None
    netsuite_id: str | None
    written_here: bool
    link: str | None

    @property
    def key(self) -> str:
        """``<type>/<external id>``, as edit-and-retry names a record."""
        return f"{self.record_type}/{self.external_id}"


@router.get("/runs", response_class=HTMLResponse)
def run_list(
    request: Request,
    who: Viewer,
    session: LedgerSession,
    services: Services,
    status: str | None = None,
    trigger: str | None = None,
    opportunity: str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Response:
    """Runs, newest first, filtered by status, trigger and opportunity."""
    if blank_to_none(status) == PENDING:
        return _engine_work_page(request, services)
    problems: list[str] = []
    status = _known(blank_to_none(status), RUN_STATUSES, "status", problems)
    trigger = _known(blank_to_none(trigger), TRIGGERS, "trigger", problems)
    opportunity = _opportunity_id(blank_to_none(opportunity), problems)
    filters = runs.RunFilter(status=status, trigger=trigger, opportunity=opportunity)
    params = {"status": status, "trigger": trigger, "opportunity": opportunity}
    pager = Pager.of(page, per_page, runs.count_runs(session, filters), params)
    rows = runs.list_runs(session, filters, limit=pager.per_page, offset=pager.offset)
    values = {
        "runs": rows,
        "pager": pager,
        "filters": params,
        "statuses": RUN_STATUSES,
        "triggers": TRIGGERS,
        "problems": problems,
        "pending": None,
    }
    return render(request, "console/runs.html", values)


@dataclass(frozen=True)
class EngineRow:
    """One unfinished workflow as the pending list shows it."""

    workflow_id: str
    opportunity_id: str | None
    name: str
    state: str
    executor_id: str | None
    app_version: str | None
    since: datetime
    age: str


def _engine_work_page(request: Request, services: ConsoleServices) -> Response:
    """``/runs?status=pending``: the engine's unfinished workflows, oldest first."""
    work = services.read_engine_work() if services.read_engine_work else EngineWork(readable=False)
    now = web_context(request).clock()
    rows = [
        EngineRow(
            workflow_id=item.workflow_id,
            opportunity_id=item.opportunity_id,
            name=item.name,
            state=item.state,
            executor_id=item.executor_id,
            app_version=item.app_version,
            since=item.since,
            age=age_text(item.age_seconds(now)),
        )
        for item in work.workflows
    ]
    values: dict[str, Any] = {
        "runs": [],
        "pager": None,
        "filters": {"status": PENDING, "trigger": None, "opportunity": None},
        "statuses": RUN_STATUSES,
        "triggers": TRIGGERS,
        "problems": [],
        "pending": {"rows": rows, "more": work.more, "readable": work.readable},
    }
    return render(request, "console/runs.html", values)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_detail(request: Request, run_id: str, who: Viewer, session: LedgerSession) -> Response:
    """One run: steps, calls and records."""
    run = runs.get_run(session, run_id)
    if run is None:
        detail = f"There is no run with id {run_id}."
        return render(request, "message.html", {"title": "Not found", "detail": detail}, 404)
    netsuite = web_context(request).settings.netsuite
    values = {
        "run": run,
        "steps": run.step_timings or [],
        "calls": api_calls.calls_for_run(session, run.id),
        "records": run_records(session, run, netsuite),
    }
    return render(request, "console/run.html", values)


def plan_operations(run: Run | None) -> list[dict[str, Any]]:
    """The operations of a run's stored plan (empty when it has none)."""
    plan = run.plan if run is not None else None
    operations = (plan or {}).get("operations") or []
    return [
        op for op in operations if isinstance(op, dict) and "type" in op and "external_id" in op
    ]


def run_records(session: Session, run: Run, netsuite: NetSuiteSettings) -> list[RecordRow]:
    """The plan's records with their NetSuite ids; without a plan, the deal's ledger rows."""
    rows = synced.list_synced(session, opportunity_id=run.opportunity_id, limit=RECORDS_LIMIT)
    known = {(row.record_type, row.external_id): row for row in rows}
    operations = plan_operations(run)
    keys = [(str(op["type"]), str(op["external_id"])) for op in operations]
    names = {(str(op["type"]), str(op["external_id"])): op.get("name") for op in operations}
    if not keys:
        keys = [(row.record_type, row.external_id) for row in rows]
    records = []
    for record_type, external_id in keys:
        row = known.get((record_type, external_id))
        netsuite_id = row.netsuite_id if row is not None else None
        records.append(
            RecordRow(
                record_type=record_type,
                external_id=external_id,
                name=names.get((record_type, external_id)),
                netsuite_id=netsuite_id,
                written_here=row is not None and row.last_run_id == run.id,
                link=record_link(netsuite, record_type, netsuite_id),
            )
        )
    return records


def _opportunity_id(value: str | None, problems: list[str]) -> str | None:
    """The 18-character id the ledger keys runs by, from the 15 or 18 characters typed."""
    if value is None:
        return None
    try:
        return to_id18(value.strip())
    except ValueError:
        problems.append(
            f"{value[:40]!r} is not a Salesforce id (15 or 18 characters): showing every run."
        )
        return None


def _known(
    value: str | None, allowed: tuple[str, ...], what: str, problems: list[str]
) -> str | None:
    if value is None or value in allowed:
        return value
    problems.append(f"Unknown {what} {value!r}: showing every {what}.")
    return None
