"""The demo's two emulators: child processes, their first lines, and the org the demo plays with.

Why child processes rather than apps in this process: the emulators are what a user would run
against dealbridge, and each one owns an event loop, a uvicorn server and an Outbound Message
sender; keeping them apart means the demo exercises the same HTTP paths as production. Their
stderr goes to a log file in the demo directory (a pipe nobody reads would fill and stall them);
stdout carries only the first line (``emulator/server.py``).

Everything a person would do in Salesforce — registering the Outbound Message, closing a deal —
goes through the emulator's REST API or its control API (``/__emulator__/``), never into its
files.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dealbridge.connectors.salesforce.models import (
    DATA_PATH,
    DEFAULT_API_VERSION,
    OUTBOUND_MESSAGE_FIELDS,
    OUTBOUND_MESSAGE_NAME,
)
from dealbridge.errors import ConfigError

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
HTTP_TIMEOUT_SECONDS = 30.0
CLOSED_WON = "Closed Won"


@dataclass
class DemoOrg:
    """The generated Salesforce org: what the demo may close.

    Attributes:
        won_candidates: Open, sound, quoted opportunities (they should sync).
        flawed: Open opportunities with a deliberate flaw → the reason code (they should fail
            with a clear open error).
    """

    won_candidates: list[str] = field(default_factory=list)
    flawed: dict[str, str] = field(default_factory=dict)


@dataclass
class Emulators:
    """Both running emulators, by their first stdout lines."""

    salesforce: dict[str, Any]
    netsuite: dict[str, Any]

    def sf_control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the Salesforce emulator's control API; raises on anything but 200."""
        return _control(self.salesforce["control_url"], method, path, body)

    def ns_control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the NetSuite emulator's control API; raises on anything but 200."""
        return _control(self.netsuite["control_url"], method, path, body)

    def seed_org(self, seed: int, deals: int) -> DemoOrg:
        """A freshly generated org of ``deals`` opportunities (the same for the same seed)."""
        self.sf_control("POST", "/reset")
        loaded = self.sf_control("POST", "/seed", {"seed": seed, "deals": deals})
        return DemoOrg(list(loaded["won_candidates"]), dict(loaded["flawed"]))

    def register_outbound_message(self, url: str) -> dict[str, Any]:
        """Point the org's Closed Won Outbound Message at ``url`` (what an admin does once)."""
        config = {
            "url": url,
            "name": OUTBOUND_MESSAGE_NAME,
            "fields": list(OUTBOUND_MESSAGE_FIELDS),
        }
        endpoint: dict[str, Any] = self.sf_control("POST", "/outbound/endpoints", config)
        return endpoint

    def close_won(self, opportunity_ids: list[str]) -> list[str]:
        """Mark each opportunity Closed Won through the REST API, as a sales rep would.

        Returns the ids closed; raises ``ConfigError`` naming the first refusal.
        """
        token = self.sf_control("POST", "/tokens")["access_token"]
        base = f"{self.salesforce['instance_url']}{DATA_PATH}/v{DEFAULT_API_VERSION}"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=HTTP_TIMEOUT_SECONDS) as rest:
            for identifier in opportunity_ids:
                answer = rest.patch(
                    f"/sobjects/Opportunity/{identifier}", json={"StageName": CLOSED_WON}
                )
                if answer.status_code != 204:
                    raise ConfigError(
                        f"Salesforce refused to close {identifier}: "
                        f"{answer.status_code} {answer.text[:300]}"
                    )
        return opportunity_ids

    def netsuite_records(self, record_type: str) -> list[dict[str, Any]]:
        """Every stored NetSuite record of a type."""
        records: list[dict[str, Any]] = self.ns_control("GET", f"/records/{record_type}")
        return records


@contextmanager
def running_emulators(state_dir: Path) -> Iterator[Emulators]:
    """Start both emulators under ``state_dir``; stop them (SIGTERM) on the way out."""
    with ExitStack() as stack:
        salesforce = stack.enter_context(
            _child(
                ["salesforce", "--port", "0", "--deals", "0", "--seed", "1"],
                state_dir / "salesforce",
            )
        )
        netsuite = stack.enter_context(_child(["netsuite", "--port", "0"], state_dir / "netsuite"))
        yield Emulators(salesforce, netsuite)


@contextmanager
def _child(args: list[str], state_dir: Path) -> Iterator[dict[str, Any]]:
    """``python -m dealbridge emulate ARGS`` and its first stdout line, as JSON."""
    state_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "dealbridge", "emulate", *args, "--state-dir", str(state_dir)]
    with (state_dir.parent / f"{state_dir.name}.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL
        )
    try:
        yield json.loads(_first_line(process, args[0]))
    finally:
        _stop(process)


def _first_line(process: subprocess.Popen[bytes], name: str) -> bytes:
    """The child's first stdout line; ``ConfigError`` if it exits or stays silent."""
    assert process.stdout is not None  # noqa: S101 - set by stdout=PIPE
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line:
                return line
    raise ConfigError(f"the {name} emulator did not start (exit status {process.poll()})")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
    if process.stdout is not None:
        process.stdout.close()


def _control(base_url: str, method: str, path: str, body: Any) -> Any:
    answer = httpx.request(method, base_url + path, json=body, timeout=HTTP_TIMEOUT_SECONDS)
    if answer.status_code != 200:
        raise ConfigError(f"{method} {base_url}{path}: {answer.status_code} {answer.text[:300]}")
    return answer.json()
