"""``dealbridge demo`` (``make demo``): the whole job, live, against the built-in emulators.

1. Starts both emulators as child processes under ``./.dealbridge/demo/`` (fresh each run) and
   has the Salesforce one generate a realistic CPQ org (seed 1, 60 opportunities).
2. Starts the service in this process — the same ``Service`` ``dealbridge serve`` runs: web app,
   Outbound Message listener, deal workers and poller — on SQLite, with settings pointing at the
   emulators (``demo_config``), and creates an admin login for the console.
3. Registers the Outbound Message endpoint with the Salesforce emulator, as an admin would in
   Setup, then closes deals through the Salesforce REST API: ``--deals`` sound ones and every
   deliberately flawed one. From there nothing is called by hand: Salesforce pushes, dealbridge
   syncs, writes back, and parks the flawed deals as open errors.
4. Shows live progress (Rich), then a summary, and keeps running — any further deal closed in the
   Salesforce emulator syncs — until Ctrl-C.

``--json`` prints, as the first stdout line, ``{"console_url", "salesforce", "netsuite"}`` (the
emulators' first lines) for scripts, and nothing else on stdout. ``--exit-after-sync`` waits for
every closed deal's outcome, prints the summary (``--json``: ``DemoReport.as_json()``) and exits
0 only if the demo passed (``demo_report``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.live import Live
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.cli.demo_config import create_admin, demo_settings, new_webhook_token
from dealbridge.cli.demo_emulators import DemoOrg, Emulators, running_emulators
from dealbridge.cli.demo_progress import Snapshot, read_snapshot
from dealbridge.cli.demo_report import ClosedDeals, DemoReport
from dealbridge.cli.demo_view import ConsoleInfo, progress_view, summary_view
from dealbridge.cli.serve import Service
from dealbridge.core.logs import configure_logging
from dealbridge.db.session import engine_for, make_session_factory
from dealbridge.errors import ConfigError, DealbridgeError
from dealbridge.listening import bind_listener, public_host
from dealbridge.sync.runtime import data_dir_in_use

DEFAULT_STATE_DIR = Path(".dealbridge/demo")
ORG_SEED = 1
ORG_DEALS = 60
DEFAULT_DEALS = 20
REFRESH_SECONDS = 0.5
HOST = "127.0.0.1"
T = TypeVar("T")


@dataclass(frozen=True)
class DemoOptions:
    """The command line."""

    port: int
    as_json: bool
    exit_after_sync: bool
    deals: int
    state_dir: Path
    timeout: float


class DemoRun:
    """One demo: emulators, service, the deals it closed, and how to show them."""

    def __init__(self, options: DemoOptions, emulators: Emulators, service: Service) -> None:
        self.options = options
        self.emulators = emulators
        self.service = service
        self.started = time.monotonic()
        self.stopping = asyncio.Event()
        self.threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo")
        self.console = Console()
        self.closed = ClosedDeals([])
        self.info = ConsoleInfo(service.url)
        url = service.settings.resolved_database_url()
        self.ledger: sessionmaker[Session] = make_session_factory(engine_for(url))

    async def blocking(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking call off the loop, on the demo's own threads.

        Not ``asyncio.to_thread``: DBOS installs its own pool as the loop's default executor and
        shuts it down when the runtime stops, while the demo still has a summary to read.
        """
        return await asyncio.get_running_loop().run_in_executor(self.threads, function, *args)

    async def report(self) -> DemoReport:
        """The closed deals' state now."""
        snapshot: Snapshot = await self.blocking(read_snapshot, self.ledger, self.emulators)
        return DemoReport(self.closed, snapshot, time.monotonic() - self.started)

    async def close_deals(self, org: DemoOrg) -> None:
        """Close ``--deals`` sound deals and every flawed one of the generated org."""
        self.closed = ClosedDeals(org.won_candidates[: self.options.deals], org.flawed)
        await self.blocking(self.emulators.close_won, self.closed.all)

    async def follow(self, server: asyncio.Task[None]) -> DemoReport:
        """Refresh the progress until every closed deal has an outcome (or we must stop)."""
        deadline = self.started + self.options.timeout
        with self._live() as live:
            while True:
                report = await self.report()
                if live is not None:
                    live.update(progress_view(report))
                if report.finished or self._must_stop(server) or time.monotonic() > deadline:
                    return report
                await self._pause()

    async def watch(self, server: asyncio.Task[None]) -> None:
        """After the summary: keep showing totals while further closed deals sync."""
        with self._live() as live:
            while not self._must_stop(server):
                if live is not None:
                    live.update(progress_view(await self.report(), watching=True))
                await self._pause()

    def _live(self) -> Live | _NoLive:
        if self.options.as_json:
            return _NoLive()
        return Live(console=self.console, refresh_per_second=4, transient=True)

    def _must_stop(self, server: asyncio.Task[None]) -> bool:
        return self.stopping.is_set() or server.done()

    async def _pause(self) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), REFRESH_SECONDS)
        except TimeoutError:
            return


