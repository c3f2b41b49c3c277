"""Alerts in the running service: a DBOS scheduled workflow that evaluates them every tick.

The alerts package decides what is wrong and delivers it; this module makes it happen without
anyone asking. It lives above both the sync engine and the alerts package (they are peers in the
layers and may not import each other): each tick gathers what only the engine knows — the
``PENDING`` deal work (``sync.reaper.pending_work``) and, with ``alerts.check_connections``, a
fresh connection check — and hands it to ``AlertService.run_once``, which reads the rest from
the ledger, drops what was already sent (``alerts.repeat_minutes``), holds a burst for the digest
(``alerts.digest_minutes``) and delivers through the configured channels.

Once per tick across every process: the schedule ``dealbridge-alerts`` fires every
``alerts.interval_seconds`` and DBOS names each tick's workflow ``sched-dealbridge-alerts-<time>``
(contracts/dbos.md §5), so however many ``serve`` and ``worker`` processes share the database,
one of them evaluates it. De-duplication and the digest window are ledger watermarks, so a tick
run by another process, or after a restart, knows what the previous ones sent.

Why a live connection check per tick: the console records a check (audit action
``connection.test``) only when someone presses "Test", so an outage that starts at night would
never be seen by the rule. One cheap authenticated call per system per tick (a one-row SOQL query
and a one-row SuiteQL page) keeps it current. The outcome is written to the audit log, as the
console's test is, but only when it differs from the latest recorded one (ok ↔ failing, or a
different error), so the connection page shows the check the alert talks about without one
audit row per minute. With ``alerts.check_connections`` off the rule reads the latest recorded
checks instead.

Wiring: every process that may run or recover a tick imports this module before
``Runtime.launch()`` (DBOS recovers only registered workflows): ``serve`` (and the demo, which
runs ``serve``'s ``Service``) and ``worker``. ``serve``, once launched, calls
``register_alert_schedule``: it creates or updates the schedule, or deletes it when alerts are
off or no channel is configured.

A tick is one step without retries: a failure ends that tick in ``ERROR`` and the next tick
evaluates again. Delivery is at least once: a crash between a channel taking the message and
the ledger noting it sends that message again at the next tick.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from dbos import DBOS, ScheduleInput, StepOptions
from sqlalchemy.orm import Session

from dealbridge.alerts import AlertService, ConnectionHealth, channels_from_settings
from dealbridge.db.audit import audit
from dealbridge.settings import Settings
from dealbridge.sync.connection_check import ConnectionStatus, check_connections
from dealbridge.sync.poller import cron_for
from dealbridge.sync.reaper import pending_work
from dealbridge.sync.runtime import Runtime, current_runtime
from dealbridge.sync.schedules import keep_schedule
from dealbridge.web.console.connections import TARGET, TEST_ACTION, LastCheck, latest_checks

WORKFLOW_NAME = "evaluate_alerts"
SCHEDULE_NAME = "dealbridge-alerts"
ACTOR = "system:alerts"
_log = structlog.get_logger("dealbridge.alerts")
# Ticks are separate workflows, so a slow one (a stalled connection check, a busy machine) runs
# beside the next. Both would read the ledger before either noted what it sent, and a new error
# class would be announced twice; taking turns, the later tick sees what the earlier one sent.
_ONE_TICK_AT_A_TIME = threading.Lock()


def schedule_for(settings: Settings) -> ScheduleInput:
    """The alert schedule: every ``alerts.interval_seconds``."""
    return {
        "schedule_name": SCHEDULE_NAME,
        "workflow_fn": evaluate_alerts,
        "schedule": cron_for(settings.alerts.interval_seconds),
        "context": {},
    }


def alerts_active(settings: Settings) -> bool:
    """Whether ticks would do anything: alerts on and at least one channel configured."""
    return settings.alerts.enabled and bool(channels_from_settings(settings.alerts))


async def register_alert_schedule(runtime: Runtime, settings: Settings) -> None:
    """Create or update the schedule (idempotent), or delete it when alerts would do nothing.

    Call after ``runtime`` has launched (it must be this process's runtime).
    """
    active = alerts_active(settings)
    await keep_schedule(SCHEDULE_NAME, schedule_for(settings) if active else None, runtime)
    if active:
        _log.info("alerts_scheduled", interval_seconds=settings.alerts.interval_seconds)
    else:
        reason = "disabled" if not settings.alerts.enabled else "no channel configured"
        _log.info("alerts_off", reason=reason)


def _tick_step() -> StepOptions:
    return {"name": "evaluate_alerts", "retries_allowed": False}


@DBOS.workflow(name=WORKFLOW_NAME)
async def evaluate_alerts(scheduled_at: datetime, context: Any) -> None:
    """One tick (module docstring); the step's checkpoint keeps the keys of what it delivered."""
    sent = await DBOS.run_step_async(_tick_step(), evaluate_and_deliver)
    if sent:
        _log.info("alert_tick_delivered", keys=sent)


async def evaluate_and_deliver() -> list[str]:
    """Gather the engine's facts, run the alert service once; the delivered alerts' keys."""
    runtime = current_runtime()
    settings = runtime.settings
    fresh = await check_connections(settings) if settings.alerts.check_connections else None
    return await asyncio.to_thread(_run_service, runtime, fresh)


def _run_service(runtime: Runtime, fresh: Sequence[ConnectionStatus] | None) -> list[str]:
    """Evaluate and deliver, one tick at a time in this process (``_ONE_TICK_AT_A_TIME``)."""
    settings = runtime.settings
    with _ONE_TICK_AT_A_TIME:
        pending = pending_work()
        with runtime.ledger.session() as session:
            recorded = latest_checks(session)
            if fresh is not None:
                record_changed_checks(session, recorded, fresh)
        health = (
            [health_of(status) for status in fresh] if fresh is not None else health_from(recorded)
        )
        service = AlertService.from_settings(settings, runtime.ledger.factory)
        sent = service.run_once(connections=health, pending=pending)
        return [alert.key for alert in sent]


def health_of(status: ConnectionStatus) -> ConnectionHealth:
    """A live check as the connection rule reads it."""
    return ConnectionHealth(status.system, status.ok, status.checked_at, status.error)


def health_from(recorded: Sequence[LastCheck]) -> list[ConnectionHealth]:
    """The latest recorded checks (systems never checked are left out)."""
    return [
        ConnectionHealth(check.system, bool(check.ok), check.checked_at, check.error)
        for check in recorded
        if check.checked_at is not None and check.ok is not None
    ]


def record_changed_checks(
    session: Session, recorded: Sequence[LastCheck], fresh: Sequence[ConnectionStatus]
) -> int:
    """Write each fresh check whose outcome differs from the latest recorded one; how many.

    A system never checked before counts as changed, so its first outcome is on record.
    """
    latest = {check.system: check for check in recorded}
    written = 0
    for status in fresh:
        before = latest.get(status.system)
        if before is not None and before.ok == status.ok and before.error == status.error:
            continue
        audit(
            session,
            ACTOR,
            TEST_ACTION,
            target_type=TARGET,
            target_id=status.system,
            detail=status.as_dict(),
            at=status.checked_at,
        )
        written += 1
    return written
