"""The org's API allocation, injected faults, latency and the request statistics.

Salesforce counts every authenticated REST call against a daily allocation and reports the
count in ``Sforce-Limit-Info: api-usage=N/LIMIT`` on each response (contracts §1.7); past the
allocation every call gets 403 ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded." until
usage falls (§5). A Composite request is one call however many subrequests it has (§1.6). The
real window is a rolling 24 hours; here usage only falls on a reset (``/__emulator__/reset``), so
a test can exhaust the allocation deterministically — shrink it with ``daily_api_limit``.

Faults, drawn per counted call: 500 ``UNKNOWN_EXCEPTION``, 503 (server unavailable), and on
writes 400 ``UNABLE_TO_LOCK_ROW`` — the retryable failures a client must survive (§1.8).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dealbridge.connectors.salesforce.emulator.config import SalesforceEmulatorOptions
from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError
from dealbridge.connectors.salesforce.models import (
    REQUEST_LIMIT_EXCEEDED,
    UNABLE_TO_LOCK_ROW,
    limit_info,
)

UNKNOWN_EXCEPTION = "UNKNOWN_EXCEPTION"
SERVER_UNAVAILABLE = "SERVER_UNAVAILABLE"
TOKEN_LIFETIME_SECONDS = 2 * 3600  # §2: sessions expire after 2 h of inactivity by default
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class FaultSettings(BaseModel):
    """Run-time knobs, read and replaced through ``/__emulator__/faults``.

    Rates are probabilities per counted REST call, drawn independently.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    unavailable_rate: float = Field(0.0, ge=0.0, le=1.0)
    row_lock_rate: float = Field(0.0, ge=0.0, le=1.0)
    latency_ms: float = Field(0.0, ge=0.0, le=600_000.0)
    daily_api_limit: int = Field(100_000, ge=0)
    token_lifetime_seconds: float = Field(float(TOKEN_LIFETIME_SECONDS), ge=0.0, le=86_400.0)

    @classmethod
    def from_options(cls, options: SalesforceEmulatorOptions) -> FaultSettings:
        """The settings a freshly started emulator has."""
        return cls(latency_ms=options.latency_ms, daily_api_limit=options.daily_api_limit)


@dataclass
class ApiStats:
    """Counters since start or the last reset."""

    api_calls: int = 0
    token_requests: int = 0
    limit_rejections: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    auth_failures: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy (status codes become string keys)."""
        return {
            "api_calls": self.api_calls,
            "token_requests": self.token_requests,
            "limit_rejections": self.limit_rejections,
            "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
            "faults_injected": dict(self.faults_injected),
            "auth_failures": dict(self.auth_failures),
        }


class ApiGovernor:
    """Fault settings, the daily API counter and the statistics of one emulator.

    Handlers run on the event loop thread, so the counters need no lock.
    """

    def __init__(self, settings: FaultSettings, rng: random.Random | None = None) -> None:
        self.initial = settings
        self.settings = settings
        self.used = 0
        self.stats = ApiStats()
        self._rng = rng or random.Random()

    def update(self, changes: Mapping[str, Any]) -> FaultSettings:
        """Apply some settings, keeping the others (raises pydantic's ValidationError)."""
        self.settings = FaultSettings.model_validate({**self.settings.model_dump(), **changes})
        return self.settings

    def reset(self) -> None:
        """Start-up settings, zero usage, fresh statistics."""
        self.settings = self.initial
        self.used = 0
        self.stats = ApiStats()

    def limit_header(self) -> dict[str, str]:
        """``Sforce-Limit-Info`` as it stands (§1.7)."""
        return {"Sforce-Limit-Info": limit_info(self.used, self.settings.daily_api_limit)}

    def count_call(self) -> None:
        """Charge one API call, or refuse it when the allocation is spent (§5).

        Raises:
            SalesforceApiError: 403 ``REQUEST_LIMIT_EXCEEDED``; the refused call is not charged.
        """
        if self.used >= self.settings.daily_api_limit:
            self.stats.limit_rejections += 1
            raise SalesforceApiError(403, REQUEST_LIMIT_EXCEEDED, "TotalRequests Limit exceeded.")
        self.used += 1
        self.stats.api_calls += 1

    def inject_fault(self, method: str) -> None:
        """Maybe fail this call the way a busy org does.

        Raises:
            SalesforceApiError: 500 ``UNKNOWN_EXCEPTION``, 503, or 400 ``UNABLE_TO_LOCK_ROW``.
        """
        if self._roll("error"):
            raise SalesforceApiError(
                500,
                UNKNOWN_EXCEPTION,
                "An unexpected error occurred. Please include this ErrorId if you contact "
                "support: 1234567890-12345 (-1234567890)",
            )
        if self._roll("unavailable"):
            raise SalesforceApiError(503, SERVER_UNAVAILABLE, "Service temporarily unavailable")
        if method in _WRITE_METHODS and self._roll("row_lock"):
            raise SalesforceApiError(
                400,
                UNABLE_TO_LOCK_ROW,
                "unable to obtain exclusive access to this record or 1 records: emulated lock",
            )

    def latency_seconds(self) -> float:
        """How long to hold each REST call before answering."""
        return self.settings.latency_ms / 1000.0

    def limits_body(self) -> dict[str, Any]:
        """``GET /limits``: the daily allocation and what is left (§5)."""
        allocation = self.settings.daily_api_limit
        return {
            "DailyApiRequests": {"Max": allocation, "Remaining": max(0, allocation - self.used)}
        }

    def _roll(self, fault: str) -> bool:
        rate: float = getattr(self.settings, f"{fault}_rate")
        hit = rate > 0.0 and self._rng.random() < rate
        if hit:
            self.stats.faults_injected[fault] += 1
        return hit
