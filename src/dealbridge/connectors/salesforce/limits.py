"""The org's daily API usage, read from every response, and the guard that protects it.

Why a guard: the daily allocation is shared by every integration of the org and resets only as the
rolling 24 h window moves (contracts/salesforce.md §5); once it is spent, *every* integration gets
403 ``REQUEST_LIMIT_EXCEEDED`` until usage falls. A backfill or a reconciliation can wait a day; a
won deal should not. So non-urgent work stops at a configurable share of the allocation
(``salesforce.api_usage_guard_ratio``, default 80 %) and urgent sync work keeps the rest.

Usage comes free with every answer in ``Sforce-Limit-Info: api-usage=used/allocation`` (§1.7), so
no ``/limits`` calls are spent on watching it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.errors import SYSTEM
from dealbridge.errors import ConfigError, RateLimitedError

WorkKind = Literal["sync", "backfill", "reconcile"]
URGENT_KINDS = frozenset({"sync"})
NON_URGENT_KINDS = frozenset({"backfill", "reconcile"})
API_USAGE_GUARD = "API_USAGE_GUARD"
# How long paused work should wait before looking again: usage falls as the 24 h window moves.
GUARD_RETRY_AFTER_SECONDS = 3600.0


@dataclass(frozen=True)
class UsageSnapshot:
    """Daily API requests used and allowed, as of the latest response."""

    used: int
    allocation: int

    @property
    def ratio(self) -> float:
        """Share of the allocation used (1.0 when the allocation is unknown to be positive)."""
        return self.used / self.allocation if self.allocation > 0 else 1.0


class ApiUsage:
    """Thread-safe tracker of ``Sforce-Limit-Info`` with a guard for non-urgent work.

    Args:
        guard_ratio: Non-urgent work stops when used/allocation reaches this (0 < ratio ≤ 1).
    """

    def __init__(self, *, guard_ratio: float = 0.8) -> None:
        if not 0 < guard_ratio <= 1:
            raise ConfigError(f"api_usage_guard_ratio must be in (0, 1], not {guard_ratio}")
        self.guard_ratio = guard_ratio
        self._lock = threading.Lock()
        self._latest: UsageSnapshot | None = None

    @property
    def snapshot(self) -> UsageSnapshot | None:
        """The latest usage seen, or None before the first response."""
        with self._lock:
            return self._latest

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read ``Sforce-Limit-Info`` from a response's headers, if it has one (§1.7)."""
        value = headers.get(models.LIMIT_INFO_HEADER)
        parsed = models.parse_limit_info(value) if value else None
        if parsed is not None:
            self.record(*parsed)

    def record(self, used: int, allocation: int) -> None:
        """Remember the latest figures (the newest answer wins; usage only moves slowly)."""
        with self._lock:
            self._latest = UsageSnapshot(used, allocation)

    def allows(self, kind: WorkKind) -> bool:
        """Whether ``kind`` of work may spend API calls now."""
        return self._blocking(kind) is None

    def guard(self, kind: WorkKind) -> None:
        """Raise for non-urgent work above the guard; urgent (``"sync"``) work always passes.

        Raises:
            RateLimitedError: Retryable, failure type ``rate_limit``; the engine parks the work.
            ConfigError: ``kind`` is not one of ``sync``, ``backfill``, ``reconcile``.
        """
        latest = self._blocking(kind)
        if latest is None:
            return
        message = (
            f"Salesforce daily API usage {latest.used:,}/{latest.allocation:,} is above the "
            f"{self.guard_ratio:.0%} guard; {kind} paused"
        )
        raise RateLimitedError(
            message,
            system=SYSTEM,
            operation=f"guard {kind}",
            code=API_USAGE_GUARD,
            retry_after=GUARD_RETRY_AFTER_SECONDS,
            user_message=message,
            context={"used": latest.used, "allocation": latest.allocation, "kind": kind},
        )

    def _blocking(self, kind: WorkKind) -> UsageSnapshot | None:
        """The usage that stops ``kind``, or None when it may run (unknown usage: run)."""
        _check_kind(kind)
        latest = self.snapshot
        if kind in URGENT_KINDS or latest is None or latest.ratio < self.guard_ratio:
            return None
        return latest


def _check_kind(kind: str) -> None:
    if kind not in URGENT_KINDS and kind not in NON_URGENT_KINDS:
        known = ", ".join(sorted(URGENT_KINDS | NON_URGENT_KINDS))
        raise ConfigError(f"unknown kind of Salesforce work {kind!r} (one of {known})")
