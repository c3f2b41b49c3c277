"""One logical NetSuite call: a slot per attempt, typed errors, retries, and a call record each.

Why retries live here as well as in the sync engine: 429s and blips are routine under NetSuite's
account-wide concurrency pool (contracts/netsuite.md §6), and retrying them in place with the
limiter's help is far cheaper than failing a durable step. What is retried:

* ``RateLimitedError`` (429 / ``CONCURRENCY_LIMIT_EXCEEDED``, §5): always — the request was refused
  before it was processed, so even a POST create is safe to send again.
* ``TransientError`` (5xx, timeouts, resets): only for idempotent calls (GET, PUT ``eid:``, PATCH,
  DELETE, SuiteQL), or when the connection never opened. A POST create that may have been
  processed is not sent twice: the error stays ``retryable`` and the caller decides (use upsert).
* ``INVALID_LOGIN`` (401): exactly once, after a short wait and with the credential invalidated,
  because overload shows up as a slow "Invalid login attempt" (§5).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
import structlog

from dealbridge.connectors.netsuite.auth import NetSuiteAuth
from dealbridge.connectors.netsuite.errors import (
    SYSTEM,
    error_from_exception,
    error_from_response,
    request_id_of,
    was_request_sent,
)
from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter, Slot
from dealbridge.connectors.netsuite.models import INVALID_LOGIN
from dealbridge.core.backoff import backoff_delay
from dealbridge.core.calls import CallObserver, CallRecord, capture_exchange, recorded_path
from dealbridge.errors import (
    AuthError,
    ConnectorError,
    DealbridgeError,
    RateLimitedError,
    TransientError,
)
from dealbridge.settings import NetSuiteSettings

Sleep = Callable[[float], Awaitable[None]]

_log = structlog.get_logger("dealbridge.netsuite")


@dataclass(frozen=True)
class Call:
    """What to send; ``path`` is relative to the REST base URL."""

    method: str
    path: str
    operation: str
    params: dict[str, str] | None = None
    json: Any = None
    headers: dict[str, str] | None = None
    idempotent: bool = True


@dataclass
class _Attempts:
    """Where a call's retry loop stands."""

    number: int = 0
    login_retried: bool = False


