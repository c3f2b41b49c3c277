"""The ledger's part in reconciliation and backfill: stored reports, forgotten hashes, outcomes.

Stored reports. Each reconciliation's JSON document is kept in the ``reconcile_reports`` table
(``db.reconcile_reports``: the console reads ``latest_reports`` for the latest report and its
trend), and the act itself in the audit log (action ``reconcile.report``, target ``reconcile``:
who reconciled, and repaired, when), with the stored report's id, its summary and what it
checked — not the document, which the table holds once (a report of thousands of deals in every
audit entry bloated the log the audit page lists). Items beyond ``MAX_STORED_ITEMS`` are
left out of the stored copies (``items_truncated`` says how many); the summary always counts
them all. ``latest_report`` and ``report_history`` read the table back.

Forgotten hashes. A record edited or deleted directly in NetSuite still has its ledger row, whose
payload hash says "already written": the workflow would skip it. ``--repair`` deletes the rows of
the records it repairs (``synced.delete_synced``) before re-syncing their deals, so the workflow
writes them again — through the normal upsert, never an edit of NetSuite from here.

Outcomes. ``finished_runs`` reads the runs of given workflow ids; ``wait_for_runs`` polls until
every one has finished (or a timeout), which is how backfill and repair report synced / unchanged
/ failed without holding a DBOS handle (the work may run in another process).

Backfill. ``triage`` decides per deal of a page whether to queue it, wait for it or skip it;
``read_cursor``/``save_cursor`` keep each job's durable cursor in a ``watermarks`` row named after
the job; ``job_totals`` counts a job's runs over every invocation.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dealbridge.core.records import RecordKey
from dealbridge.db import audit, reconcile_reports, synced
from dealbridge.db.models import FINISHED_STATUSES, Run, SyncError, Watermark
from dealbridge.db.timestamps import utc_now
from dealbridge.db.watermarks import parse_instant
from dealbridge.sync.ledger import WRITE_BACK_WATERMARK, Ledger
from dealbridge.sync.reconcile_report import Report

REPORT_ACTION = "reconcile.report"
REPORT_TARGET = "reconcile"
MAX_STORED_ITEMS = reconcile_reports.MAX_STORED_ITEMS
IDS_PER_QUERY = 400  # bound parameters per IN list, as the ledger's own modules use
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RunOutcome:
    """How one workflow's run ended (or that it has not yet)."""

    workflow_id: str
    opportunity_id: str
    status: str
    reason: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the run has an outcome."""
        return self.status in FINISHED_STATUSES


def save_report(ledger: Ledger, report: Report, actor: str) -> int:
    """Keep ``report`` as the latest; returns its ``reconcile_reports`` id."""
    with ledger.session() as session:
        stored = reconcile_reports.store_report(session, report.to_json(), actor)
        audit.audit(
            session,
            actor,
            REPORT_ACTION,
            target_type=REPORT_TARGET,
            target_id=report.generated_at,
            detail={
                "report_id": stored.id,
                "summary": stored.document.get("summary"),
                "checked": stored.document.get("checked"),
                "window": stored.document.get("window"),
            },
        )
        return stored.id


def latest_report(ledger: Ledger) -> dict[str, Any] | None:
    """The newest stored report document (``Report.to_json`` shape), or None."""
    with ledger.session() as session:
        found = reconcile_reports.latest_reports(session, 1)
    return found[0].document if found else None


def report_history(ledger: Ledger, limit: int = 30) -> list[dict[str, Any]]:
    """The trend, oldest first: ``{"generated_at", "summary", "checked"}`` per stored report."""
    with ledger.session() as session:
        found = reconcile_reports.latest_reports(session, limit)
    return [
        {
            "generated_at": report.document.get("generated_at"),
            "summary": report.summary,
            "checked": report.checked,
        }
        for report in reversed(found)
    ]


def forget_records(ledger: Ledger, keys: Iterable[RecordKey]) -> int:
    """Drop the ledger rows of ``keys`` so the next sync writes them again; returns rows."""
    with ledger.session() as session:
        return synced.delete_synced(session, keys)


def ledger_owners(ledger: Ledger, keys: Iterable[RecordKey]) -> dict[RecordKey, str | None]:
    """The opportunity that last wrote each key, for the keys the ledger knows."""
    with ledger.session() as session:
        rows = synced.get_synced(session, keys)
        return {key: row.opportunity_id for key, row in rows.items()}


def finished_runs(ledger: Ledger, workflow_ids: Sequence[str]) -> dict[str, RunOutcome]:
    """The runs of ``workflow_ids`` that exist, with the reason of each failure."""
    found: dict[str, RunOutcome] = {}
    with ledger.session() as session:
        for start in range(0, len(workflow_ids), IDS_PER_QUERY):
            chunk = list(workflow_ids[start : start + IDS_PER_QUERY])
            query = (
                select(Run.workflow_id, Run.opportunity_id, Run.status, SyncError.user_message)
                .outerjoin(SyncError, SyncError.id == Run.error_id)
                .where(Run.workflow_id.in_(chunk))
            )
            for workflow_id, opportunity_id, status, reason in session.execute(query):
                found[workflow_id] = RunOutcome(workflow_id, opportunity_id, status, reason)
    return found


async def wait_for_runs(
    ledger: Ledger,
    workflow_ids: Sequence[str],
    *,
    timeout: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, RunOutcome]:
    """Poll the ledger until every workflow's run has finished; returns what is known.

    ``on_progress`` gets the number finished after every poll. On timeout the unfinished ones
    are returned as they stand (status ``queued`` when no run row exists yet).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = list(dict.fromkeys(workflow_ids))
    done: dict[str, RunOutcome] = {}
    while True:
        found = await asyncio.to_thread(finished_runs, ledger, pending)
        done.update({key: run for key, run in found.items() if run.finished})
        pending = [key for key in pending if key not in done]
        if on_progress is not None:
            on_progress(len(done))
        if not pending or (deadline is not None and time.monotonic() >= deadline):
            break
        await asyncio.sleep(POLL_SECONDS)
    for key in pending:
        run = found.get(key)
        done[key] = run or RunOutcome(key, key.split(":")[1] if ":" in key else "", "queued")
    return done


