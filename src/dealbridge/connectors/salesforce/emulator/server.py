"""The emulator process: state directory, socket, the one line on stdout, then uvicorn.

A parent process (a test, a benchmark, ``make demo``) learns the instance URL and every
credential from the first stdout line, a single JSON object printed once the socket is bound and
before the first request is served; nothing else is ever written to stdout (logs go to stderr).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from dealbridge.connectors.salesforce.emulator.app import create_app
from dealbridge.connectors.salesforce.emulator.config import SalesforceEmulatorOptions
from dealbridge.connectors.salesforce.emulator.control import CONTROL_PREFIX
from dealbridge.connectors.salesforce.emulator.credentials import load_or_create_credentials
from dealbridge.connectors.salesforce.emulator.state import SEEDED_FLAG, SalesforceEmulatorState
from dealbridge.connectors.salesforce.emulator.store import RecordStore
from dealbridge.connectors.salesforce.emulator.tls import TlsFiles, load_or_create_tls
from dealbridge.connectors.salesforce.models import DEFAULT_API_VERSION, TOKEN_PATH
from dealbridge.listening import bind_listener, public_host

DATABASE_FILE = "salesforce.sqlite3"
_SHUTDOWN_GRACE_SECONDS = 3  # a request held by latency must not stall an exit


def serve(options: SalesforceEmulatorOptions) -> None:
    """Run the emulator until SIGTERM or SIGINT, then exit with status 0."""
    _exit_cleanly_on_signals()  # before the announcement: a parent may stop us right after it
    state_dir = _state_dir(options)
    store = RecordStore(state_dir / DATABASE_FILE)
    try:
        sock = bind_listener(options.host, options.port)
        tls = load_or_create_tls(state_dir, options.host) if options.tls else None
        scheme = "https" if tls else "http"
        instance_url = f"{scheme}://{public_host(options.host)}:{sock.getsockname()[1]}"
        state = SalesforceEmulatorState.build(
            options, store, load_or_create_credentials(state_dir), instance_url
        )
        _seed_first_start(state)
        _announce(_first_line(state, state_dir, tls))
        config = uvicorn.Config(
            create_app(state),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
            ssl_certfile=str(tls.server_cert) if tls else None,
            ssl_keyfile=str(tls.server_key) if tls else None,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        store.close()  # checkpoints the WAL, so the state dir is whole for the next start


def _state_dir(options: SalesforceEmulatorOptions) -> Path:
    if options.state_dir is None:
        return Path(tempfile.mkdtemp(prefix="dealbridge-salesforce-"))
    options.state_dir.mkdir(parents=True, exist_ok=True)
    return options.state_dir


def _seed_first_start(state: SalesforceEmulatorState) -> None:
    """Load the generated org into a new state directory only: a restart keeps what is there."""
    if state.store.meta(SEEDED_FLAG) is None and state.store.count() == 0:
        state.load_seed_org(state.options.seed, state.options.deals, today=date.today())


def _first_line(
    state: SalesforceEmulatorState, state_dir: Path, tls: TlsFiles | None
) -> dict[str, Any]:
    credentials = state.credentials
    token_url = state.instance_url + TOKEN_PATH
    return {
        "instance_url": state.instance_url,
        "org_id": credentials.org_id,
        "access_token": state.tokens.issue(),
        "api_version": DEFAULT_API_VERSION,
        "jwt": {
            "consumer_key": credentials.consumer_key,
            "username": credentials.username,
            "private_key": credentials.private_key,
            "certificate": credentials.certificate,
            "audience": state.instance_url,
            "token_url": token_url,
        },
        "client_credentials": {
            "client_id": credentials.consumer_key,
            "client_secret": credentials.client_secret,
            "token_url": token_url,
        },
        "ca_cert": str(tls.ca_cert) if tls else None,
        "control_url": state.instance_url + CONTROL_PREFIX,
        "state_dir": str(state_dir),
        "pid": os.getpid(),
    }


def _announce(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _exit_cleanly_on_signals() -> None:
    """Make the signal uvicorn re-raises after its graceful shutdown end the process with 0.

    uvicorn traps SIGTERM/SIGINT while serving, drains, restores the previous handlers and
    raises the signal again; these handlers turn that into a normal exit instead of a kill.
    """

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit)
