"""Turn a Salesforce answer (or the lack of one) into the typed errors of ``dealbridge.errors``.

Salesforce error bodies are JSON arrays ``[{"message", "errorCode", "fields"}]``
(contracts/salesforce.md §1.8); inside sObject Collections results the code is ``statusCode``
(§1.6). The mapping, code first and then HTTP status:

=================================================  =========================================
``REQUEST_LIMIT_EXCEEDED`` (403)                   ``RateLimitedError`` with a long
                                                   ``retry_after`` (§5; not retried in-call)
``UNABLE_TO_LOCK_ROW`` (400)                       ``TransientError`` (nothing was written)
``DUPLICATE_VALUE`` (400)                          ``DuplicateError``
``NOT_FOUND`` / ``ENTITY_IS_DELETED`` (404)        ``NotFoundError``
300 (upsert key matched several records, §1.5)     ``DuplicateError`` code ``MULTIPLE_CHOICES``
401 (``INVALID_SESSION_ID`` and any other)         ``AuthError`` (the dispatcher refreshes once)
403 other (insufficient access)                    ``AuthError``
410 (API version retired, §1.1)                    ``RemoteRejectedError``, failure type config
429 (a proxy; Salesforce itself uses 403)          ``RateLimitedError``
5xx                                                ``TransientError``
other 4xx (``MALFORMED_QUERY``, ``INVALID_FIELD``,  ``RemoteRejectedError`` with the code and
``REQUIRED_FIELD_MISSING``, validation rules…)     ``field_path`` from ``fields``
=================================================  =========================================

Why a 300 is a ``DuplicateError``: the external-id value we upserted by is held by more than one
record, i.e. Salesforce's data has duplicates that a person must merge; it stays a
``RemoteRejectedError`` for anyone catching that, is not retryable, and lists the matches in
``context["matches"]``.

Request ids: Salesforce's REST API documents no request-id response header (contracts §1.7 lists
only ``Sforce-Limit-Info``), so ``request_id`` stays None.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from dealbridge.connectors.salesforce import models
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

SYSTEM = "salesforce"
MULTIPLE_CHOICES = "MULTIPLE_CHOICES"
# §5: the daily allocation is a rolling 24 h window, so waiting minutes is the least that helps;
# the concurrent long-transaction cap frees up as soon as some 20 s+ call ends.
DAILY_LIMIT_RETRY_AFTER_SECONDS = 900.0
CONCURRENT_LIMIT_RETRY_AFTER_SECONDS = 60.0
# Codes Salesforce gives the innocent siblings of a failed all-or-none request (§1.6).
ROLLBACK_CODES = frozenset({models.PROCESSING_HALTED, models.ALL_OR_NONE_OPERATION_ROLLED_BACK})

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NOT_FOUND_CODES = frozenset({models.NOT_FOUND, models.ENTITY_IS_DELETED})
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_SNIPPET_CHARS = 300

_USER_MESSAGES: dict[type[ConnectorError], str] = {
    AuthError: "Salesforce refused dealbridge's credentials or access; check the integration user.",
    RateLimitedError: "Salesforce's API limit is reached; dealbridge will try again later.",
    TransientError: "Salesforce is failing or unreachable right now; dealbridge will retry.",
    NotFoundError: "The Salesforce record does not exist (or was deleted).",
    UnexpectedResponseError: "Salesforce answered in a shape dealbridge does not understand.",
}


@dataclass(frozen=True)
class ErrorItem:
    """One entry of an error array: ``errorCode`` (or ``statusCode``), ``message``, ``fields``."""

    code: str | None
    message: str
    fields: tuple[str, ...] = ()


def parse_errors(data: Any) -> list[ErrorItem]:
    """Every error of a body, tolerating a single object instead of an array."""
    items = data if isinstance(data, list) else [data]
    parsed = []
    for item in items:
        if not isinstance(item, dict):
            continue
        code = item.get("errorCode") or item.get("statusCode")
        raw_fields = item.get("fields")
        fields: list[Any] = raw_fields if isinstance(raw_fields, list) else []
        parsed.append(
            ErrorItem(
                code=str(code) if code else None,
                message=str(item.get("message") or ""),
                fields=tuple(str(name) for name in fields),
            )
        )
    return parsed


def first_real(items: list[ErrorItem]) -> ErrorItem | None:
    """The first error that is not a rolled-back sibling's (§1.6)."""
    for item in items:
        if item.code not in ROLLBACK_CODES:
            return item
    return items[0] if items else None


