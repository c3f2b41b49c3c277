"""The emulator process: state directory, socket, the one line on stdout, then uvicorn.

A parent process (a test, a benchmark, ``make demo``) learns the URL and the credentials from
the first stdout line, a single JSON object printed once the socket is bound and before the first
request is served; nothing else is ever written to stdout (logs go to stderr).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from dealbridge.connectors.netsuite.emulator.app import create_app
from dealbridge.connectors.netsuite.emulator.config import EmulatorOptions
from dealbridge.connectors.netsuite.emulator.control import CONTROL_PREFIX
from dealbridge.connectors.netsuite.emulator.credentials import (
    Credentials,
    load_or_create_credentials,
)
from dealbridge.connectors.netsuite.emulator.records import RecordService
from dealbridge.connectors.netsuite.emulator.state import EmulatorState
from dealbridge.connectors.netsuite.emulator.store import RecordStore
from dealbridge.connectors.netsuite.models import REST_PREFIX, TOKEN_PATH, realm_of
from dealbridge.listening import bind_listener, public_host

DATABASE_FILE = "netsuite.sqlite3"
_SHUTDOWN_GRACE_SECONDS = 3  # a request hung by the timeout fault must not stall an exit


def serve(options: EmulatorOptions) -> None:
    """Run the emulator until SIGTERM or SIGINT, then exit with status 0."""
    _exit_cleanly_on_signals()  # before the announcement: a parent may stop us right after it
    state_dir = _state_dir(options)
    database = state_dir / DATABASE_FILE
    store = RecordStore(str(database))
    try:
        state = _open_state(options, state_dir, store)
        sock = bind_listener(options.host, options.port)
        _announce(_first_line(options, state.credentials, state_dir, sock))
        config = uvicorn.Config(
            create_app(options, state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        store.close()  # checkpoints the WAL, so the state dir is whole for the next start


def _state_dir(options: EmulatorOptions) -> Path:
    if options.state_dir is None:
        return Path(tempfile.mkdtemp(prefix="dealbridge-netsuite-"))
    options.state_dir.mkdir(parents=True, exist_ok=True)
    return options.state_dir


def _open_state(options: EmulatorOptions, state_dir: Path, store: RecordStore) -> EmulatorState:
    """Records (reference data, then the seed file) and credentials of ``state_dir``.

    The seed goes into a fresh database only: a restart on the same state directory finds it
    there already, and loading it twice would collide on its external ids.
    """
    fresh = store.count() == 0
    records = RecordService(store)
    seed = _read_seed(options.seed_file)
    if seed and fresh:
        records.load_seed(seed)
    return EmulatorState.build(options, records, load_or_create_credentials(state_dir), seed)


def _read_seed(path: Path | None) -> dict[str, list[dict[str, Any]]] | None:
    if path is None:
        return None
    data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _first_line(
    options: EmulatorOptions, credentials: Credentials, state_dir: Path, sock: socket.socket
) -> dict[str, Any]:
    origin = f"http://{public_host(options.host)}:{sock.getsockname()[1]}"
    base_url = origin + REST_PREFIX
    ps256 = credentials.certificate_for("PS256")
    es256 = credentials.certificate_for("ES256")
    oauth2 = {"client_id": credentials.client_id, "token_url": base_url + TOKEN_PATH}
    return {
        "base_url": base_url,
        "account": options.account,
        "control_url": origin + CONTROL_PREFIX,
        "tba": {**credentials.tba.model_dump(), "realm": realm_of(options.account)},
        "oauth2": {
            **oauth2,
            "certificate_id": ps256.certificate_id,
            "private_key_pem": ps256.private_key_pem,
            "algorithm": ps256.algorithm,
        },
        "oauth2_es256": {
            **oauth2,
            "certificate_id": es256.certificate_id,
            "private_key_pem": es256.private_key_pem,
            "algorithm": es256.algorithm,
        },
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
