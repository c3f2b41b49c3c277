"""Can dealbridge reach and log in to Salesforce and NetSuite right now?

One cheap authenticated call per system through the real connector clients, so a check proves
exactly what a deal sync needs: the credentials are accepted and the API answers. Used by
``dealbridge config check`` and the console's connection panel.

Why the calls are what they are:

* Salesforce: ``SELECT Id FROM Opportunity LIMIT 1``. It needs a token (the JWT bearer or client
  credentials flow) and read access to the object every sync starts from; the connector exposes
  no ``limits`` resource, and a one-row query costs the same single API call.
* NetSuite: ``SELECT id FROM subsidiary`` with a page of one row — SuiteQL with the configured
  token-based or OAuth 2.0 credentials, and a table every account has.

Why one attempt and a hard timeout: a check answers "does it work now?"; the connectors' retry
policy (minutes of backoff through an outage) would turn a quick question into a long wait.

Why messages are redacted here again: the connectors never put credentials in errors, but a check
result is shown on screens and in JSON, so every configured secret value is masked once more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, SecretStr

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.core.calls import CallRecord, redact_text
from dealbridge.errors import (
    AuthError,
    ConfigError,
    DealbridgeError,
    RateLimitedError,
    TransientError,
)
from dealbridge.settings import NetSuiteSettings, SalesforceSettings, Settings

DEFAULT_TIMEOUT_SECONDS = 15.0
SYSTEMS = ("salesforce", "netsuite")
ErrorKind = Literal["auth", "unreachable", "rejected", "config"]
"""Why a check failed: credentials refused; no answer (refused, DNS, TLS, timeout, 5xx); the
system answered and refused the call (4xx, rate limit, odd shape); settings incomplete."""

_SALESFORCE_PROBE = "SELECT Id FROM Opportunity LIMIT 1"
_NETSUITE_PROBE = "SELECT id FROM subsidiary"


@dataclass(frozen=True)
class ConnectionStatus:
    """The outcome of one system's check.

    Attributes:
        system: ``"salesforce"`` or ``"netsuite"``.
        ok: Whether the authenticated call succeeded.
        latency_ms: How long the check took (token fetch included); None when it never ran.
        checked_at: When the check started (UTC).
        error: What went wrong, with every configured secret masked; None when ``ok``.
        kind: The class of failure (``ErrorKind``); None when ``ok``.
    """

    system: str
    ok: bool
    latency_ms: float | None
    checked_at: datetime
    error: str | None
    kind: ErrorKind | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready data."""
        return {
            "system": self.system,
            "ok": self.ok,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "checked_at": self.checked_at.isoformat(),
            "error": self.error,
            "kind": self.kind,
        }


async def check_connections(
    settings: Settings, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> list[ConnectionStatus]:
    """Check Salesforce and NetSuite at the same time; one status each, in ``SYSTEMS`` order."""
    if timeout_seconds <= 0:
        raise ConfigError(f"a connection check needs a positive timeout, not {timeout_seconds}")
    return list(
        await asyncio.gather(
            check_salesforce(settings.salesforce, timeout_seconds=timeout_seconds),
            check_netsuite(settings.netsuite, timeout_seconds=timeout_seconds),
        )
    )


async def check_salesforce(
    settings: SalesforceSettings, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> ConnectionStatus:
    """One query as the integration user (see the module docstring for why this one)."""
    quick = settings.model_copy(
        update={
            "max_attempts": 1,
            "timeout_seconds": min(settings.timeout_seconds, timeout_seconds),
        }
    )

    async def probe() -> None:
        async with SalesforceClient(quick, on_call=_discard) as client:
            await client.query(soql(_SALESFORCE_PROBE))

    return await _timed("salesforce", probe, _secrets_of(settings), timeout_seconds)


async def check_netsuite(
    settings: NetSuiteSettings, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> ConnectionStatus:
    """One SuiteQL page of one row (see the module docstring for why this one)."""
    quick = settings.model_copy(
        update={
            "max_attempts": 1,
            "timeout_seconds": min(settings.timeout_seconds, timeout_seconds),
            "read_governance_limits": False,
        }
    )

    async def probe() -> None:
        async with NetSuiteClient(quick, on_call=_discard) as client:
            async for _row in client.suiteql(_NETSUITE_PROBE, page_size=1):
                break

    return await _timed("netsuite", probe, _secrets_of(settings), timeout_seconds)


async def _timed(
    system: str,
    probe: Callable[[], Awaitable[None]],
    secrets: tuple[str, ...],
    timeout_seconds: float,
) -> ConnectionStatus:
    """Run ``probe`` under ``timeout_seconds`` and turn its outcome into a status."""
    checked_at = datetime.now(UTC)
    started = time.perf_counter()
    kind: ErrorKind | None = None
    error: str | None = None
    try:
        await asyncio.wait_for(probe(), timeout_seconds)
    except TimeoutError:
        kind, error = "unreachable", f"no answer within {timeout_seconds:g} s"
    except DealbridgeError as exc:
        kind, error = classify(exc), exc.message
    except (OSError, ValueError) as exc:  # a setting the client could not even use
        kind, error = "config", f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000
    if error is None:
        return ConnectionStatus(system, True, latency_ms, checked_at, None)
    message = redact_text(f"{kind}: {error}", secrets)
    return ConnectionStatus(system, False, latency_ms, checked_at, message, kind)


def classify(error: DealbridgeError) -> ErrorKind:
    """Which ``ErrorKind`` a connector error is (a 429 is a refusal, not an outage)."""
    if isinstance(error, AuthError):
        return "auth"
    if isinstance(error, RateLimitedError):
        return "rejected"
    if isinstance(error, TransientError):
        return "unreachable"
    if isinstance(error, ConfigError):
        return "config"
    return "rejected"


def _secrets_of(settings: BaseModel) -> tuple[str, ...]:
    """Every secret value set in a settings group, longest first (so no part is left over)."""
    values = [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]
    return tuple(sorted((value for value in values if value), key=len, reverse=True))


def _discard(_record: CallRecord) -> None:
    """Call records of a check are not deal traffic: keep them out of the logs and metrics."""
