"""Work the engine holds and the ledger cannot show: ``PENDING`` and ``ENQUEUED`` workflows.

A ledger run says ``queued`` or ``running`` from what the engine last wrote; whether a worker
still holds the deal is only in DBOS's tables. ``/runs?status=pending`` — where the
``stale_pending`` alert links — lists that state: each workflow claimed by an executor
(``PENDING``, read with ``sync.reaper.pending_work``, the list the reaper and the alert read),
and the deals still waiting on the ``deals`` queue (``ENQUEUED``), oldest first, with how long
and on which executor.

The lister is this process's launched DBOS or, on a web-only node, a
``DBOSClient`` of the workers' system database (``services``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from dbos import DBOS, DBOSClient

from dealbridge.sync.reaper import pending_work
from dealbridge.sync.runtime import QUEUE_NAME

# Rows shown per state; an incident can strand thousands of deals and the page must stay light.
WAITING_LIMIT = 500
DEAL_PREFIX = "deal:"
_log = structlog.get_logger("dealbridge.web.console")

WorkState = Literal["PENDING", "ENQUEUED"]


@dataclass(frozen=True)
class WaitingWorkflow:
    """One workflow not finished yet.

    Attributes:
        workflow_id: DBOS's id (``deal:<OpportunityId>:<SystemModstamp>`` for a deal).
        name: The workflow function (``sync_deal``, a scheduled tick…).
        state: ``PENDING`` (an executor holds it) or ``ENQUEUED`` (waiting for a worker).
        executor_id: Who holds it (``PENDING``); None while it waits on the queue.
        app_version: The engine version that must finish it.
        since: Dequeued (or started) for ``PENDING``; enqueued for ``ENQUEUED``.
    """

    workflow_id: str
    name: str
    state: WorkState
    executor_id: str | None
    app_version: str | None
    since: datetime

    @property
    def opportunity_id(self) -> str | None:
        """The deal's opportunity, read from a deal workflow's id; None for other workflows."""
        if not self.workflow_id.startswith(DEAL_PREFIX):
            return None
        return self.workflow_id.removeprefix(DEAL_PREFIX).split(":", 1)[0] or None

    def age_seconds(self, now: datetime) -> float:
        """How long it has been in its state."""
        return max(0.0, (now - self.since).total_seconds())


@dataclass(frozen=True)
class EngineWork:
    """What the page shows; ``readable`` is False when DBOS could not be asked."""

    workflows: tuple[WaitingWorkflow, ...] = ()
    more: bool = False
    readable: bool = True


def read_engine_work(make_client: Callable[[], DBOSClient] | None = None) -> EngineWork:
    """``PENDING`` workflows and ``ENQUEUED`` deals, oldest first (the error is logged, not shown).

    ``make_client`` gives a web-only node's ``DBOSClient``; without it this process's launched
    DBOS is asked. A database that cannot be read gives ``EngineWork(readable=False)``: the page
    says so rather than failing, as the dashboard's queue depth does.
    """
    try:
        client = make_client() if make_client is not None else None
        pending = [
            WaitingWorkflow(
                workflow_id=work.workflow_id,
                name=work.name,
                state="PENDING",
                executor_id=work.executor_id,
                app_version=work.app_version,
                since=work.pending_since,
            )
            for work in pending_work(client)
        ]
        lister: Callable[..., list[Any]] = (
            client.list_workflows if client is not None else DBOS.list_workflows
        )
        queued = lister(
            status="ENQUEUED",
            queue_name=QUEUE_NAME,
            limit=WAITING_LIMIT + 1,
            load_input=False,
            load_output=False,
        )
    except Exception as exc:  # the page shows "cannot be read"; never the error's text
        _log.warning("engine_work_unavailable", error=type(exc).__name__)
        return EngineWork(readable=False)
    waiting = [_enqueued(status) for status in queued[:WAITING_LIMIT]]
    pending.sort(key=lambda work: work.since)
    more = len(pending) > WAITING_LIMIT or len(queued) > WAITING_LIMIT
    return EngineWork(tuple(pending[:WAITING_LIMIT] + sorted(waiting, key=_since)), more)


def _enqueued(status: Any) -> WaitingWorkflow:
    return WaitingWorkflow(
        workflow_id=status.workflow_id,
        name=status.name,
        state="ENQUEUED",
        executor_id=None,
        app_version=status.app_version,
        since=datetime.fromtimestamp((status.created_at or 0) / 1000, UTC),
    )


def _since(work: WaitingWorkflow) -> datetime:
    return work.since


def age_text(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``: how long, at a glance."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours = whole // 60, whole // 3600
    if hours == 0:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"
