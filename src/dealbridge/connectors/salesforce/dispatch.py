"""One logical Salesforce call: token, attempts, typed errors, retries, and a call record each.

What is retried here, and why:

* 401 ``INVALID_SESSION_ID`` (contracts/salesforce.md §2): exactly once, with a new token; the
  refused request was never processed, so even a create is safe to send again.
* ``TransientError`` — 5xx, 503, timeouts, resets, and 400 ``UNABLE_TO_LOCK_ROW`` (§1.8) — with
  ``core.backoff``, up to ``settings.max_attempts``, for idempotent calls (GET, PATCH by id or
  external id, DELETE, queries). A POST create that may have reached Salesforce is not sent twice
  (it would create a second record); it is resent only when Salesforce cannot have applied it —
  the connection never opened, or the answer was ``UNABLE_TO_LOCK_ROW`` (the transaction was rolled
  back). The error stays ``retryable`` for the caller to decide.
* 403 ``REQUEST_LIMIT_EXCEEDED`` (§5) is **not** retried in the call: the daily allocation frees up
  over hours, not seconds, and every retry spends more of what is left for other integrations.
  It surfaces as ``RateLimitedError`` with a long ``retry_after`` so the sync engine parks the
  work and a worker is not held sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
import structlog

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.auth import AccessToken, SalesforceAuth
from dealbridge.connectors.salesforce.errors import (
    SYSTEM,
    error_from_exception,
    error_from_response,
    is_invalid_session,
    was_request_sent,
)
from dealbridge.connectors.salesforce.limits import ApiUsage
from dealbridge.connectors.salesforce.results import ResponseCheck
from dealbridge.core.backoff import backoff_delay
from dealbridge.core.calls import (
    CallObserver,
    CallRecord,
    capture_exchange,
    recorded_path,
    redact_text,
)
from dealbridge.errors import ConnectorError, DealbridgeError, RateLimitedError, TransientError
from dealbridge.settings import SalesforceSettings

Sleep = Callable[[float], Awaitable[None]]

_log = structlog.get_logger("dealbridge.salesforce")


@dataclass(frozen=True)
class Call:
    """What to send.

    Attributes:
        method: HTTP method.
        path: Absolute path on the instance host, ``/services/data/v65.0/…`` (or a locator).
        operation: Short description for errors and call records.
        params: Query parameters.
        json: The JSON body.
        headers: Extra request headers (e.g. ``Sforce-Query-Options``).
        idempotent: Whether sending it twice has the effect of sending it once.
        check: Turns a 2xx answer into an error (e.g. a rolled-back all-or-none composite), so
            such failures get the same retry policy and call record as HTTP errors.
    """

    method: str
    path: str
    operation: str
    params: dict[str, str] | None = None
    json: Any = None
    headers: dict[str, str] | None = None
    idempotent: bool = True
    check: ResponseCheck | None = None


@dataclass
class _Attempts:
    """Where a call's retry loop stands."""

    number: int = 0
    session_renewed: bool = False