class _NoLive:
    """Stands in for ``Live`` when nothing may be drawn (``--json``)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def demo(
    port: Annotated[int, typer.Option(help="Port of the console and hooks (0 = any free).")] = 8700,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable output on stdout, no Rich.")
    ] = False,
    exit_after_sync: Annotated[
        bool, typer.Option(help="Exit once every closed deal has an outcome (0 = all as expected).")
    ] = False,
    deals: Annotated[int, typer.Option(help="Sound deals to close.", min=0)] = DEFAULT_DEALS,
    state_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its state (emptied first).")
    ] = DEFAULT_STATE_DIR,
    timeout: Annotated[
        float, typer.Option(help="Seconds --exit-after-sync waits for the outcomes.", min=1)
    ] = 600.0,
) -> None:
    """Sync won deals from a Salesforce emulator to a NetSuite emulator, live."""
    options = DemoOptions(port, as_json, exit_after_sync, deals, state_dir, timeout)
    configure_logging("ERROR", "console")
    try:
        code = asyncio.run(run_demo(options))
    except DealbridgeError as error:
        typer.echo(f"error: {error.message}", err=True)
        code = 1
    except OSError as error:  # the port is taken, most likely
        typer.echo(f"error: {error.strerror or error} (try --port 0 for any free port)", err=True)
        code = 1
    raise typer.Exit(code)


async def run_demo(options: DemoOptions) -> int:
    """The demo from start to stop; returns the exit status."""
    root = _fresh(options.state_dir)
    sock = bind_listener(HOST, options.port)
    url = f"http://{public_host(HOST)}:{sock.getsockname()[1]}"
    token = new_webhook_token()
    with running_emulators(root) as emulators:
        # Before the service starts: the poller watches from its first tick on, so the org's
        # history (deals won before dealbridge existed) stays the backfill's business.
        org = emulators.seed_org(ORG_SEED, ORG_DEALS)
        settings = demo_settings(
            root / "data", emulators, token=token, base_url=url, port=options.port
        )
        service = Service(settings, host=HOST, sock=sock)
        run = DemoRun(options, emulators, service)
        _trap_signals(run)
        server = asyncio.create_task(service.run())
        try:
            return await _drive(run, server, org, token)
        finally:
            service.stop()
            await server
            run.threads.shutdown(wait=False, cancel_futures=True)


async def _drive(run: DemoRun, server: asyncio.Task[None], org: DemoOrg, token: str) -> int:
    """Everything between the service starting and the demo stopping."""
    if not await _started(run.service, server):
        typer.echo("error: the service did not start (see the messages above)", err=True)
        return 1
    username, password = await run.blocking(create_admin, run.service.settings)
    run.info = ConsoleInfo(
        run.service.url,
        username,
        password,
        salesforce_url=run.emulators.salesforce["instance_url"],
        keeps_running=not run.options.exit_after_sync,
    )
    await run.blocking(run.emulators.register_outbound_message, run.service.hook_url(token))
    if run.options.as_json and not run.options.exit_after_sync:
        _print_first_line(run)
    await run.close_deals(org)
    report = await run.follow(server)
    _show_summary(run, report)
    if run.options.exit_after_sync:
        return 0 if report.finished and report.passed else 1
    await run.watch(server)
    return 0


async def _started(service: Service, server: asyncio.Task[None]) -> bool:
    """Wait until the lifespan has launched the runtime, or the server gave up."""
    ready = asyncio.create_task(service.ready.wait())
    await asyncio.wait({ready, server}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
    return service.ready.is_set()


def _print_first_line(run: DemoRun) -> None:
    line = {
        "console_url": run.service.url,
        "salesforce": run.emulators.salesforce,
        "netsuite": run.emulators.netsuite,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _show_summary(run: DemoRun, report: DemoReport) -> None:
    if not run.options.as_json:
        run.console.print(summary_view(report, run.info))
    elif run.options.exit_after_sync:
        sys.stdout.write(json.dumps(report.as_json()) + "\n")
        sys.stdout.flush()
    if not report.passed:
        for problem in report.problems():
            typer.echo(f"demo: {problem}", err=True)


def _trap_signals(run: DemoRun) -> None:
    """SIGINT/SIGTERM stop the demo gracefully (the service drains first).

    While uvicorn serves, it owns these signals and shuts the server down itself; afterwards it
    restores these handlers and raises the signal again, which then only marks the demo stopping.
    """
    loop = asyncio.get_running_loop()

    def handle(signum: int, _frame: FrameType | None) -> None:
        run.service.stop()
        loop.call_soon_threadsafe(run.stopping.set)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _fresh(state_dir: Path) -> Path:
    """An empty state directory: every demo starts from a new org and an empty ledger.

    Raises:
        ConfigError: A demo already runs there (emptying it would pull its state away).
    """
    if data_dir_in_use(state_dir / "data"):
        raise ConfigError(f"another dealbridge demo is running on {state_dir}")
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    return state_dir.resolve()
