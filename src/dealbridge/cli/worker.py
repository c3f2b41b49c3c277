"""``dealbridge worker``: run queued deals until SIGTERM or SIGINT, then drain.

Prints one JSON line first (executor id, version, queue, database, pid) so scripts and tests know
it is up. DBOS installs no signal handler (contracts/dbos.md §2c): without this trap a stop would
kill deals mid-step and leave them ``PENDING`` until a process with the same ``executor_id``
comes back. On a signal the worker stops taking deals, gives running ones
``sync.shutdown_timeout_seconds`` (or ``--drain-seconds``) to finish, then exits; whatever is
still running then resumes, from its last step, when the worker starts again.

Run it from plain synchronous code (as here): DBOS then runs deals on its own event loop, and the
main thread is free to wait for the signal and drain.
"""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

import dealbridge.cli.alerting  # registers the alert tick: a worker may recover one
import dealbridge.sync.auto_retry
import dealbridge.sync.reconcile_schedule  # noqa: F401 - a worker may recover a reconcile tick
from dealbridge.cli.runtime_cli import error_console, load_settings, reporting
from dealbridge.core.collector import tune_for_service
from dealbridge.core.event_loops import use_event_loops
from dealbridge.sync.runtime import Runtime, describe

_TICK_SECONDS = 0.5


def worker(
    drain_seconds: Annotated[
        int | None,
        typer.Option(help="Seconds running deals get to finish on stop (default: settings)."),
    ] = None,
) -> None:
    """Process the deals queue until stopped (SIGTERM/SIGINT drain gracefully)."""
    settings = load_settings()
    use_event_loops(settings.sync.event_loop)
    runtime = Runtime(settings)
    with reporting():
        runtime.launch()
    tune_for_service()  # startup is over: what exists now lives as long as the process
    stop = _trap_signals()
    try:
        typer.echo(json.dumps(describe(runtime)))
        while not stop.wait(_TICK_SECONDS):
            pass
        error_console.print("stopping: draining running deals", highlight=False)
    finally:
        runtime.shutdown(drain_seconds)


def _trap_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (a second signal still stops the wait)."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop
