"""The service reconciles on its own: a DBOS scheduled workflow that stores each report.

Every tick (``DEFAULT_CRON``: 02:30 each night, in the worker's clock) runs one
``reconcile_scheduled`` workflow — DBOS names it ``sched-<schedule>-<time>``, so a tick runs
once however many workers there are — whose single step reconciles with the runtime's clients,
flow and lookup cache, then keeps the report in the ledger (``reconcile_ledger.save_report``) for
the console: ``latest_report`` and ``report_history`` read it back. Nothing is repaired
automatically: a repair re-syncs deals, which a person should decide.

Wiring (the runtime has no hook for schedules other than the poller's): ``serve`` must import
this module before ``Runtime.launch()`` — DBOS registers workflows at import, and recovers only
registered ones — and, once launched, call ``await register_reconcile_schedule(runtime)``, as it
does ``start_poller`` for the poller.

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
from dealbridge.sync.reconcile import reconcile
from dealbridge.sync.reconcile_fetch import Window
from dealbridge.sync.reconcile_ledger import save_report
from dealbridge.sync.runtime import Runtime, current_runtime

WORKFLOW_NAME = "reconcile_scheduled"
SCHEDULE_NAME = "dealbridge-reconcile"
DEFAULT_CRON = "0 30 2 * * *"  # seconds first (DBOS's 6-field cron): 02:30:00 every day
ACTOR = "system:reconcile"
_log = structlog.get_logger("dealbridge.reconcile")


def schedule_for(cron: str = DEFAULT_CRON, since_days: int | None = None) -> ScheduleInput:
    """The schedule; ``since_days`` limits each run to deals closed in the last n days."""
    return {
        "schedule_name": SCHEDULE_NAME,
        "workflow_fn": reconcile_scheduled,
        "schedule": cron,
        "context": {"since_days": since_days},
    }


async def register_reconcile_schedule(
    runtime: Runtime,
    *,
    cron: str = DEFAULT_CRON,
    since_days: int | None = None,
    enabled: bool = True,
) -> None:
    """Create or update the nightly reconciliation (idempotent), or delete it when disabled.

    Call after ``runtime`` has launched (it must be this process's runtime).
    """
    if current_runtime() is not runtime:
        raise RuntimeError("register the schedule with this process's launched runtime")
    if enabled:
        await DBOS.apply_schedules_async([schedule_for(cron, since_days)])
    else:
        await DBOS.delete_schedule_async(SCHEDULE_NAME)


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
    entry = await asyncio.to_thread(save_report, runtime.ledger, result.report, ACTOR)
    _log.info("reconcile_stored", audit_id=entry, **result.report.summary())
    return {"summary": result.report.summary(), "audit_id": entry}
