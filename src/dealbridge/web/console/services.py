"""What the console needs beyond the ledger: an ``Operator`` for actions, and the queue's depth.

Two kinds of process serve the console. One that runs the sync runtime (``dealbridge serve``,
the demo) enqueues retries on its own launched DBOS (``runtime_operator``) and asks DBOS for the
``deals`` queue directly. A web-only node has no DBOS of its own: it enqueues through a
``DBOSClient`` of the workers' system database (``triggers.enqueue_with_client``, as the
``errors`` command does beside a running worker) and reads the queue through the same client.
That client and the node's ``Ledger`` are made once per app, on first use.

Routes receive a ``ConsoleServices`` through the ``console_services`` dependency, so a test can
hand the app a recording enqueue instead of a DBOS queue (``app.dependency_overrides``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from dbos import DBOS, DBOSClient
from fastapi import FastAPI, Request

from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.operator import Operator, runtime_operator
from dealbridge.sync.runtime import APP_NAME, QUEUE_NAME, system_database_url
from dealbridge.sync.triggers import enqueue_with_client
from dealbridge.web.console.engine_work import EngineWork, read_engine_work
from dealbridge.web.context import web_context

# Counting the queue lists its rows; past this many the dashboard shows "at least".
QUEUE_COUNT_LIMIT = 10_000
_STATE_KEY = "dealbridge_console"
_log = structlog.get_logger("dealbridge.web.console")


@dataclass(frozen=True)
class QueueDepth:
    """Deals waiting or running on the ``deals`` queue; ``None`` when it cannot be read now."""

    count: int | None
    capped: bool = False

    def __str__(self) -> str:
        if self.count is None:
            return "unknown"
        return f"{self.count}+" if self.capped else str(self.count)


@dataclass
class ConsoleServices:
    """How the console acts and what it asks DBOS.

    Args:
        make_operator: Returns the ``Operator`` for one action.
        read_queue_depth: Counts the ``deals`` queue (``QueueDepth(None)`` when unreadable).
        read_engine_work: Lists ``PENDING`` and ``ENQUEUED`` workflows (``engine_work``);
            None where DBOS cannot be asked.
    """

    make_operator: Callable[[], Operator]
    read_queue_depth: Callable[[], QueueDepth]
    read_engine_work: Callable[[], EngineWork] | None = None


@dataclass
class _WebOnlyNode:
    """The ledger and DBOS client of a process without a runtime, made on first use."""

    settings: Settings
    _ledger: Ledger | None = None
    _client: DBOSClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ledger(self) -> Ledger:
        with self._lock:
            if self._ledger is None:
                self._ledger = Ledger(self.settings.resolved_database_url())
            return self._ledger

    def client(self) -> DBOSClient:
        with self._lock:
            if self._client is None:
                self._client = DBOSClient(
                    system_database_url=system_database_url(self.settings),
                    application_name=APP_NAME,
                )
            return self._client

    def operator(self) -> Operator:
        client = self.client()

        def enqueue(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
            enqueue_with_client(client, workflow_id, opportunity_id, info)

        return Operator(self.ledger(), enqueue)

    def queue_depth(self) -> QueueDepth:
        return _counted(
            lambda: self.client().list_queued_workflows(
                queue_name=QUEUE_NAME,
                limit=QUEUE_COUNT_LIMIT,
                load_input=False,
                load_output=False,
            )
        )


def _runtime_queue_depth() -> QueueDepth:
    return _counted(
        lambda: DBOS.list_queued_workflows(
            queue_name=QUEUE_NAME, limit=QUEUE_COUNT_LIMIT, load_input=False, load_output=False
        )
    )


def _counted(listing: Callable[[], list[Any]]) -> QueueDepth:
    try:
        count = len(listing())
    except Exception as exc:  # the dashboard shows "unknown"; never the error's text
        _log.warning("queue_depth_unavailable", error=type(exc).__name__)
        return QueueDepth(None)
    return QueueDepth(count, capped=count >= QUEUE_COUNT_LIMIT)


def services_for(app: FastAPI) -> ConsoleServices:
    """The services of ``app``: its runtime's when it has one, a web-only node's otherwise."""
    existing = getattr(app.state, _STATE_KEY, None)
    if isinstance(existing, ConsoleServices):
        return existing
    context = app.state.dealbridge
    if context.runtime is not None:
        services = ConsoleServices(runtime_operator, _runtime_queue_depth, read_engine_work)
    else:
        node = _WebOnlyNode(context.settings)
        services = ConsoleServices(
            node.operator, node.queue_depth, lambda: read_engine_work(node.client)
        )
    setattr(app.state, _STATE_KEY, services)
    return services


def console_services(request: Request) -> ConsoleServices:
    """FastAPI dependency: this app's ``ConsoleServices``."""
    web_context(request)  # refuses an app not made by create_web_app
    return services_for(request.app)
