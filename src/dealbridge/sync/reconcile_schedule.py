"""The service reconciles on its own: a DBOS scheduled workflow that stores each report.

Settings ``reconcile.*`` (``ReconcileSettings``): ``enabled`` (default on), ``interval_hours``
(default 24, dividing a day), ``at_minute`` (default 30) and ``since_days`` (default: every won
deal). Every tick runs one ``reconcile_scheduled`` workflow — DBOS names it
``sched-<schedule>-<time>``, so a tick runs once however many processes serve — whose single step
reconciles with the runtime's clients, flow and lookup cache, then keeps the report in the ledger
(``reconcile_ledger.save_report``: the ``reconcile_reports`` table the console reads with
``db.reconcile_reports.latest_reports``). Nothing is repaired automatically: a repair re-syncs
deals, which a person should decide.

Wiring: a process that may run or recover a tick imports this module before
``Runtime.launch()`` — DBOS registers workflows at import and recovers only registered ones —
which ``serve`` and ``worker`` do; ``serve``, once launched, calls
``await register_reconcile_schedule(runtime, settings.reconcile)`` as it calls ``start_poller``:
it creates, updates or (disabled) deletes the schedule.

When the Salesforce usage guard stops ``reconcile`` work, the tick stores nothing and says so in
its result; the next tick tries again.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from dbos import DBOS, ScheduleInput

from dealbridge.connectors.salesforce.limits import API_USAGE_GUARD
from dealbridge.errors import RateLimitedError
from dealbridge.settings import ReconcileSettings
from dealbridge.sync.reconcile import reconcile
from dealbridge.sync.reconcile_fetch import Window
from dealbridge.sync.reconcile_ledger import save_report
from dealbridge.sync.runtime import Runtime, current_runtime
from dealbridge.sync.schedules import keep_schedule

WORKFLOW_NAME = "reconcile_scheduled"
SCHEDULE_NAME = "dealbridge-reconcile"
ACTOR = "system:reconcile"
_log = structlog.get_logger("dealbridge.reconcile")


def cron_for(settings: ReconcileSettings) -> str:
    """DBOS's 6-field cron (seconds first): ``at_minute`` past every ``interval_hours``-th hour.

    Hours count from midnight in the worker's clock: 24 is once a day at 00:MM, 6 is at 00:MM,
    06:MM, 12:MM and 18:MM.
    """
    hours = "0" if settings.interval_hours == 24 else f"*/{settings.interval_hours}"
    return f"0 {settings.at_minute} {hours} * * *"


def schedule_for(settings: ReconcileSettings) -> ScheduleInput:
    """The schedule; ``since_days`` travels in its context."""
    return {
        "schedule_name": SCHEDULE_NAME,
        "workflow_fn": reconcile_scheduled,
        "schedule": cron_for(settings),
        "context": {"since_days": settings.since_days},
    }


async def register_reconcile_schedule(runtime: Runtime, settings: ReconcileSettings) -> None:
    """Create or update the schedule, or delete it when ``enabled`` is off (``keep_schedule``)."""
    schedule = schedule_for(settings) if settings.enabled else None
    await keep_schedule(SCHEDULE_NAME, schedule, runtime)


@DBOS.workflow(name=WORKFLOW_NAME)
async def reconcile_scheduled(scheduled_at: datetime, context: Any) -> None:
    """One tick: reconcile and store the report (module docstring)."""
    since_days = (context or {}).get("since_days")
    options = current_runtime().remote_step("reconcile")
    await DBOS.run_step_async(
        options, reconcile_and_store, scheduled_at.date().isoformat(), since_days
    )


async def reconcile_and_store(day: str, since_days: int | None) -> dict[str, Any]:
    """Reconcile with the runtime's clients and keep the report; returns its summary."""
    runtime = current_runtime()
    clients = await runtime.loop_clients()
    window = Window(since=date.fromisoformat(day) - timedelta(days=since_days or 0))
    try:
        result = await reconcile(
            clients.salesforce,
            clients.netsuite,
            runtime.engine,
            window=window if since_days else Window(),
            multi_currency=runtime.settings.sync.multi_currency,
            ledger=runtime.ledger,
            cache=runtime.table_cache,
        )
    except RateLimitedError as error:
        if error.code != API_USAGE_GUARD:
            raise
        _log.warning("reconcile_paused", reason=error.user_message)
        return {"paused": error.user_message}
    report_id = await asyncio.to_thread(save_report, runtime.ledger, result.report, ACTOR)
    _log.info("reconcile_stored", report_id=report_id, **result.report.summary())
    return {"summary": result.report.summary(), "report_id": report_id}
