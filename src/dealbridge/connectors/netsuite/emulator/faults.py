"""Governance and fault injection: the ways a real NetSuite account makes a client suffer.

One ASGI middleware in front of the app. Every request under ``/services/rest`` except the token
endpoint is *governed*: it holds one slot of the account's concurrency pool while it runs, and a
request that finds the pool full gets an immediate 429 ``CONCURRENCY_LIMIT_EXCEEDED`` (contracts §5,
§6). Latency is spent while holding the slot, so a slow account is also a congested one. Faults are
drawn per request, independently, in this order: an extra 429 (before taking a slot), then a slow
401 ``INVALID_LOGIN`` (seen under load, §5), a hang, a 500 ``UNEXPECTED_ERROR``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealbridge.connectors.netsuite.emulator.auth import LOGIN_DETAIL
from dealbridge.connectors.netsuite.emulator.config import EmulatorOptions
from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.wire import problem_response
from dealbridge.connectors.netsuite.models import (
    CONCURRENCY_LIMIT_EXCEEDED,
    INVALID_LOGIN,
    REST_PREFIX,
    TOKEN_LIFETIME_SECONDS,
    TOKEN_PATH,
    UNEXPECTED_ERROR,
)

_log = logging.getLogger(__name__)
_TOKEN_URL_PATH = REST_PREFIX + TOKEN_PATH
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."  # §5
UNEXPECTED_DETAIL = "An unexpected error occurred. Error ID: emulator-injected"


class FaultSettings(BaseModel):
    """Run-time knobs, read and replaced through ``/__emulator__/faults``.

    Rates are probabilities per governed request (0 to 1), drawn independently.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    timeout_rate: float = Field(0.0, ge=0.0, le=1.0)
    rate_limit_rate: float = Field(0.0, ge=0.0, le=1.0)
    slow_login_rate: float = Field(0.0, ge=0.0, le=1.0)
    slow_login_seconds: float = Field(60.0, ge=0.0, le=3600.0)  # §5: "~60 s" observed
    timeout_seconds: float = Field(120.0, ge=0.0, le=3600.0)
    latency_ms: float = Field(0.0, ge=0.0, le=600_000.0)
    jitter: float = Field(0.2, ge=0.0, le=1.0)
    concurrency_limit: int = Field(15, ge=1, le=100_000)
    token_lifetime_seconds: float = Field(float(TOKEN_LIFETIME_SECONDS), ge=0.0, le=86_400.0)

    @classmethod
    def from_options(cls, options: EmulatorOptions) -> FaultSettings:
        """The settings a freshly started emulator has."""
        return cls(
            latency_ms=options.latency_ms,
            jitter=options.jitter,
            concurrency_limit=options.concurrency_limit,
        )


