"""Turn a NetSuite answer (or the lack of one) into the typed errors of ``dealbridge.errors``.

Why here and not in the client: the mapping is the one place that reads NetSuite's error codes, so
the sync engine only ever sees ``retryable`` and ``failure_type``. Branch on ``status`` and
``o:errorCode``, never on ``type`` or ``title`` (contracts/netsuite.md §5).
"""

from __future__ import annotations

import email.utils
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError as PydanticValidationError

from dealbridge.connectors.netsuite import models
from dealbridge.core.calls import redact_text
from dealbridge.core.tls import certificate_failure
from dealbridge.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    DealbridgeError,
    DuplicateError,
    NotFoundError,
    RateLimitedError,
    RemoteRejectedError,
    TransientError,
    UnexpectedResponseError,
)

SYSTEM = "netsuite"

# UNCONFIRMED: NetSuite's request id header. ``X-N-OperationId`` is what public NetSuite clients
# read and what support asks for; the others are fallbacks seen in the wild or set by proxies.
REQUEST_ID_HEADERS = ("X-N-OperationId", "NS_RTIMER_COMPOSITE", "X-Request-Id")

# §5: overload has shown up as a slow (~60 s) "Invalid login attempt"; a refusal that took this
# long is treated as load, not as bad credentials.
SLOW_INVALID_LOGIN_SECONDS = 20.0

