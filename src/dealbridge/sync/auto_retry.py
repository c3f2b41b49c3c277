"""Errors of passing causes are retried by the service itself, a capped number of times.

Why: a step retries an outage or a 429 for about 17 minutes (DESIGN §6), and a deal that still
fails becomes an open error. An outage that lasts longer — a NetSuite upgrade window, a Salesforce
daily allocation used up until it rolls over — would otherwise leave every deal of those hours for
a person to retry by hand. Errors of the classes in ``auto_retry.classes`` (default
``rate_limit`` and ``remote_outage``: causes that pass by themselves) are retried once their last
failure is ``after_minutes`` old, at most ``max_attempts`` times each; then they wait for a
person, as every other class does. A refused record or broken data is never retried blindly.

Each tick is one ``auto_retry_errors`` workflow of a DBOS schedule (``dealbridge-auto-retry``,
every ``interval_minutes``): DBOS names it after the tick, so a tick runs once however many
processes serve. Its first step picks the due errors and marks them retrying in the ledger — the
same transition, count and audit entry (actor ``system:auto-retry``) as a person's retry — and
checkpoints the retries it prepared; the workflow then enqueues each as ``retry:<error id>:<n>``,
so a recovered tick enqueues exactly those and no others. A retry the queue refuses is reopened
and audited as ``error.retry_failed``, like a person's.

Wiring, as ``reconcile_schedule``: ``serve`` and ``worker`` import this module before the runtime
launches; ``serve`` calls ``register_auto_retry_schedule`` once launched.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from dbos import DBOS, ScheduleInput

from dealbridge.db import open_errors
from dealbridge.errors import DealbridgeError
from dealbridge.settings import AutoRetrySettings
from dealbridge.sync.operator import Operator, Retry
from dealbridge.sync.outcome import is_engine_control
from dealbridge.sync.runtime import Runtime, current_runtime
from dealbridge.sync.schedules import keep_schedule
from dealbridge.sync.triggers import start_on_queue

WORKFLOW_NAME = "auto_retry_errors"
SCHEDULE_NAME = "dealbridge-auto-retry"
ACTOR = "system:auto-retry"
MAX_PER_TICK = 200  # as a person's bulk retry; the rest are due at the next tick
_log = structlog.get_logger("dealbridge.sync")


def cron_for(settings: AutoRetrySettings) -> str:
    """DBOS's 6-field cron (seconds first): every ``interval_minutes`` minutes (60: hourly)."""
    minutes = "0" if settings.interval_minutes == 60 else f"*/{settings.interval_minutes}"
    return f"0 {minutes} * * * *"


def schedule_for(settings: AutoRetrySettings) -> ScheduleInput:
    """The schedule; what is due travels in its context."""
    return {
        "schedule_name": SCHEDULE_NAME,
        "workflow_fn": auto_retry_errors,
        "schedule": cron_for(settings),
        "context": {
            "classes": list(settings.classes),
            "after_minutes": settings.after_minutes,
            "max_attempts": settings.max_attempts,
        },
    }


async def register_auto_retry_schedule(runtime: Runtime, settings: AutoRetrySettings) -> None:
    """Create or update the schedule, or delete it when ``enabled`` is off (``keep_schedule``)."""
    active = settings.enabled and bool(settings.classes)
    await keep_schedule(SCHEDULE_NAME, schedule_for(settings) if active else None, runtime)


@DBOS.workflow(name=WORKFLOW_NAME)
async def auto_retry_errors(scheduled_at: datetime, context: Any) -> None:
    """One tick (module docstring)."""
    await retry_due_errors(scheduled_at, AutoRetrySettings(**(context or {})))


async def retry_due_errors(scheduled_at: datetime, settings: AutoRetrySettings) -> dict[str, Any]:
    """The tick's work, inside its workflow: what it queued and what the queue refused."""
    runtime = current_runtime()
    prepared = await DBOS.run_step_async(
        runtime.ledger_step("prepare_auto_retries"),
        prepare_due_retries,
        scheduled_at.isoformat(),
        list(settings.classes),
        settings.after_minutes,
        settings.max_attempts,
    )
    queued: list[str] = []
    refused: list[dict[str, Any]] = []
    for entry in prepared:
        retry = Retry(**entry)
        try:
            await start_on_queue(retry.workflow_id, retry.opportunity_id, retry.info)
        except Exception as exc:  # the queue's database: reopen it, as a person's retry is
            if is_engine_control(exc):
                raise
            refused.append({**entry, "error": type(exc).__name__})
            continue
        queued.append(retry.workflow_id)
    if refused:
        await DBOS.run_step_async(runtime.ledger_step("reopen_auto_retries"), reopen, refused)
    if queued or refused:
        _log.info("auto_retry_tick", queued=len(queued), refused=len(refused))
    return {"queued": queued, "refused": [entry["workflow_id"] for entry in refused]}


async def prepare_due_retries(
    scheduled_at: str, classes: list[str], after_minutes: int, max_attempts: int
) -> list[dict[str, Any]]:
    """Mark the due errors retrying (counted, audited); the retries to enqueue, as data."""
    instant = datetime.fromisoformat(scheduled_at)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)  # DBOS's ticks are UTC
    return await asyncio.to_thread(_prepare, instant, tuple(classes), after_minutes, max_attempts)


def _prepare(
    scheduled_at: datetime, classes: tuple[str, ...], after_minutes: int, max_attempts: int
) -> list[dict[str, Any]]:
    ledger = current_runtime().ledger
    with ledger.session() as session:
        due = open_errors.due_for_auto_retry(
            session,
            classes,
            failed_before=scheduled_at - timedelta(minutes=after_minutes),
            max_attempts=max_attempts,
            limit=MAX_PER_TICK,
        )
    operator = Operator(ledger, _enqueued_by_the_workflow)
    return [asdict(operator.prepare_retry(error_id, ACTOR, automatic=True)) for error_id in due]


async def reopen(refused: list[dict[str, Any]]) -> None:
    """Show the errors whose retries the queue refused as open again (audited)."""

    def reopen_all() -> None:
        operator = Operator(current_runtime().ledger, _enqueued_by_the_workflow)
        for entry in refused:
            error = QueueRefusedError(f"the retry could not be queued ({entry['error']})")
            operator.reopen(entry["info"]["error_id"], ACTOR, entry["workflow_id"], error)

    await asyncio.to_thread(reopen_all)


class QueueRefusedError(DealbridgeError):
    """The queue refused an automatic retry; only the class of its failure is kept."""

    default_failure_type = "config"


def _enqueued_by_the_workflow(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
    raise AssertionError("auto-retry enqueues from its workflow, never from a step")
