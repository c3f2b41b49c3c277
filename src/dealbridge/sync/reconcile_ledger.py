"""The ledger's part in reconciliation and backfill: stored reports, forgotten hashes, outcomes.

Stored reports. Each reconciliation's JSON document is kept as an audit entry (action
``reconcile.report``, target ``reconcile``): the audit log's ``detail`` is a JSON column on
SQLite and PostgreSQL alike, entries are ordered in time, and "who reconciled (and repaired)
when" is exactly what an audit log is for. A watermark row cannot hold it: its value is a
64-character instant. ``latest_report`` is what the console shows and ``report_history`` its
trend (summary counts per run). Items beyond ``MAX_STORED_ITEMS`` are left out of the stored
copy (``items_truncated`` says how many); the summary always counts them all.

Forgotten hashes. A record edited or deleted directly in NetSuite still has its ledger row, whose
payload hash says "already written": the workflow would skip it. ``--repair`` deletes the rows of
the records it repairs (``synced.delete_synced``) before re-syncing their deals, so the workflow
writes them again — through the normal upsert, never an edit of NetSuite from here.

Outcomes. ``finished_runs`` reads the runs of given workflow ids; ``wait_for_runs`` polls until
every one has finished (or a timeout), which is how backfill and repair report synced / unchanged
/ failed without holding a DBOS handle (the work may run in another process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dealbridge.connectors.netsuite.models import record_group
from dealbridge.core.records import RecordKey
from dealbridge.db import audit, synced
from dealbridge.db.models import FINISHED_STATUSES, AuditEntry, Run, SyncError
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile_report import Report

REPORT_ACTION = "reconcile.report"
REPORT_TARGET = "reconcile"
MAX_STORED_ITEMS = 2000
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
    """Keep ``report`` as the latest; returns the audit entry's id."""
    document = report.to_json()
    extra = len(document["items"]) - MAX_STORED_ITEMS
    if extra > 0:
        document["items"] = document["items"][:MAX_STORED_ITEMS]
        document["items_truncated"] = extra
    with ledger.session() as session:
        entry = audit.audit(
            session,
            actor,
            REPORT_ACTION,
            target_type=REPORT_TARGET,
            target_id=report.generated_at,
            detail=document,
        )
        return entry.id


def latest_report(ledger: Ledger) -> dict[str, Any] | None:
    """The newest stored report document (``Report.to_json`` shape), or None."""
    with ledger.session() as session:
        entries = audit.list_audit(session, limit=1, action=REPORT_ACTION)
        return dict(entries[0].detail) if entries else None


def report_history(ledger: Ledger, limit: int = 30) -> list[dict[str, Any]]:
    """The trend, oldest first: ``{"generated_at", "summary", "checked"}`` per stored report."""
    with ledger.session() as session:
        query = (
            select(AuditEntry.detail)
            .where(AuditEntry.action == REPORT_ACTION)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        details = list(session.scalars(query))
    return [
        {key: detail.get(key) for key in ("generated_at", "summary", "checked")}
        for detail in reversed(details)
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


def group_of(key: RecordKey) -> str:
    """The NetSuite record group of a key (customers and contacts share ``entity``)."""
    return record_group(key.record_type)


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