class SalesforceDispatcher:
    """Sends ``Call``s with the retry policy of the module docstring.

    Args:
        http: The REST client (timeouts, TLS, common headers); URLs are built per token.
        token_http: The client for the token endpoint.
        auth: Tokens, and the values to mask in anything recorded.
        usage: Fed from every response's ``Sforce-Limit-Info``.
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
        token_http: httpx.AsyncClient,
        auth: SalesforceAuth,
        usage: ApiUsage,
        settings: SalesforceSettings,
        on_call: CallObserver,
        sleep: Sleep,
        clock: Callable[[], float] = time.monotonic,
        record_bodies: bool = True,
    ) -> None:
        self._http, self._token_http, self._auth, self._usage = http, token_http, auth, usage
        self._settings, self._on_call, self._sleep, self._clock = settings, on_call, sleep, clock
        self._record_bodies = record_bodies

    async def send(self, call: Call) -> httpx.Response:
        """The successful response, or the typed error of the last attempt."""
        attempts = _Attempts()
        while True:
            attempts.number += 1
            try:
                return await self._attempt(call, attempts.number)
            except ConnectorError as error:
                delay = self._retry_delay(call, error, attempts)
                if delay is None:
                    raise
            if delay > 0:
                await self._sleep(delay)

    def _retry_delay(self, call: Call, error: ConnectorError, attempts: _Attempts) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if is_invalid_session(error):
            if attempts.session_renewed:
                return None
            attempts.session_renewed = True
            return 0.0  # a new token is the cure; there is nothing to wait for
        if attempts.number >= self._settings.max_attempts:
            return None
        if error.code == models.REQUEST_LIMIT_EXCEEDED:
            return None  # see the module docstring: the engine parks the work
        if isinstance(error, RateLimitedError):
            return self._backoff(attempts.number, error.retry_after)
        if isinstance(error, TransientError) and (call.idempotent or safe_to_resend(error)):
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
        """One HTTP exchange with the current token."""
        token = await self._token()
        request = self._build(call, token)
        started = self._clock()
        response, error = await self._exchange(call, request)
        elapsed = self._clock() - started
        if response is not None:
            self._usage.observe(response.headers)
            error = error or self._error_of(call, response)
        self._record(call, request, attempt, elapsed, response, error)
        if error is None:
            return cast(httpx.Response, response)
        if is_invalid_session(error):
            self._auth.invalidate(token)
        raise error

    async def _token(self) -> AccessToken:
        """The token; a token-endpoint failure means the API request never left."""
        try:
            return await self._auth.token(self._token_http)
        except ConnectorError as error:
            error.context.setdefault("request_sent", False)
            raise

    def _build(self, call: Call, token: AccessToken) -> httpx.Request:
        headers = {**(call.headers or {}), "Authorization": f"Bearer {token.value}"}
        return self._http.build_request(
            call.method,
            token.instance_url + call.path,
            params=call.params,
            json=call.json,
            headers=headers,
        )

    async def _exchange(
        self, call: Call, request: httpx.Request
    ) -> tuple[httpx.Response | None, DealbridgeError | None]:
        """Send; a transport failure becomes a typed error."""
        try:
            return await self._http.send(request), None
        except httpx.HTTPError as exc:
            error = error_from_exception(exc, call.operation)
            error.__cause__ = exc
            return None, error

    def _error_of(self, call: Call, response: httpx.Response) -> ConnectorError | None:
        """The typed error an answer means, with ``REQUEST_LIMIT_EXCEEDED`` parked long."""
        if response.is_success:
            error = call.check(response) if call.check else None
        else:
            error = error_from_response(
                response, call.operation, secrets=self._auth.secret_values()
            )
        if isinstance(error, RateLimitedError) and error.code == models.REQUEST_LIMIT_EXCEEDED:
            error.retry_after = max(error.retry_after or 0.0, self._settings.backoff_max_seconds)
        return error

    def _record(
        self,
        call: Call,
        request: httpx.Request,
        attempt: int,
        elapsed: float,
        response: httpx.Response | None,
        error: DealbridgeError | None,
    ) -> None:
        """Report the attempt: no header, the URL and the bodies redacted (SOQL text is kept)."""
        connector = error if isinstance(error, ConnectorError) else None
        secrets = self._auth.secret_values()
        sent, got = (
            capture_exchange(request, response, secrets) if self._record_bodies else (None, None)
        )
        extra: dict[str, Any] = {"operation": call.operation}
        usage = response.headers.get(models.LIMIT_INFO_HEADER) if response is not None else None
        if usage:
            extra["api_usage"] = usage
        record = CallRecord(
            system=SYSTEM,
            method=call.method,
            path=redact_text(recorded_path(str(request.url)), secrets),
            status=response.status_code if response is not None else None,
            duration_ms=round(elapsed * 1000, 3),
            error_code=(connector.code or type(connector).__name__) if connector else None,
            attempt=attempt,
            extra=extra,
            request_body=sent,
            response_body=got,
        )
        try:
            self._on_call(record)
        except Exception:  # an observer must never break a sync
            _log.exception("call_observer_failed", operation=call.operation)


def safe_to_resend(error: ConnectorError) -> bool:
    """Whether Salesforce cannot have applied the request that failed with ``error``."""
    return not was_request_sent(error) or error.code == models.UNABLE_TO_LOCK_ROW
