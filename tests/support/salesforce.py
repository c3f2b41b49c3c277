"""The real ``SalesforceClient`` pointed at a running Salesforce emulator process.

Everything a client needs comes from the emulator's first stdout line (``emulator/server.py``):
``instance_url``, ``jwt{consumer_key, username, private_key, audience, token_url}``,
``client_credentials{client_id, client_secret, token_url}`` and, with ``--tls``, ``ca_cert``.
This module turns that line into ``SalesforceSettings`` for either auth mode, builds clients that
record every ``CallRecord`` (so a test counts API calls and attempts), and steers the emulator
through its control API (``/__emulator__/``, ``emulator/control.py``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from dealbridge.connectors.salesforce.auth import TOKEN_OPERATION
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.core.calls import CallRecord
from dealbridge.settings import SalesforceSettings
from tests.support.processes import dealbridge_process

Info = dict[str, Any]
Row = dict[str, Any]
AuthMode = Literal["jwt", "client_credentials"]
AUTH_MODES: tuple[AuthMode, ...] = ("jwt", "client_credentials")
# Retries against a local emulator need not wait; the retry policy is what is under test.
QUICK_RETRIES: dict[str, Any] = {
    "backoff_base_seconds": 0.001,
    "backoff_max_seconds": 0.01,
    "timeout_seconds": 60.0,
}
POLL_SECONDS = 0.02


# -- settings -----------------------------------------------------------------------------------


def salesforce_settings(info: Info, mode: AuthMode = "jwt", **overrides: Any) -> SalesforceSettings:
    """Settings for the emulator of ``info`` in one auth mode; ``overrides`` win.

    The token endpoint is the emulator itself (``login_url`` = its instance URL, as a My Domain
    login would be), and over ``--tls`` the generated CA is the ``ca_bundle``.
    """
    values: dict[str, Any] = {
        "login_url": info["instance_url"],
        "org_id": info["org_id"],
        **QUICK_RETRIES,
    }
    if info.get("ca_cert"):
        values["ca_bundle"] = info["ca_cert"]
    values.update(jwt_values(info) if mode == "jwt" else client_credentials_values(info))
    values.update(overrides)
    return SalesforceSettings(**values)


def jwt_values(info: Info) -> dict[str, Any]:
    """JWT bearer (contracts §2): consumer key, integration user, the app's private key file."""
    jwt = info["jwt"]
    return {
        "auth_mode": "jwt",
        "consumer_key": jwt["consumer_key"],
        "username": jwt["username"],
        "private_key_file": jwt["private_key"],
        "audience": jwt["audience"],
    }


def client_credentials_values(info: Info) -> dict[str, Any]:
    """Client credentials (contracts §2): the app's id and secret."""
    credentials = info["client_credentials"]
    return {
        "auth_mode": "client_credentials",
        "client_id": credentials["client_id"],
        "client_secret": credentials["client_secret"],
    }


# -- clients ------------------------------------------------------------------------------------


@dataclass
class ClientRun:
    """A client wired to the emulator and the call records it reported."""

    client: SalesforceClient
    settings: SalesforceSettings
    calls: list[CallRecord] = field(default_factory=list)

    def api_calls(self, operation: str | None = None) -> list[CallRecord]:
        """Records of REST attempts (not token requests), optionally of one operation."""
        return [
            record
            for record in self.calls
            if record.extra.get("operation") != TOKEN_OPERATION
            and (operation is None or record.extra.get("operation") == operation)
        ]

    def token_calls(self) -> list[CallRecord]:
        """Records of token requests."""
        return [r for r in self.calls if r.extra.get("operation") == TOKEN_OPERATION]

    def forget_calls(self) -> None:
        """Start counting afresh."""
        self.calls.clear()


