"""One ``NetSuiteClient`` and one ``SalesforceClient`` per event loop, closed with their loop.

Why per loop: an httpx ``AsyncClient`` owns a connection pool bound to the loop that first used
it, and DBOS runs async workflows on more than one loop. Read in ``dbos/_event_loop.py`` and
``dbos/_core.py`` (3.4.0): a workflow *dequeued* by the queue thread runs on the loop that was
running when ``DBOS.launch()`` was called (uvicorn's, in ``serve``), or, when ``launch()`` came from
plain synchronous code (``dealbridge worker``, tests), on DBOS's own background-loop thread; a
workflow started directly with ``DBOS.start_workflow_async`` runs on the caller's loop. So a
process can meet two or three loops, and each gets its own pair of clients.

Why closing rides on an async generator: DBOS stops its background loop itself (cancel every task,
``shutdown_asyncgens()``, close), so there is no moment at which our code runs on that loop after
the last workflow and before the loop dies. A suspended async generator is closed by
``shutdown_asyncgens()`` on its own loop — and by ``asyncio.run`` on the way out — so its
``finally`` closes the clients there, with their sockets, instead of leaking them to the GC.

The NetSuite concurrency limiter is process-wide (``governance.shared_limiter``), so several
loops still share one NetSuite budget.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import httpx

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.settings import Settings
from dealbridge.sync.call_log import observe_call


@dataclass
class LoopClients:
    """The clients of one event loop."""

    netsuite: NetSuiteClient
    salesforce: SalesforceClient

    async def aclose(self) -> None:
        """Close both connection pools."""
        await asyncio.gather(
            self.netsuite.aclose(), self.salesforce.aclose(), return_exceptions=True
        )


@dataclass(frozen=True)
class Transports:
    """Optional httpx transports (tests route the clients through a wire log or a mock)."""

    netsuite: Callable[[], httpx.AsyncBaseTransport] | None = None
    salesforce: Callable[[], httpx.AsyncBaseTransport] | None = None


class ClientRegistry:
    """Hands each event loop its clients, creating them on first use.

    Args:
        settings: Where the two systems are and how to authenticate.
        transports: Factories of transports for new clients (tests); real HTTP by default.
    """

    def __init__(self, settings: Settings, transports: Transports | None = None) -> None:
        self._settings = settings
        self._transports = transports or Transports()
        self._lock = threading.Lock()
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[LoopClients, AsyncGenerator[LoopClients, None]]
        ] = weakref.WeakKeyDictionary()

    async def get(self) -> LoopClients:
        """The running loop's clients."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._by_loop.get(loop)
        if entry is not None:
            return entry[0]
        clients = self._build()
        lifetime = _lifetime(clients)
        await lifetime.__anext__()  # registers the generator with this loop's shutdown
        with self._lock:
            existing = self._by_loop.get(loop)
            if existing is None:
                self._by_loop[loop] = (clients, lifetime)
                return clients
        await lifetime.aclose()  # another task of this loop won the race
        return existing[0]

    async def close_current(self) -> None:
        """Close the running loop's clients now (a caller that owns its loop, e.g. the CLI)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._by_loop.pop(loop, None)
        if entry is not None:
            await entry[1].aclose()

    def _build(self) -> LoopClients:
        factories = self._transports
        netsuite = NetSuiteClient(
            self._settings.netsuite,
            on_call=observe_call,
            transport=factories.netsuite() if factories.netsuite else None,
            record_bodies=self._settings.sync.record_call_bodies,
        )
        salesforce = SalesforceClient(
            self._settings.salesforce,
            on_call=observe_call,
            transport=factories.salesforce() if factories.salesforce else None,
            record_bodies=self._settings.sync.record_call_bodies,
        )
        return LoopClients(netsuite, salesforce)


async def _lifetime(clients: LoopClients) -> AsyncGenerator[LoopClients, None]:
    """Suspended for the life of the loop; closing it closes the clients (module docstring)."""
    try:
        yield clients
    finally:
        await clients.aclose()
