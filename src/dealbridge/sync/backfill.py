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

Resumable: the cursor (a page's last ``(CloseDate, Id)``) moves forward in the ledger's
``watermarks`` table, under ``backfill:<since>:<until>``, once *every* deal of that page and the
pages before it has an outcome. A killed backfill therefore re-reads only pages it had not
finished; on them, a deal this job already queued is waited for, not queued again (its run, or
its unchanged workflow id, names it) — and the worker that restarts finishes it from its last
step (DBOS recovery). At most ``ahead`` deals wait for an outcome at a time, so the queue is fed
as it drains rather than flooded.

Skipped without being queued (so without a run and without NetSuite calls): a deal this backfill
already finished, a deal whose ``SystemModstamp`` is the one our own write-back produced (it was
synced and nothing changed since), and a deal whose workflow already has a run (e.g. from the
live sync). A deal queued whose records have not changed is written nowhere: the workflow's
payload hashes skip every unchanged record.

The summary counts outcomes read from the ledger's runs (``reconcile_ledger.finished_runs``):
synced, unchanged, failed with reasons. ``dry_run_backfill`` plans each page instead and diffs
it against NetSuite (``mapping.preview``), writing nothing — not even the cursor.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.limits import API_USAGE_GUARD, WorkKind
from dealbridge.core.records import RecordKey, SyncPlan
from dealbridge.errors import RateLimitedError
from dealbridge.mapping.current_state import read_current_state
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import TableCache, load_lookups
from dealbridge.mapping.preview import preview_from_snapshot
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile import Enqueue
from dealbridge.sync.reconcile_fetch import (
    Cursor,
    Window,
    WonDeal,
    count_won,
    fetch_graphs,
    won_page,
)
from dealbridge.sync.reconcile_ledger import (
    POLL_SECONDS,
    RunOutcome,
    finished_runs,
    job_totals,
    read_cursor,
    save_cursor,
    triage,
)
from dealbridge.sync.triggers import trigger_info, workflow_id_for

TRIGGER = "backfill"
WORK: WorkKind = "backfill"  # what the Salesforce usage guard is asked about
JOB_PREFIX = "backfill:"
PAGE_SIZE = 200
AHEAD = 1000  # deals queued without an outcome at most: the queue is fed, not flooded


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
    unfinished: int = 0

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
            "unfinished": self.unfinished,
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
    ahead: int = AHEAD,
    from_start: bool = False,
    wait_seconds: float | None = None,
) -> BackfillSummary:
    """Queue every won deal of the window not yet handled and wait for their outcomes.

    At most ``ahead`` deals wait for an outcome at a time: the queue is fed, not flooded.
    """
    shown = progress or _Silent()
    job = job_name(window)
    if from_start:
        await asyncio.to_thread(save_cursor, ledger, job, None)
    stored = await asyncio.to_thread(read_cursor, ledger, job)
    cursor = Cursor.parse(stored) if stored else None
    summary = BackfillSummary(job, cursor=stored)
    pipeline = _Pipeline(ledger, job, summary, shown)
    try:
        salesforce.guard(WORK)
        summary.total = await count_won(salesforce, window, cursor)
        shown.started(summary.total)
        while True:
            await pipeline.settle(until_waiting=max(0, ahead - page_size))
            salesforce.guard(WORK)
            page = await won_page(salesforce, window, cursor, page_size)
            if not page:
                break
            await pipeline.add(page, enqueue)
            cursor = page[-1].cursor
            if len(page) < page_size:
                break
    except RateLimitedError as error:
        if error.code != API_USAGE_GUARD:
            raise
        summary.paused = f"{error.user_message}; run the same command later to resume"
    await pipeline.settle(until_waiting=0, timeout=wait_seconds)
    summary.unfinished = pipeline.waiting  # still running after ``wait_seconds``
    summary.job_totals = await asyncio.to_thread(job_totals, ledger, job)
    return summary


@dataclass
class _Page:
    """A page of deals: where it ends, and the workflows still without an outcome."""

    cursor: Cursor
    waiting: set[str]


class _Pipeline:
    """Pages in flight; the cursor moves past a page once all its deals have an outcome."""

    def __init__(
        self, ledger: Ledger, job: str, summary: BackfillSummary, shown: BackfillProgress
    ) -> None:
        self.ledger = ledger
        self.job = job
        self.summary = summary
        self.shown = shown
        self.pages: deque[_Page] = deque()
        self.finished = 0

    @property
    def waiting(self) -> int:
        """Deals queued (or found queued) without an outcome yet."""
        return sum(len(page.waiting) for page in self.pages)

    async def add(self, page: list[WonDeal], enqueue: Enqueue) -> None:
        """Triage and queue one page (``reconcile_ledger.triage``)."""
        deals = [(deal.opportunity_id, deal.system_modstamp) for deal in page]
        ids = [workflow_id_for(opportunity, stamp) for opportunity, stamp in deals]
        decided = await asyncio.to_thread(triage, self.ledger, deals, self.job, ids)
        waiting: set[str] = set()
        for deal, workflow_id in zip(page, ids, strict=True):
            verdict = decided[deal.opportunity_id]
            if verdict.action == "skip":
                self.summary.skipped += 1
            elif verdict.action == "wait" and verdict.workflow_id:
                waiting.add(verdict.workflow_id)
            else:
                await enqueue(workflow_id, deal.opportunity_id, _trigger(deal, self.job))
                waiting.add(workflow_id)
                self.summary.queued += 1
        self.pages.append(_Page(page[-1].cursor, waiting))
        self.shown.listed(len(page))
        await self._advance()

    async def settle(self, *, until_waiting: int, timeout: float | None = None) -> None:
        """Collect outcomes until at most ``until_waiting`` deals wait (or the timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            await self._collect()
            if self.waiting <= until_waiting:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            await asyncio.sleep(POLL_SECONDS)

    async def _collect(self) -> None:
        pending = [workflow_id for page in self.pages for workflow_id in page.waiting]
        if not pending:
            return
        runs = await asyncio.to_thread(finished_runs, self.ledger, pending)
        done = [run for run in runs.values() if run.finished]
        self.summary.record(done)
        finished = {run.workflow_id for run in done}
        for page in self.pages:
            page.waiting -= finished
        self.finished += len(done)
        self.shown.finished(self.finished)
        await self._advance()

    async def _advance(self) -> None:
        """Move the cursor past every leading page that has all its outcomes."""
        moved = None
        while self.pages and not self.pages[0].waiting:
            moved = self.pages.popleft().cursor
        if moved is not None:
            await asyncio.to_thread(save_cursor, self.ledger, self.job, moved.text())
            self.summary.cursor = moved.text()


def _trigger(deal: WonDeal, job: str) -> dict[str, Any]:
    return trigger_info(
        TRIGGER,
        account_id=deal.account_id,
        system_modstamp=deal.system_modstamp,
        trigger_ref=job,
    )


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


def _count_plan(
    plan: SyncPlan, records: Mapping[RecordKey, dict[str, Any]], summary: DryRunSummary
) -> None:
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
