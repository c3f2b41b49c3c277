"""Backfill: bring the history of won deals across, through the same workflow as live deals.

``run_backfill`` pages through the won opportunities of a ``CloseDate`` window in
``(CloseDate, Id)`` order (``reconcile_fetch.won_page``: one SOQL call per page) and queues each
deal with trigger ``backfill`` — the workflow id ``deal:<Id>:<SystemModstamp>`` of a live sync,
so a deal the live sync already took is not taken twice. Budgets:

- Salesforce: before every page the usage guard must allow ``backfill`` work
  (``limits.ApiUsage.guard``). Above the share kept for live deals it raises, and the backfill
  *pauses*: it stops queueing, waits for what it queued, and says so; running the same command
  later resumes from the cursor.
- NetSuite: nothing is written here. The ``deals`` queue runs the deals with its global
  concurrency, so a backfill shares NetSuite's concurrency budget with live deals.

Resumable: after each page is durably queued, the cursor (the page's last ``(CloseDate, Id)``)
moves forward in the ledger's ``watermarks`` table under ``backfill:<since>:<until>``. A killed
backfill resumes after the last page it finished queueing; the deals of a page queued but not
yet marked are queued again under the same workflow ids, which DBOS treats as no-ops.

Skipped without being queued (so without a run and without NetSuite calls): a deal this backfill
already queued (a run with ``trigger_ref`` = the job name), a deal whose ``SystemModstamp`` is
the one our own write-back produced (it was synced and nothing changed since), and a deal whose
workflow already has a run. A deal queued whose records have not changed is written nowhere:
the workflow's payload hashes skip every unchanged record.

The summary counts outcomes read from the ledger's runs (``reconcile_ledger.wait_for_runs``):
synced, unchanged, failed with reasons. ``dry_run_backfill`` plans each page instead and diffs
it against NetSuite (``mapping.preview``), writing nothing — not even the cursor.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.limits import API_USAGE_GUARD, WorkKind
from dealbridge.db.models import Run, Watermark
from dealbridge.db.timestamps import utc_now
from dealbridge.errors import RateLimitedError
from dealbridge.mapping.current_state import read_current_state
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import TableCache, load_lookups
from dealbridge.mapping.preview import preview_from_snapshot
from dealbridge.sync.ledger import WRITE_BACK_WATERMARK, Ledger
from dealbridge.sync.reconcile import Enqueue
from dealbridge.sync.reconcile_fetch import (
    Cursor,
    Window,
    WonDeal,
    count_won,
    fetch_graphs,
    won_page,
)
from dealbridge.sync.reconcile_ledger import RunOutcome, wait_for_runs
from dealbridge.sync.stamps import salesforce_instant
from dealbridge.sync.triggers import trigger_info, workflow_id_for

TRIGGER = "backfill"
WORK: WorkKind = "backfill"  # what the Salesforce usage guard is asked about
JOB_PREFIX = "backfill:"
PAGE_SIZE = 200


class BackfillProgress(Protocol):
    """What a progress display is told (the CLI draws a Rich bar; tests record it)."""

    def started(self, total: int) -> None:
        """``total`` deals are left in the window."""

    def listed(self, count: int) -> None:
        """``count`` more deals were queued or skipped."""

    def finished(self, count: int) -> None:
        """``count`` queued deals have an outcome so far (a running total)."""


class _Silent:
    def started(self, total: int) -> None:
        return None

    def listed(self, count: int) -> None:
        return None

    def finished(self, count: int) -> None:
        return None


@dataclass
class BackfillSummary:
    """What a backfill did, for the terminal and ``--json``."""

    job: str
    total: int = 0
    queued: int = 0
    skipped: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str | None]] = field(default_factory=list)
    paused: str | None = None
    cursor: str | None = None
    job_totals: dict[str, int] = field(default_factory=dict)

    def record(self, outcomes: Iterable[RunOutcome]) -> None:
        """Count outcomes; keep each failure's reason."""
        for outcome in outcomes:
            self.outcomes[outcome.status] += 1
            if outcome.status in ("failed", "invalid"):
                self.failures.append(
                    {"opportunity": outcome.opportunity_id, "reason": outcome.reason}
                )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "job": self.job,
            "total": self.total,
            "queued": self.queued,
            "skipped": self.skipped,
            "outcomes": dict(self.outcomes),
            "failures": self.failures,
            "paused": self.paused,
            "cursor": self.cursor,
            "job_totals": self.job_totals,
        }