# -- backfill -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    """What a backfill does with one deal of a page.

    ``action`` is ``queue`` (not handled yet), ``wait`` (this job queued it and its run has not
    finished: wait for ``workflow_id``), or ``skip`` (this job finished it, or it was synced and
    has not changed since — its stamp is our own write-back's — or its workflow already ran).
    """

    action: str
    workflow_id: str | None = None


def triage(
    ledger: Ledger, deals: Sequence[tuple[str, str]], job: str, workflow_ids: Sequence[str]
) -> dict[str, Triage]:
    """Triage a page for the backfill ``job``.

    ``deals`` are ``(opportunity id, SystemModstamp)`` pairs and ``workflow_ids`` their
    ``deal:`` workflow ids, in the same order.
    """
    ids = [opportunity for opportunity, _ in deals]
    marks = [WRITE_BACK_WATERMARK + identifier for identifier in ids]
    with ledger.session() as session:
        by_job = session.execute(
            select(Run.opportunity_id, Run.workflow_id, Run.status).where(
                Run.trigger_ref == job, Run.opportunity_id.in_(ids)
            )
        ).all()
        runs_started = select(Run.workflow_id).where(Run.workflow_id.in_(workflow_ids))
        started = set(session.scalars(runs_started))
        stamps = select(Watermark.name, Watermark.value).where(Watermark.name.in_(marks))
        rows = session.execute(stamps)
        own = {name.removeprefix(WRITE_BACK_WATERMARK): value for name, value in rows}
    found: dict[str, Triage] = {}
    for (opportunity, stamp), workflow_id in zip(deals, workflow_ids, strict=True):
        mark = own.get(opportunity)
        if workflow_id in started or (mark and parse_instant(mark) == parse_instant(stamp)):
            found[opportunity] = Triage("skip")
        else:
            found[opportunity] = Triage("queue")
    for opportunity, workflow_id, status in by_job:
        finished = status in FINISHED_STATUSES
        found[opportunity] = Triage("skip") if finished else Triage("wait", workflow_id)
    return found


def read_cursor(ledger: Ledger, job: str) -> str | None:
    """The job's cursor text, or None before its first finished page."""
    with ledger.session() as session:
        row = session.get(Watermark, job)
        return row.value if row is not None else None


def save_cursor(ledger: Ledger, job: str, value: str | None) -> None:
    """Set the job's cursor text, or forget it with None.

    Written directly as a ``watermarks`` row: ``db.watermarks`` only stores instants, and a
    backfill cursor is ``<CloseDate>/<Id>`` (well within the row's 64 characters). The caller
    moves it forward only.
    """
    with ledger.session() as session:
        row = session.get(Watermark, job)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(Watermark(name=job, value=value, updated_at=utc_now()))
        else:
            row.value, row.updated_at = value, utc_now()


def job_totals(ledger: Ledger, job: str) -> dict[str, int]:
    """The runs of a backfill job (every invocation of it) by status."""
    with ledger.session() as session:
        statuses = session.scalars(select(Run.status).where(Run.trigger_ref == job))
        return dict(Counter(statuses))