class NetSuiteDispatcher:
    """Sends ``Call``s through the limiter with the retry policy of the module docstring.

    Args:
        http: The client carrying base URL, auth, headers and timeouts.
        auth: The same auth, for invalidating a credential after a 401 and for redaction.
        limiter: The account-wide in-flight cap; one slot per HTTP attempt.
        settings: ``max_attempts`` and the backoff base and cap.
        on_call: Receives one ``CallRecord`` per attempt.
        sleep: Awaited between attempts (injectable so tests never wait).
        clock: Monotonic seconds, for durations.
        record_bodies: Put redacted, bounded bodies in each record (``core.calls.capture_body``).
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        auth: NetSuiteAuth,
        limiter: AdaptiveConcurrencyLimiter,
        settings: NetSuiteSettings,
        on_call: CallObserver,
        sleep: Sleep,
        clock: Callable[[], float] = time.monotonic,
        record_bodies: bool = True,
    ) -> None:
        self._http, self._auth, self._limiter = http, auth, limiter
        self._settings, self._on_call, self._sleep, self._clock = settings, on_call, sleep, clock
        self._record_bodies = record_bodies

    async def send(self, call: Call) -> httpx.Response:
        """The 2xx response, or the typed error of the last attempt."""
        attempts = _Attempts()
        while True:
            attempts.number += 1
            try:
                return await self._attempt(call, attempts.number)
            except ConnectorError as error:
                delay = self._retry_delay(call, error, attempts)
                if delay is None:
                    raise
            await self._sleep(delay)

    def _retry_delay(self, call: Call, error: ConnectorError, attempts: _Attempts) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if attempts.number >= self._settings.max_attempts:
            return None
        if isinstance(error, RateLimitedError):
            return self._backoff(attempts.number, error.retry_after)
        if isinstance(error, TransientError):
            safe = call.idempotent or not was_request_sent(error)
            return self._backoff(attempts.number) if safe else None
        if _is_invalid_login(error) and not attempts.login_retried:
            attempts.login_retried = True
            return self._backoff(attempts.number)
        return None

    def _backoff(self, attempt: int, retry_after: float | None = None) -> float:
        settings = self._settings
        return backoff_delay(
            attempt,
            base=settings.backoff_base_seconds,
            cap=settings.backoff_max_seconds,
            retry_after=retry_after,
        )

    async def _attempt(self, call: Call, attempt: int) -> httpx.Response:
        """One HTTP exchange inside one limiter slot.

        The slot is held for the exchange only: the request is built before it, and the call
        recorded after it, since every moment a slot is held after NetSuite answered is a
        moment of the account's limit nobody uses.
        """
        request = self._http.build_request(
            call.method, call.path, params=call.params, json=call.json, headers=call.headers
        )
        async with self._limiter.slot() as slot:
            started = self._clock()
            response, error = await self._exchange(call, request)
            elapsed = self._clock() - started
            if response is not None and error is None and not response.is_success:
                error = error_from_response(
                    response,
                    call.operation,
                    elapsed=elapsed,
                    secrets=self._auth.secret_values(),
                )
            _feedback(slot, error)
        self._record(call, request, attempt, elapsed, response, error)
        if error is None:
            return cast(httpx.Response, response)
        if isinstance(error, ConnectorError) and _is_invalid_login(error):
            self._auth.invalidate(request)  # OAuth 2: the retry fetches a new token
        raise error

    async def _exchange(
        self, call: Call, request: httpx.Request
    ) -> tuple[httpx.Response | None, DealbridgeError | None]:
        """Send; a transport failure or a token-endpoint refusal becomes a typed error."""
        try:
            return await self._http.send(request), None
        except httpx.HTTPError as exc:
            error = error_from_exception(exc, call.operation)
            error.__cause__ = exc
            return None, error
        except ConnectorError as error:  # raised by the auth flow (token endpoint)
            error.context.setdefault("request_sent", False)  # the API request never left
            return None, error

    def _record(
        self,
        call: Call,
        request: httpx.Request,
        attempt: int,
        elapsed: float,
        response: httpx.Response | None,
        error: DealbridgeError | None,
    ) -> None:
        """Report the attempt: no header, the URL and the bodies redacted (core.calls)."""
        connector = error if isinstance(error, ConnectorError) else None
        sent, got = (
            capture_exchange(request, response, self._auth.secret_values())
            if self._record_bodies
            else (None, None)
        )
        record = CallRecord(
            system=SYSTEM,
            method=call.method,
            path=recorded_path(str(request.url)),
            status=response.status_code if response is not None else None,
            duration_ms=round(elapsed * 1000, 3),
            error_code=(connector.code or type(connector).__name__) if connector else None,
            request_id=request_id_of(response) if response is not None else None,
            attempt=attempt,
            extra={"operation": call.operation},
            request_body=sent,
            response_body=got,
        )
        try:
            self._on_call(record)
        except Exception:  # an observer must never break a sync
            _log.exception("call_observer_failed", operation=call.operation)


def _is_invalid_login(error: ConnectorError) -> bool:
    """401 or ``INVALID_LOGIN`` (§5): bad credentials, or an overloaded account."""
    return isinstance(error, AuthError) and (error.status == 401 or error.code == INVALID_LOGIN)


def _feedback(slot: Slot, error: DealbridgeError | None) -> None:
    """Tell the limiter about success and overload; other failures say nothing about load."""
    if error is None:
        slot.succeeded()
    elif isinstance(error, RateLimitedError) or getattr(error, "failure_type", "") == "rate_limit":
        slot.rate_limited()
