"""One record per remote API call, and the single hook every connector reports through.

Why a hook rather than direct logging: the same record feeds the structured log today and the
run history, metrics and console later, and redaction happens once, here, before any of them see
it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog

REDACTED = "***"

_SECRET_WORDS = re.compile(
    r"(secret|token|password|passwd|authorization|assertion|signature|private|key|session|cookie)",
    re.IGNORECASE,
)
# Query parameters that are identifiers, not credentials, even though their names look risky.
_SAFE_QUERY_KEYS = frozenset({"q", "limit", "offset", "replace", "expandsubresources", "fields"})


@dataclass(frozen=True)
class CallRecord:
    """What one HTTP call to a remote system did, with nothing secret in it."""

    system: str
    method: str
    path: str
    status: int | None
    duration_ms: float
    error_code: str | None = None
    request_id: str | None = None
    attempt: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for logs and storage."""
        return asdict(self)


CallObserver = Callable[[CallRecord], None]

_log = structlog.get_logger("dealbridge.calls")


def log_call(record: CallRecord) -> None:
    """Default observer: one structured log line per call."""
    _log.info("api_call", **record.as_dict())


def is_secret_name(name: str) -> bool:
    """Whether a header, field or parameter name suggests its value is a credential."""
    return name.lower() not in _SAFE_QUERY_KEYS and bool(_SECRET_WORDS.search(name))


def redact_url(url: str) -> str:
    """Keep a URL's path and harmless query parameters, mask anything credential-like."""
    parts = urlsplit(url)
    query = [
        (key, REDACTED if is_secret_name(key) else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def redact_mapping(data: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Deep-copy JSON-like data with credential-named keys and known secret values masked."""
    if isinstance(data, dict):
        return {
            key: REDACTED if is_secret_name(str(key)) else redact_mapping(value, secrets)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(item, secrets) for item in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data


def redact_text(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every occurrence of a known secret value in free text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text
