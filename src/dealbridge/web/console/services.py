"""What the console needs beyond the ledger: an ``Operator`` for actions, and the queue's depth.

Two kinds of process serve the console. One that runs the sync runtime (``dealbridge serve``,
the demo) enqueues retries on its own launched DBOS (``runtime_operator``) and asks DBOS for the
``deals`` queue directly. A web-only node has no DBOS of its own: it enqueues through a
``DBOSClient`` of the workers' system database (``triggers.enqueue_with_client``, as the
``errors`` command does beside a running worker) and reads the queue through such a client.

A web-only node opens that client for each use and closes it (``api.operations.workers_client``,
as the API does), and acts on the app's own ledger engine. A client kept for the app's life was
never closed, and once the workers' database went away DBOS retried its connection without end:
every dashboard refresh then held a server thread for good instead of showing "unknown".

Routes receive a ``ConsoleServices`` through the ``console_services`` dependency, so a test can
hand the app a recording enqueue instead of a DBOS queue (``app.dependency_overrides``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import structlog
from dbos import DBOS, DBOSClient
from fastapi import FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.operator import Operator, runtime_operator
from dealbridge.sync.runtime import QUEUE_NAME
from dealbridge.sync.triggers import enqueue_with_client
from dealbridge.web.api.operations import guarded_enqueue, workers_client
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


class _AppLedger(Ledger):
    """The app's ledger sessions seen as a ``Ledger``: the node opens no engine of its own.

    Args:
        factory: The app's session factory (``WebContext.ledger``), on the process-wide engine.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def dispose(self) -> None:
        """Nothing to close: the engine is the process's (``db.session.dispose_engines``)."""


@dataclass(frozen=True)
class _WebOnlyNode:
    """A process without a runtime: the app's ledger, and a workers' client for each use."""

    settings: Settings
    ledger: sessionmaker[Session]

    def operator(self) -> Operator:
        return Operator(_AppLedger(self.ledger), guarded_enqueue(self._enqueue))

    def _enqueue(self, workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
        with workers_client(self.settings) as client:
            enqueue_with_client(client, workflow_id, opportunity_id, info)

    def queue_depth(self) -> QueueDepth:
        return _counted(self._queued)

    def _queued(self) -> list[Any]:
        with workers_client(self.settings) as client:
            return client.list_queued_workflows(
                queue_name=QUEUE_NAME,
                limit=QUEUE_COUNT_LIMIT,
                load_input=False,
                load_output=False,
            )

    def engine_work(self) -> EngineWork:
        with ExitStack() as opened:

            def client() -> DBOSClient:
                return opened.enter_context(workers_client(self.settings))

            return read_engine_work(client)


def _runtime_operator() -> Operator:
    """The runtime's operator, its enqueue failures reported as ``QueueUnavailableError``."""
    operator = runtime_operator()
    return Operator(operator.ledger, guarded_enqueue(operator.enqueue))


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
        services = ConsoleServices(_runtime_operator, _runtime_queue_depth, read_engine_work)
    else:
        node = _WebOnlyNode(context.settings, context.ledger)
        services = ConsoleServices(node.operator, node.queue_depth, node.engine_work)
    setattr(app.state, _STATE_KEY, services)
    return services


def console_services(request: Request) -> ConsoleServices:
    """FastAPI dependency: this app's ``ConsoleServices``."""
    web_context(request)  # refuses an app not made by create_web_app
    return services_for(request.app)