def job_name(window: Window) -> str:
    """``backfill:<since>:<until>``: the cursor's name and every run's ``trigger_ref``."""
    return JOB_PREFIX + window.label()


async def run_backfill(
    salesforce: SalesforceClient,
    ledger: Ledger,
    enqueue: Enqueue,
    window: Window,
    *,
    progress: BackfillProgress | None = None,
    page_size: int = PAGE_SIZE,
    from_start: bool = False,
    wait_seconds: float | None = None,
) -> BackfillSummary:
    """Queue every won deal of the window not yet handled, then wait for their outcomes."""
    shown = progress or _Silent()
    job = job_name(window)
    if from_start:
        await asyncio.to_thread(save_cursor, ledger, job, None)
    cursor = await asyncio.to_thread(read_cursor, ledger, job)
    summary = BackfillSummary(job, cursor=cursor.text() if cursor else None)
    salesforce.guard(WORK)
    summary.total = await count_won(salesforce, window, cursor)
    shown.started(summary.total)
    queued: list[str] = []
    try:
        while True:
            salesforce.guard(WORK)
            page = await won_page(salesforce, window, cursor, page_size)
            if not page:
                break
            queued += await _queue_page(page, ledger, enqueue, job, summary)
            cursor = page[-1].cursor
            await asyncio.to_thread(save_cursor, ledger, job, cursor)
            summary.cursor = cursor.text()
            shown.listed(len(page))
            if len(page) < page_size:
                break
    except RateLimitedError as error:
        if error.code != API_USAGE_GUARD:
            raise
        summary.paused = f"{error.user_message}; run the same command later to resume"
    done = await wait_for_runs(ledger, queued, timeout=wait_seconds, on_progress=shown.finished)
    summary.record(done.values())
    summary.job_totals = await asyncio.to_thread(job_totals, ledger, job)
    return summary


async def _queue_page(
    page: list[WonDeal], ledger: Ledger, enqueue: Enqueue, job: str, summary: BackfillSummary
) -> list[str]:
    handled = await asyncio.to_thread(already_handled, ledger, page, job)
    queued = []
    for deal in page:
        if deal.opportunity_id in handled:
            summary.skipped += 1
            continue
        workflow_id = workflow_id_for(deal.opportunity_id, deal.system_modstamp)
        info = trigger_info(
            TRIGGER,
            account_id=deal.account_id,
            system_modstamp=deal.system_modstamp,
            trigger_ref=job,
        )
        await enqueue(workflow_id, deal.opportunity_id, info)
        queued.append(workflow_id)
        summary.queued += 1
    return queued


def already_handled(ledger: Ledger, page: list[WonDeal], job: str) -> set[str]:
    """The page's deals not to queue again (module docstring: skipped)."""
    ids = [deal.opportunity_id for deal in page]
    workflows = {workflow_id_for(deal.opportunity_id, deal.system_modstamp): deal for deal in page}
    marks = [WRITE_BACK_WATERMARK + identifier for identifier in ids]
    with ledger.session() as session:
        by_job = session.scalars(
            select(Run.opportunity_id).where(Run.trigger_ref == job, Run.opportunity_id.in_(ids))
        )
        handled = set(by_job)
        started = session.scalars(select(Run.workflow_id).where(Run.workflow_id.in_(workflows)))
        handled.update(workflows[workflow_id].opportunity_id for workflow_id in started)
        rows = session.execute(
            select(Watermark.name, Watermark.value).where(Watermark.name.in_(marks))
        )
        own = {name.removeprefix(WRITE_BACK_WATERMARK): value for name, value in rows}
    for deal in page:
        stamp = own.get(deal.opportunity_id)
        if stamp is not None and salesforce_instant(stamp) == salesforce_instant(
            deal.system_modstamp
        ):
            handled.add(deal.opportunity_id)
    return handled


