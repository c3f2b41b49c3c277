"""The poller: a DBOS scheduled workflow that catches the won deals push notifications missed.

Why a poller next to Outbound Messages: Salesforce drops an Outbound Message it could not deliver
for 24 hours (contracts/salesforce.md §3.1), and a misconfigured endpoint or a long outage would
lose deals silently. Every ``poller.interval_seconds`` the schedule runs one workflow
(contracts/dbos.md §5; its id is ``sched-<name>-<time>``, so a tick runs once across workers):

1. ``poll_window`` — the durable watermark ``poller:opportunity`` (the newest ``SystemModstamp``
   seen) minus ``poller.overlap_seconds``, never before ``poller:opportunity:since`` (the first
   tick's time: history before the poller first ran is the backfill's job, not a surprise sync of
   every deal ever won). The first tick only sets both and queries nothing.
2. ``query_won`` — ``SELECT Id, AccountId, SystemModstamp FROM Opportunity WHERE IsWon = true
   AND SystemModstamp > {since} ORDER BY SystemModstamp`` (every page), minus each opportunity
   whose ``SystemModstamp`` is exactly the one our own write-back produced (the loop guard,
   ``docs/architecture.md`` "Loop prevention").
3. ``enqueue_deal`` for each, trigger ``poller``: the workflow id ``deal:<Id>:<SystemModstamp>``
   makes a deal already started by its Outbound Message — or by the previous, overlapping poll —
   a no-op.
4. ``advance_watermark`` — only after every deal is durably queued, so a crash in between
   re-reads the window instead of losing it; forward-only, so overlapping ticks cannot move it
   back.

Steps are checkpointed, so a poll recovered after a crash replays the same rows and enqueues the
same deals. A failed query ends this tick in ``ERROR``; the next tick reads the same window again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from dbos import DBOS, ScheduleInput, StepOptions
from sqlalchemy import select

from dealbridge.connectors.salesforce.soql import soql
from dealbridge.db import watermarks
from dealbridge.db.models import Watermark
from dealbridge.errors import ConfigError
from dealbridge.settings import PollerSettings
from dealbridge.sync.ledger import WRITE_BACK_WATERMARK
from dealbridge.sync.runtime import current_runtime, is_retryable
from dealbridge.sync.schedules import keep_schedule
from dealbridge.sync.stamps import parse_salesforce_instant, salesforce_instant
from dealbridge.sync.triggers import enqueue_deal

WORKFLOW_NAME = "poll_won_opportunities"
SCHEDULE_NAME = "dealbridge-poller"
WATERMARK = "poller:opportunity"
FLOOR = WATERMARK + ":since"
TRIGGER = "poller"
POLL_QUERY = (
    "SELECT Id, AccountId, SystemModstamp FROM Opportunity "
    "WHERE IsWon = true AND SystemModstamp > {} ORDER BY SystemModstamp"
)
# A poll that cannot reach Salesforce gives up quickly: the next tick reads the same window.
QUERY_ATTEMPTS = 3
QUERY_INTERVAL_SECONDS = 2.0
_LOOKUP_CHUNK = 500  # names per IN (…) when reading our write-back stamps
_log = structlog.get_logger("dealbridge.poller")


def cron_for(interval_seconds: int) -> str:
    """The 6-field cron expression (seconds first) that fires every ``interval_seconds``.

    Raises:
        ConfigError: The interval does not divide a minute, an hour or a day evenly.
    """
    seconds = interval_seconds
    if 1 <= seconds <= 60 and 60 % seconds == 0:
        return "* * * * * *" if seconds == 1 else f"*/{seconds} * * * * *"
    if seconds % 60 == 0 and 3600 % seconds == 0:
        return f"0 */{seconds // 60} * * * *"
    if seconds % 3600 == 0 and 86_400 % seconds == 0:
        return f"0 0 */{seconds // 3600} * * *"
    raise ConfigError(f"a poll interval of {interval_seconds} s cannot be written as a cron step")


def schedule_for(settings: PollerSettings) -> ScheduleInput:
    """The poller's schedule; the overlap travels in the schedule's context."""
    return {
        "schedule_name": SCHEDULE_NAME,
        "workflow_fn": poll_won_opportunities,
        "schedule": cron_for(settings.interval_seconds),
        "context": {"overlap_seconds": settings.overlap_seconds},
    }


async def start_poller(settings: PollerSettings) -> None:
    """Create or update the schedule (idempotent), or delete it when the poller is disabled.

    Call after the runtime launched; DBOS's scheduler thread sees a new schedule within a second
    during its first minute, within 30 s later.
    """
    await keep_schedule(SCHEDULE_NAME, schedule_for(settings) if settings.enabled else None)


@DBOS.workflow(name=WORKFLOW_NAME)
async def poll_won_opportunities(scheduled_at: datetime, context: Any) -> None:
    """One poll (module docstring); ``context`` is ``{"overlap_seconds": n}``."""
    runtime = current_runtime()
    overlap = int((context or {}).get("overlap_seconds", runtime.settings.poller.overlap_seconds))
    window = await DBOS.run_step_async(
        runtime.ledger_step("poll_window"), poll_window, salesforce_instant(scheduled_at), overlap
    )
    if window["since"] is None:
        _log.info("poller_started", since=window["floor"])
        return
    found = await DBOS.run_step_async(_query_step(), query_won, window["since"])
    for change in found["changes"]:
        await enqueue_deal(
            change["id"],
            account_id=change["account_id"],
            system_modstamp=change["stamp"],
            trigger=TRIGGER,
            trigger_ref=DBOS.workflow_id,
        )
    if found["latest"] is not None:
        await DBOS.run_step_async(
            runtime.ledger_step("advance_watermark"), advance_watermark, found["latest"]
        )
    _log.info(
        "poller_polled",
        since=window["since"],
        enqueued=len(found["changes"]),
        own_write_backs=found["own_write_backs"],
    )


def _query_step() -> StepOptions:
    return {
        "name": "query_won",
        "retries_allowed": True,
        "max_attempts": QUERY_ATTEMPTS,
        "interval_seconds": QUERY_INTERVAL_SECONDS,
        "backoff_rate": 2.0,
        "should_retry": is_retryable,
    }


# -- steps ------------------------------------------------------------------------------------


async def poll_window(scheduled_at: str, overlap_seconds: int) -> dict[str, Any]:
    """``{"since": instant | None, "floor": instant}``; the first poll only sets the marks."""
    return await asyncio.to_thread(_poll_window, scheduled_at, overlap_seconds)


def _poll_window(scheduled_at: str, overlap_seconds: int) -> dict[str, Any]:
    with current_runtime().ledger.session() as session:
        mark = watermarks.get_watermark(session, WATERMARK)
        floor = watermarks.get_watermark(session, FLOOR)
        if mark is None:
            start = first_floor(scheduled_at)
            watermarks.advance_watermark(session, WATERMARK, start)
            floor = floor or watermarks.advance_watermark(session, FLOOR, start)
            return {"since": None, "floor": floor}
    since = window_start(mark, floor, overlap_seconds)
    return {"since": salesforce_instant(since), "floor": floor}


def first_floor(scheduled_at: str) -> str:
    """Where the first poll starts watching: the second before its tick.

    ``SystemModstamp`` has whole seconds and the query is strict (``>``), so a deal closed in the
    tick's own second (stamped ``hh:mm:ss.000``) must still fall after the floor.
    """
    tick = parse_salesforce_instant(scheduled_at).replace(microsecond=0)
    return salesforce_instant(tick - timedelta(seconds=1))


def window_start(mark: str, floor: str | None, overlap_seconds: int) -> datetime:
    """``mark - overlap``, but never before ``floor`` (module docstring, step 1)."""
    start = parse_salesforce_instant(mark) - timedelta(seconds=overlap_seconds)
    if floor is not None:
        start = max(start, parse_salesforce_instant(floor))
    return start


async def query_won(since: str) -> dict[str, Any]:
    """Won opportunities changed after ``since``, without our own write-backs' echoes.

    Returns ``{"changes": [{"id", "account_id", "stamp"}], "latest": newest stamp | None,
    "own_write_backs": n}``; ``latest`` counts the echoes too, so the watermark passes them.
    """
    clients = await current_runtime().loop_clients()
    query = soql(POLL_QUERY, parse_salesforce_instant(since))
    rows = await clients.salesforce.query_all(query)
    changes: list[dict[str, Any]] = [
        {
            "id": str(row["Id"]),
            "account_id": row.get("AccountId"),
            "stamp": salesforce_instant(str(row["SystemModstamp"])),
        }
        for row in rows
    ]
    own = await asyncio.to_thread(own_write_backs, [change["id"] for change in changes])
    fresh = [change for change in changes if not _is_echo(change, own)]
    return {
        "changes": fresh,
        "latest": latest_stamp(change["stamp"] for change in changes),
        "own_write_backs": len(changes) - len(fresh),
    }


async def advance_watermark(stamp: str) -> str:
    """Move ``poller:opportunity`` forward to ``stamp`` (never back)."""

    def advance() -> str:
        with current_runtime().ledger.session() as session:
            return watermarks.advance_watermark(session, WATERMARK, stamp)

    return await asyncio.to_thread(advance)


# -- helpers ----------------------------------------------------------------------------------


def own_write_backs(opportunity_ids: list[str]) -> dict[str, str]:
    """Opportunity id → the ``SystemModstamp`` our latest write-back to it produced.

    Read in bulk from the engine's ``writeback:<OpportunityId>`` marks (``sync.ledger``), one
    query per 500 opportunities instead of one per row.
    """
    names = [WRITE_BACK_WATERMARK + identifier for identifier in dict.fromkeys(opportunity_ids)]
    found: dict[str, str] = {}
    with current_runtime().ledger.session() as session:
        for start in range(0, len(names), _LOOKUP_CHUNK):
            chunk = names[start : start + _LOOKUP_CHUNK]
            rows = session.execute(
                select(Watermark.name, Watermark.value).where(Watermark.name.in_(chunk))
            )
            for name, value in rows:
                found[name.removeprefix(WRITE_BACK_WATERMARK)] = value
    return found


def _is_echo(change: dict[str, Any], own: dict[str, str]) -> bool:
    """Whether the row's stamp is exactly the one our write-back produced."""
    stamp = own.get(change["id"])
    return stamp is not None and salesforce_instant(stamp) == change["stamp"]


def latest_stamp(stamps: Iterable[str]) -> str | None:
    """The newest of ``stamps`` (normalised instants), or None for none."""
    newest: datetime | None = None
    for stamp in stamps:
        instant = parse_salesforce_instant(stamp)
        newest = instant if newest is None or instant > newest else newest
    return salesforce_instant(newest) if newest is not None else None