@dataclass
class GovernanceStats:
    """Counters since start or the last reset; ``in_flight`` is live and survives a reset."""

    total_requests: int = 0
    token_requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    concurrency_rejections: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy (status codes become string keys)."""
        return {
            "total_requests": self.total_requests,
            "token_requests": self.token_requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "concurrency_rejections": self.concurrency_rejections,
            "responses_429": self.by_status[429],
            "by_status": {str(code): count for code, count in sorted(self.by_status.items())},
            "faults_injected": dict(self.faults_injected),
        }


class Governor:
    """The account's concurrency pool, the fault dice and the statistics.

    Everything runs on the event loop thread, so the counters need no lock.
    """

    def __init__(self, settings: FaultSettings, rng: random.Random | None = None) -> None:
        self.initial = settings
        self.settings = settings
        self.stats = GovernanceStats()
        self._rng = rng or random.Random()

    def update(self, changes: Mapping[str, Any]) -> FaultSettings:
        """Apply some settings, keeping the others (raises pydantic's ValidationError)."""
        self.settings = FaultSettings.model_validate({**self.settings.model_dump(), **changes})
        return self.settings

    def reset(self) -> None:
        """Back to the start-up settings, with fresh statistics."""
        self.settings = self.initial
        self.reset_stats()

    def reset_stats(self) -> None:
        """Zero every counter; requests in flight stay counted, and set the new maximum."""
        in_flight = self.stats.in_flight
        self.stats = GovernanceStats(in_flight=in_flight, max_in_flight=in_flight)

    def try_enter(self) -> bool:
        """Take a slot, or say the pool is full."""
        if self.stats.in_flight >= self.settings.concurrency_limit:
            self.stats.concurrency_rejections += 1
            return False
        self.stats.in_flight += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        return True

    def leave(self) -> None:
        """Give the slot back."""
        self.stats.in_flight -= 1

    def latency_seconds(self) -> float:
        """``latency_ms`` ± ``jitter`` of itself, never negative."""
        spread = self._rng.uniform(-self.settings.jitter, self.settings.jitter)
        return max(0.0, self.settings.latency_ms * (1.0 + spread) / 1000.0)

    def roll(self, fault: str) -> bool:
        """Whether to inject ``fault`` (a settings prefix, e.g. ``error``) into this request."""
        rate: float = getattr(self.settings, f"{fault}_rate")
        hit = rate > 0.0 and self._rng.random() < rate
        if hit:
            self.stats.faults_injected[fault] += 1
        return hit


class _StatusRecorder:
    """Wraps ``send`` to learn the status and whether the response has started."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self._send(message)


class GovernanceMiddleware:
    """Applies the :class:`Governor` to every request under ``/services/rest``."""

    def __init__(self, app: ASGIApp, governor: Governor) -> None:
        self.app = app
        self.governor = governor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Govern REST requests; pass the control API and anything else straight through."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(REST_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        recorder = _StatusRecorder(send)
        try:
            if path == _TOKEN_URL_PATH:  # the token endpoint sits outside the pool (brief, §7.2)
                self.governor.stats.token_requests += 1
                await self._call_app(scope, receive, recorder)
            else:
                self.governor.stats.total_requests += 1
                await self._admit(scope, receive, recorder)
        finally:
            if recorder.status is not None:
                self.governor.stats.by_status[recorder.status] += 1

    async def _admit(self, scope: Scope, receive: Receive, send: _StatusRecorder) -> None:
        if self.governor.roll("rate_limit") or not self.governor.try_enter():
            await _reply(scope, receive, send, 429, CONCURRENCY_LIMIT_EXCEEDED, CONCURRENCY_DETAIL)
            return
        try:
            await asyncio.sleep(self.governor.latency_seconds())
            await self._governed(scope, receive, send)
        finally:
            self.governor.leave()

    async def _governed(self, scope: Scope, receive: Receive, send: _StatusRecorder) -> None:
        settings = self.governor.settings
        if self.governor.roll("slow_login"):
            await asyncio.sleep(settings.slow_login_seconds)
            await _reply(scope, receive, send, 401, INVALID_LOGIN, LOGIN_DETAIL)
        elif self.governor.roll("timeout"):
            # Hold the slot as NetSuite keeps running a request its client gave up on; a client
            # whose read timeout is shorter than timeout_seconds sees a timeout. Whoever is still
            # listening afterwards gets a 500.
            await asyncio.sleep(settings.timeout_seconds)
            await _reply(scope, receive, send, 500, UNEXPECTED_ERROR, UNEXPECTED_DETAIL)
        elif self.governor.roll("error"):
            await _reply(scope, receive, send, 500, UNEXPECTED_ERROR, UNEXPECTED_DETAIL)
        else:
            await self._call_app(scope, receive, send)

    async def _call_app(self, scope: Scope, receive: Receive, send: _StatusRecorder) -> None:
        """Run the app; a bug in it becomes NetSuite's 500, counted, and logged to stderr."""
        try:
            await self.app(scope, receive, send)
        except Exception:
            if send.status is not None:
                raise
            _log.exception("emulator error on %s %s", scope.get("method"), scope.get("path"))
            await _reply(
                scope,
                receive,
                send,
                500,
                UNEXPECTED_ERROR,
                "An unexpected error occurred in the emulator.",
            )


async def _reply(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, detail: str
) -> None:
    response = problem_response(NetSuiteProblem(status, code, detail))
    await response(scope, receive, send)