def make_client(
    info: Info,
    mode: AuthMode = "jwt",
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> ClientRun:
    """A new client for the emulator of ``info`` whose call records a test can read."""
    settings = salesforce_settings(info, mode, **overrides)
    calls: list[CallRecord] = []
    client = SalesforceClient(settings, transport=transport, on_call=calls.append)
    return ClientRun(client, settings, calls)


ResponseHook = Callable[[httpx.Request, httpx.Response], Awaitable[None]]


class HookedTransport(httpx.AsyncBaseTransport):
    """Real HTTP, with a coroutine run after every response (before the client sees it).

    How a test turns a fault off right after it first hit, so "retried, then succeeded" is
    deterministic rather than a matter of fault rates.
    """

    def __init__(self, hook: ResponseHook) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._hook = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send, run the hook, hand the response on."""
        response = await self._inner.handle_async_request(request)
        await response.aread()
        await self._hook(request, response)
        return response

    async def aclose(self) -> None:
        """Close the pool."""
        await self._inner.aclose()


# -- the emulator process and its control API -----------------------------------------------------


@contextmanager
def running_salesforce(state_dir: Path, **options: Any) -> Iterator[Info]:
    """``dealbridge emulate salesforce`` on a free port; yields its first line, stops it after.

    For module-scoped emulators (``conftest.start_salesforce_emulator`` is per test).
    ``tls=True`` becomes ``--tls``.
    """
    args = ["emulate", "salesforce", "--port", "0", "--state-dir", str(state_dir)]
    for name, value in options.items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, bool):
            args += [flag] if value else []
        else:
            args += [flag, str(value)]
    with dealbridge_process(args) as started:
        yield started.info


class SalesforceHooks:
    """The emulator's test hooks (``/__emulator__/``, see ``emulator/control.py``)."""

    def __init__(self, info: Info) -> None:
        self.url = str(info["control_url"])
        self._verify: str | bool = info.get("ca_cert") or True

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One control call that must answer 200; its JSON."""
        answer = httpx.request(method, self.url + path, json=body, timeout=120, verify=self._verify)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def reset(self) -> None:
        """An empty org, start-up faults and limits, zero usage, no endpoints or deliveries."""
        self.call("POST", "/reset")

    def seed(self, deals: int, seed: int = 1) -> dict[str, Any]:
        """Load the generated org; says which deals are flawed and which may be closed."""
        result: dict[str, Any] = self.call("POST", "/seed", {"seed": seed, "deals": deals})
        return result

    def load(self, rows: dict[str, list[Row]]) -> dict[str, list[str]]:
        """Load raw rows without validation; returns the ids per sObject, in order.

        The control API answers counts only, so rows without an ``Id`` are read back from the
        dump (new rows come last).
        """
        before = {sobject: len(self.dump(sobject)) for sobject in rows}
        self.call("POST", "/records", rows)
        return {
            sobject: [row["Id"] for row in self.dump(sobject)[before[sobject] :]]
            for sobject in rows
        }

    def dump(self, sobject: str) -> list[Row]:
        """Every stored record of an sObject, deleted ones included, as stored."""
        rows: list[Row] = self.call("GET", f"/records/{sobject}")
        return rows

    def record(self, sobject: str, record_id: str) -> Row:
        """One stored record by id."""
        [row] = [row for row in self.dump(sobject) if row["Id"] == record_id]
        return row

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Change fault rates, latency, the daily API allocation, the token lifetime."""
        settings: dict[str, Any] = self.call("PUT", "/faults", changes)
        return settings

    def stats(self) -> dict[str, Any]:
        """API calls, statuses, faults injected, auth failures, records per sObject."""
        stats: dict[str, Any] = self.call("GET", "/stats")
        return stats

    def expire_tokens(self) -> int:
        """End every session; the next REST call gets 401 ``INVALID_SESSION_ID``."""
        expired: int = self.call("POST", "/tokens/expire")["expired"]
        return expired

    def register_endpoint(self, url: str, **config: Any) -> dict[str, Any]:
        """Register an Outbound Message endpoint."""
        endpoint: dict[str, Any] = self.call("POST", "/outbound/endpoints", {"url": url, **config})
        return endpoint

    def outbound_mode(self, **flags: Any) -> dict[str, Any]:
        """``duplicate``, ``reorder``, ``max_batch``."""
        mode: dict[str, Any] = self.call("PUT", "/outbound/mode", flags)
        return mode

    def deliveries(self) -> dict[str, Any]:
        """``{"deliveries": [...], "pending": n}``."""
        log: dict[str, Any] = self.call("GET", "/outbound/deliveries")
        return log


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_SECONDS)


# -- comparing typed models with what the emulator stores ------------------------------------------


def model_mismatches(model: BaseModel, row: Row) -> list[str]:
    """Fields of ``model`` whose value differs from the stored ``row`` (by API name).

    Relationship fields (nested models) are left out; so are fields the row does not hold at all
    (the org computes them at query time). Numbers compare as exact decimals, dates and
    datetimes by value, an absent checkbox as False.
    """
    problems = []
    for name, info in type(model).model_fields.items():
        alias = info.alias or name
        value = getattr(model, name)
        if isinstance(value, BaseModel) or alias not in row:
            continue
        if not same_value(value, row[alias]):
            problems.append(f"{alias}: model {value!r} != stored {row[alias]!r}")
    return problems


def same_value(value: Any, stored: Any) -> bool:
    """Whether a parsed model value is the stored JSON value."""
    if stored is None:
        return value is None or value is False  # a checkbox reads False when empty
    if isinstance(value, bool):
        return value is stored
    if isinstance(value, Decimal):
        return value == Decimal(str(stored))
    if isinstance(value, datetime):
        return value == datetime.strptime(str(stored), "%Y-%m-%dT%H:%M:%S.%f%z")
    if isinstance(value, date):
        return value == date.fromisoformat(str(stored))
    return bool(value == stored)