def read_cursor(ledger: Ledger, job: str) -> Cursor | None:
    """Where the job stopped, or None before its first page."""
    with ledger.session() as session:
        row = session.get(Watermark, job)
        return Cursor.parse(row.value) if row is not None else None


def save_cursor(ledger: Ledger, job: str, cursor: Cursor | None) -> None:
    """Move the job's cursor forward (never back); None forgets it (``--from-start``).

    Written directly as a ``watermarks`` row: ``db.watermarks`` only stores instants, and a
    cursor is ``<CloseDate>/<Id>`` (still far within the row's 64 characters).
    """
    with ledger.session() as session:
        row = session.get(Watermark, job)
        if cursor is None:
            if row is not None:
                session.delete(row)
            return
        if row is None:
            session.add(Watermark(name=job, value=cursor.text(), updated_at=utc_now()))
        elif Cursor.parse(row.value) < cursor:
            row.value, row.updated_at = cursor.text(), utc_now()


def job_totals(ledger: Ledger, job: str) -> dict[str, int]:
    """Runs of the whole job (every invocation) by status."""
    with ledger.session() as session:
        statuses = session.scalars(select(Run.status).where(Run.trigger_ref == job))
        return dict(Counter(statuses))


@dataclass
class DryRunSummary:
    """What a backfill would do: per action, the records and the deals concerned."""

    total: int = 0
    records: Counter[str] = field(default_factory=Counter)
    deals: Counter[str] = field(default_factory=Counter)
    blocked: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "total": self.total,
            "records": dict(self.records),
            "deals": dict(self.deals),
            "blocked": self.blocked,
        }


async def dry_run_backfill(
    salesforce: SalesforceClient,
    netsuite: NetSuiteClient,
    engine: FlowEngine,
    window: Window,
    *,
    multi_currency: bool = True,
    cache: TableCache | None = None,
    progress: BackfillProgress | None = None,
    page_size: int = PAGE_SIZE,
) -> DryRunSummary:
    """Plan every won deal of the window and diff it against NetSuite; writes nothing.

    Per page: the graphs in bulk, one plan per deal, then what NetSuite holds for every planned
    record of the page at once (``current_state``: a SuiteQL query per type, a GET per record
    that exists), so a deal of new history costs no NetSuite call of its own.
    """
    shown = progress or _Silent()
    summary = DryRunSummary()
    salesforce.guard(WORK)
    summary.total = await count_won(salesforce, window)
    shown.started(summary.total)
    lookups = await load_lookups(engine.flow, netsuite, cache=cache)
    cursor: Cursor | None = None
    while True:
        salesforce.guard(WORK)
        page = await won_page(salesforce, window, cursor, page_size)
        if not page:
            break
        batch = await fetch_graphs(
            salesforce, [deal.opportunity_id for deal in page], multi_currency=multi_currency
        )
        plans = [engine.plan(batch.graphs[d.opportunity_id], lookups) for d in page
                 if d.opportunity_id in batch.graphs]  # fmt: skip
        for opportunity_id, problem in batch.problems.items():
            summary.blocked.append({"opportunity": opportunity_id, "reason": problem})
        keys = [operation.key for plan in plans if plan.ok for operation in plan.operations]
        state = await read_current_state(netsuite, keys)
        for plan in plans:
            _count_plan(plan, state.records, summary)
        cursor = page[-1].cursor
        shown.listed(len(page))
        if len(page) < page_size:
            break
    return summary


def _count_plan(plan: Any, records: dict[Any, dict[str, Any]], summary: DryRunSummary) -> None:
    if not plan.ok:
        reasons = "; ".join(violation.message for violation in plan.errors)
        summary.blocked.append({"opportunity": plan.opportunity_id, "reason": reasons})
        summary.deals["blocked"] += 1
        return
    counts = preview_from_snapshot(plan, records).counts()
    summary.records.update(counts)
    action = "create" if counts["create"] else "update" if counts["update"] else "unchanged"
    summary.deals[action] += 1


__all__ = [
    "BackfillProgress",
    "BackfillSummary",
    "DryRunSummary",
    "dry_run_backfill",
    "job_name",
    "run_backfill",
]