# SOAP duplicate codes (§5), accepted in case REST ever sends them.
_DUPLICATE_CODES = frozenset({"DUP_ENTITY", "DUP_RCRD"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_SNIPPET_CHARS = 300

_USER_MESSAGES = {
    AuthError: "NetSuite refused dealbridge's credentials; check the integration's keys and role.",
    RateLimitedError: "NetSuite is busy (concurrency limit reached); dealbridge will retry.",
    TransientError: "NetSuite is failing or unreachable right now; dealbridge will retry.",
    NotFoundError: "The NetSuite record does not exist.",
    UnexpectedResponseError: "NetSuite answered in a shape dealbridge does not understand.",
}


def request_id_of(response: httpx.Response) -> str | None:
    """NetSuite's id for this request, for support tickets (header name UNCONFIRMED)."""
    for name in REQUEST_ID_HEADERS:
        value: str | None = response.headers.get(name)
        if value:
            return value
    return None


def parse_problem(response: httpx.Response) -> models.ErrorBody | None:
    """The RFC 7807 body (§5), or None when the body is not one (HTML, text, empty)."""
    try:
        data = json.loads(response.content)
        return models.ErrorBody.model_validate(data) if isinstance(data, dict) else None
    except (ValueError, PydanticValidationError):
        return None


def body_snippet(response: httpx.Response, secrets: tuple[str, ...] = ()) -> str:
    """A short, tag-free, secret-free excerpt of a body that is not an RFC 7807 document."""
    text = _SPACES.sub(" ", _TAGS.sub(" ", response.text)).strip()
    return redact_text(text[:_SNIPPET_CHARS], secrets)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds; NetSuite documents none (§6) but a proxy may send one."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def json_body(response: httpx.Response, operation: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; anything else is ``UnexpectedResponseError``."""
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UnexpectedResponseError(
            f"NetSuite answered {operation} with {response.status_code} and a body that is not "
            f"a JSON object: {body_snippet(response)!r}",
            system=SYSTEM,
            operation=operation,
            status=response.status_code,
            request_id=request_id_of(response),
            user_message=_USER_MESSAGES[UnexpectedResponseError],
        )
    return data


def error_from_response(
    response: httpx.Response,
    operation: str,
    *,
    elapsed: float = 0.0,
    secrets: tuple[str, ...] = (),
) -> ConnectorError:
    """The typed error for a non-2xx answer (mapping table: contracts/netsuite.md §5).

    Args:
        response: The answer; its body must have been read.
        operation: What we were doing, e.g. ``"PUT customer/eid:SFACC-001"``.
        elapsed: Seconds the call took; a slow ``INVALID_LOGIN`` is treated as overload.
        secrets: Credential values to mask should the remote echo one.
    """
    status = response.status_code
    problem = parse_problem(response)
    first = problem.details[0] if problem and problem.details else None
    code = first.error_code if first else None
    detail = _detail_text(problem, response, secrets)
    cls, kwargs = _classify(status, code, detail, elapsed)
    kwargs.setdefault("user_message", _user_message(cls, detail))
    if cls is RateLimitedError:
        kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    field_path = first.error_path if first else None
    where = f" at {field_path}" if field_path else ""
    return cls(
        f"NetSuite {status} {code or '-'} on {operation}{where}: {detail}",
        system=SYSTEM,
        operation=operation,
        status=status,
        code=code,
        request_id=request_id_of(response),
        field_path=field_path,
        **kwargs,
    )


def _detail_text(
    problem: models.ErrorBody | None, response: httpx.Response, secrets: tuple[str, ...]
) -> str:
    """Every ``detail`` joined, or an excerpt of a body that is not RFC 7807."""
    if problem and problem.details:
        texts = [item.detail for item in problem.details if item.detail]
        return redact_text("; ".join(texts) or (problem.title or ""), secrets)
    if problem and problem.title:
        return problem.title
    return body_snippet(response, secrets) or models.error_title(response.status_code)


def _classify(
    status: int, code: str | None, detail: str, elapsed: float
) -> tuple[type[ConnectorError], dict[str, Any]]:
    """Pick the error class; the order matters (429 travels as 400 in one mock, §5)."""
    if status == 429 or code == models.CONCURRENCY_LIMIT_EXCEEDED:
        return RateLimitedError, {}
    if status == 401 or code == models.INVALID_LOGIN:
        return AuthError, _invalid_login_kwargs(elapsed)
    if status == 403:
        return AuthError, {}
    if status == 404:
        # Only "no such record" is NotFoundError; a 404 for an unknown record type or URL is a
        # mistake of ours and must not read as "already gone" (e.g. delete(missing_ok=True)).
        if code in (None, models.NONEXISTENT_ID):
            return NotFoundError, {}
        return RemoteRejectedError, {}
    if status >= 500:
        return TransientError, {}
    if 400 <= status < 500:
        return _rejection_class(code, detail), {}
    return UnexpectedResponseError, {}


def _invalid_login_kwargs(elapsed: float) -> dict[str, Any]:
    """A slow "Invalid login attempt" is overload (§5): retryable, classified as a rate limit."""
    if elapsed < SLOW_INVALID_LOGIN_SECONDS:
        return {}
    return {
        "retryable": True,
        "failure_type": "rate_limit",
        "user_message": _USER_MESSAGES[RateLimitedError],
        "context": {"suspected_overload": True, "elapsed_seconds": round(elapsed, 1)},
    }


def _rejection_class(code: str | None, detail: str) -> type[RemoteRejectedError]:
    """Duplicates are a 400 ``USER_ERROR`` "already exists" in REST (§5, UNCONFIRMED)."""
    if code in _DUPLICATE_CODES:
        return DuplicateError
    if code == models.USER_ERROR and "already exist" in detail.lower():
        return DuplicateError
    if code == models.NONEXISTENT_ID:
        return NotFoundError
    return RemoteRejectedError


def _user_message(cls: type[ConnectorError], detail: str) -> str:
    """A sentence for the console; rejections show NetSuite's own words."""
    if cls is AuthError and detail:
        return f"{_USER_MESSAGES[AuthError]} NetSuite said: {detail}"
    if cls in _USER_MESSAGES:
        return _USER_MESSAGES[cls]
    return f"NetSuite rejected the data: {detail}"


def error_from_exception(exc: httpx.HTTPError, operation: str) -> DealbridgeError:
    """No usable answer arrived: a timeout, a refused connection or a broken response."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigError(f"netsuite.base_url is not an http(s) URL: {exc}")
    untrusted = certificate_failure(exc)
    if untrusted is not None:
        return ConfigError(
            f"NetSuite's TLS certificate is not trusted on {operation} "
            f"({getattr(untrusted, 'verify_message', None) or untrusted}); "
            "add its CA to the system trust store"
        )
    sent = not isinstance(exc, _NOT_SENT)
    return TransientError(
        f"NetSuite did not answer {operation}: {type(exc).__name__}: {exc}",
        system=SYSTEM,
        operation=operation,
        status=None,
        code=type(exc).__name__,
        user_message=_USER_MESSAGES[TransientError],
        context={"request_sent": sent},
    )


def was_request_sent(error: ConnectorError) -> bool:
    """Whether the remote may have seen the request (False only for connect-phase failures)."""
    return bool(error.context.get("request_sent", True))