def body_snippet(response: httpx.Response, secrets: tuple[str, ...] = ()) -> str:
    """A short, tag-free, secret-free excerpt of a body that is not an error array."""
    text = _SPACES.sub(" ", _TAGS.sub(" ", response.text)).strip()
    return redact_text(text[:_SNIPPET_CHARS], secrets)


def json_body(response: httpx.Response, operation: str) -> Any:
    """The JSON of a 2xx answer; anything unparsable is ``UnexpectedResponseError``."""
    try:
        return json.loads(response.content)
    except ValueError:
        raise shape_error(
            operation,
            f"Salesforce answered {operation} with {response.status_code} and a body that is "
            f"not JSON: {body_snippet(response)!r}",
            status=response.status_code,
        ) from None


def shape_error(operation: str, message: str, *, status: int | None = None) -> ConnectorError:
    """The answer did not have the documented shape."""
    return UnexpectedResponseError(
        message,
        system=SYSTEM,
        operation=operation,
        status=status,
        user_message=_USER_MESSAGES[UnexpectedResponseError],
    )


def error_from_response(
    response: httpx.Response, operation: str, *, secrets: tuple[str, ...] = ()
) -> ConnectorError:
    """The typed error for a non-2xx answer (table in the module docstring).

    Args:
        response: The answer; its body must have been read.
        operation: What we were doing, e.g. ``"PATCH sobjects/Account/001…"``.
        secrets: Credential values to mask should the remote echo one.
    """
    status = response.status_code
    try:
        data: Any = json.loads(response.content)
    except ValueError:
        data = None
    if status == 300:
        return _multiple_choices(data, operation)
    items = parse_errors(data)
    detail = None if items else (body_snippet(response, secrets) or response.reason_phrase)
    return error_from_items(status, items, operation, secrets=secrets, detail=detail)


def error_from_items(
    status: int | None,
    items: list[ErrorItem],
    operation: str,
    *,
    secrets: tuple[str, ...] = (),
    detail: str | None = None,
    context: dict[str, Any] | None = None,
) -> ConnectorError:
    """The typed error for an error array, also used for composite and collection results.

    Args:
        status: The HTTP status (of the subrequest), or None for a collection record result.
        items: The parsed errors; the first real one decides the class and code.
        operation: What we were doing.
        secrets: Credential values to mask.
        detail: Text to use when there are no items (a non-JSON body).
        context: Extra facts, e.g. the composite ``referenceId``.
    """
    first = first_real(items)
    code = first.code if first else None
    texts = [item.message for item in items if item.message and item.code not in ROLLBACK_CODES]
    text = redact_text("; ".join(texts) or detail or "(no message)", secrets)
    fields = first.fields if first else ()
    cls, kwargs = classify(status, code, text)
    kwargs.setdefault("user_message", _user_message(cls, text))
    where = f" [fields: {', '.join(fields)}]" if fields else ""
    return cls(
        f"Salesforce {status or '-'} {code or '-'} on {operation}{where}: {text}",
        system=SYSTEM,
        operation=operation,
        status=status,
        code=code,
        request_id=None,
        field_path=",".join(fields) or None,
        context=dict(context or {}),
        **kwargs,
    )


