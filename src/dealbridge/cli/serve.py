"""``dealbridge serve``: web app and sync runtime in one process.

The web app is the console, the API and the Outbound Message hooks; the runtime is the deal
workers and the poller. The runtime lives in the FastAPI lifespan: on startup DBOS launches
(recovering this executor's unfinished deals, contracts/dbos.md §1) and the poller's schedule is
applied; on shutdown the process stops taking deals and gives running ones
``sync.shutdown_timeout_seconds`` to finish (§2c: DBOS traps no signal, so without this a stop
would strand them ``PENDING`` until the same executor comes back). uvicorn turns SIGTERM and
SIGINT into that graceful shutdown: requests in flight are answered first — an Outbound Message
being queued still gets its Ack or its fault — then the lifespan drains the runtime.

The socket is bound before anything starts, so ``--port 0`` becomes a real port, and the first
stdout line (one JSON object: URL, hook path, executor, data dir, pid) is printed once DBOS has
launched, so a script or test knows the service is taking work. ``Service`` is also what
``dealbridge demo`` runs in its own process.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI

import dealbridge.sync.poller  # noqa: F401 - registers the poll workflow before DBOS launches
from dealbridge.cli.alerting import register_alert_schedule
from dealbridge.cli.runtime_cli import fail, load_settings
from dealbridge.connectors.salesforce.models import OUTBOUND_MESSAGE_PATH
from dealbridge.core.collector import tune_for_service
from dealbridge.core.event_loops import use_event_loops
from dealbridge.listening import bind_listener, public_host
from dealbridge.settings import Settings
from dealbridge.sync.auto_retry import register_auto_retry_schedule
from dealbridge.sync.poller import cron_for, start_poller
from dealbridge.sync.reconcile_schedule import register_reconcile_schedule
from dealbridge.sync.runtime import Runtime, describe, runtime_is_running
from dealbridge.web import api, console, create_web_app, hooks

HTTP_GRACE_SECONDS = 10  # requests in flight get this long to finish on shutdown

OnReady = Callable[["Service"], None]


class Service:
    """The web app and the runtime behind one bound socket.

    Args:
        settings: All settings.
        host: Interface to listen on.
        port: TCP port; 0 picks a free one.
        on_ready: Called once the runtime has launched and the poller is scheduled.
        sock: A socket already bound with ``bind_listener(host, port)`` (when the caller needed the
            port before the settings were final); ``port`` is then ignored.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        host: str,
        port: int = 0,
        on_ready: OnReady | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = Runtime(settings)
        self.app: FastAPI = create_web_app(
            settings, runtime=self.runtime, routers=[hooks.router, *api.routers, *console.routers]
        )
        self.socket = sock if sock is not None else bind_listener(host, port)
        self.host = public_host(host)
        self.port: int = self.socket.getsockname()[1]
        self.ready = asyncio.Event()
        self._on_ready = on_ready
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=HTTP_GRACE_SECONDS,
        )
        self.server = uvicorn.Server(config)
        self._wrap_lifespan()

    @property
    def url(self) -> str:
        """Where the console, the API and the hooks answer."""
        return f"http://{self.host}:{self.port}"

    def hook_url(self, token: str) -> str:
        """The Outbound Message endpoint URL for ``token`` (what Salesforce is configured with)."""
        return self.url + OUTBOUND_MESSAGE_PATH + token

    async def run(self) -> None:
        """Serve until ``stop()`` or a signal; the lifespan launches and drains the runtime."""
        try:
            await self.server.serve(sockets=[self.socket])
        finally:
            self.socket.close()

    def stop(self) -> None:
        """Ask the server to shut down gracefully (from the loop's thread or a signal handler)."""
        self.server.should_exit = True

    def describe(self) -> dict[str, Any]:
        """What ``serve`` prints first: where it listens and what it runs (no secrets)."""
        poller = self.settings.poller
        return {
            "url": self.url,
            "outbound_message_path": OUTBOUND_MESSAGE_PATH + "{token}",
            "webhook_token_set": self.settings.webhook_token is not None,
            "poller": {
                "enabled": poller.enabled,
                "schedule": cron_for(poller.interval_seconds),
                "overlap_seconds": poller.overlap_seconds,
            },
            **describe(self.runtime),
        }

    def _wrap_lifespan(self) -> None:
        """Run the runtime around the web app's own lifespan."""
        inner = self.app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
            await self.runtime.launch_async()
            try:
                await start_poller(self.settings.poller)
                await register_reconcile_schedule(self.runtime, self.settings.reconcile)
                await register_auto_retry_schedule(self.runtime, self.settings.auto_retry)
                await register_alert_schedule(self.runtime, self.settings)
                async with inner(app) as state:
                    self.ready.set()
                    if self._on_ready is not None:
                        self._on_ready(self)
                    yield state
            finally:
                await self.runtime.shutdown_async()

        self.app.router.lifespan_context = lifespan


def serve(
    port: Annotated[
        int | None, typer.Option(help="TCP port (default: web.port, 8700; 0 = any free port).")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default: web.host).")
    ] = None,
) -> None:
    """Run the console, API and Outbound Message hooks with the deal workers and the poller."""
    settings = load_settings()
    if runtime_is_running(settings):
        fail(f"another dealbridge process is running on {settings.data_dir}")
    use_event_loops(settings.sync.event_loop)
    try:
        service = Service(
            settings,
            host=host or settings.web.host,
            port=settings.web.port if port is None else port,
            on_ready=_announce,
        )
    except OSError as error:
        fail(f"cannot listen on {host or settings.web.host}:{port}: {error.strerror}")
    _exit_cleanly_after_signals()
    asyncio.run(service.run())
    if not service.ready.is_set():
        raise typer.Exit(1)  # the lifespan failed; uvicorn has logged why


def _announce(service: Service) -> None:
    tune_for_service()  # startup is over: what exists now lives as long as the process
    typer.echo(json.dumps(service.describe()))


def _exit_cleanly_after_signals() -> None:
    """Turn the signal uvicorn re-raises after its graceful shutdown into a normal exit.

    uvicorn traps SIGTERM/SIGINT while serving, shuts down (lifespan drain included), restores
    the previous handlers and raises the signal again; these handlers end the process with 0.
    """

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit)