def classify(
    status: int | None, code: str | None, text: str = ""
) -> tuple[type[ConnectorError], dict[str, Any]]:
    """Pick the class: codes first (they travel without a status in collections), then status."""
    by_code = _class_by_code(code, text)
    if by_code is not None:
        return by_code
    if status is None:
        return RemoteRejectedError, {}
    if status == 401 or status == 403:
        return AuthError, {}
    if status == 404:
        return NotFoundError, {}
    if status == 429:
        return RateLimitedError, {}
    if status >= 500:
        return TransientError, {}
    if status == 410:
        return RemoteRejectedError, {"failure_type": "config", "user_message": _RETIRED}
    if 400 <= status < 500:
        return RemoteRejectedError, {}
    return UnexpectedResponseError, {}


_RETIRED = "Salesforce has retired the API version dealbridge uses; raise salesforce.api_version."


def _class_by_code(
    code: str | None, text: str
) -> tuple[type[ConnectorError], dict[str, Any]] | None:
    if code == models.REQUEST_LIMIT_EXCEEDED:
        return RateLimitedError, {"retry_after": limit_retry_after(text)}
    if code == models.UNABLE_TO_LOCK_ROW:
        return TransientError, {}
    if code == models.DUPLICATE_VALUE:
        return DuplicateError, {}
    if code in _NOT_FOUND_CODES:
        return NotFoundError, {}
    return None


def limit_retry_after(text: str) -> float:
    """How long to park work after ``REQUEST_LIMIT_EXCEEDED``: which limit did it name (§5)?"""
    if "ConcurrentPerOrgLongTxn" in text:
        return CONCURRENT_LIMIT_RETRY_AFTER_SECONDS
    return DAILY_LIMIT_RETRY_AFTER_SECONDS


def _multiple_choices(data: Any, operation: str) -> ConnectorError:
    """A 300 lists the URLs of every record the external id matched (§1.5)."""
    urls = [str(url) for url in data] if isinstance(data, list) else []
    matches = [url.rstrip("/").rsplit("/", 1)[-1] for url in urls]
    shown = ", ".join(matches) or "several records"
    return DuplicateError(
        f"Salesforce 300 {MULTIPLE_CHOICES} on {operation}: the external id matches {shown}",
        system=SYSTEM,
        operation=operation,
        status=300,
        code=MULTIPLE_CHOICES,
        user_message=(
            "More than one Salesforce record has this external id; merge the duplicates "
            f"({shown}) and retry."
        ),
        context={"matches": matches},
    )


def _user_message(cls: type[ConnectorError], text: str) -> str:
    """A sentence for the console; rejections show Salesforce's own words."""
    if cls is AuthError:
        return f"{_USER_MESSAGES[AuthError]} Salesforce said: {text}"
    if cls in _USER_MESSAGES:
        return _USER_MESSAGES[cls]
    return f"Salesforce rejected the data: {text}"


def error_from_exception(exc: httpx.HTTPError, operation: str) -> DealbridgeError:
    """No usable answer arrived: a timeout, a refused connection, a broken response."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigError(f"the Salesforce URL is not an http(s) URL: {exc}")
    untrusted = certificate_failure(exc)
    if untrusted is not None:
        return ConfigError(
            f"Salesforce's TLS certificate is not trusted on {operation} "
            f"({getattr(untrusted, 'verify_message', None) or untrusted}); "
            "check salesforce.ca_bundle"
        )
    return TransientError(
        f"Salesforce did not answer {operation}: {type(exc).__name__}: {exc}",
        system=SYSTEM,
        operation=operation,
        code=type(exc).__name__,
        user_message=_USER_MESSAGES[TransientError],
        context={"request_sent": not isinstance(exc, _NOT_SENT)},
    )


def was_request_sent(error: ConnectorError) -> bool:
    """Whether Salesforce may have seen the request (False only when it cannot have)."""
    return bool(error.context.get("request_sent", True))


def is_invalid_session(error: DealbridgeError) -> bool:
    """401 ``INVALID_SESSION_ID``: the token expired or was revoked (§2); refresh and retry."""
    return (
        isinstance(error, AuthError)
        and error.status == 401
        and error.code in (models.INVALID_SESSION_ID, None)
    )
