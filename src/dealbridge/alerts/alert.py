"""What an alert is, and the message a batch of them becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

AlertKind = Literal[
    "new_error_class", "open_errors", "connection_failing", "missing_outcome", "stale_pending"
]


@dataclass(frozen=True)
class Alert:
    """One thing wrong, worth telling someone about.

    Attributes:
        key: Identity for de-duplication, e.g. ``error_class:auth`` (same key, same alert).
        kind: Which rule raised it.
        title: One line, e.g. "New error class: auth".
        detail: A sentence or two of facts; never a secret, never a raw remote message.
        link: The console page that explains it (absolute URL).
        at: When the condition was observed.
        repeat: Whether to remind after ``repeat_minutes`` while it persists (a new error class
            is news once).
    """

    key: str
    kind: AlertKind
    title: str
    detail: str
    link: str
    at: datetime
    repeat: bool = True


@dataclass(frozen=True)
class AlertMessage:
    """A batch of alerts rendered for delivery.

    Attributes:
        subject: Email subject / first line.
        text: Plain text (email body; Slack's notification fallback).
        blocks: Slack Block Kit blocks.
        alerts: The alerts it carries.
    """

    subject: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    alerts: tuple[Alert, ...] = ()


def console_link(base_url: str, path: str, **query: str) -> str:
    """An absolute console URL: ``console_link(base, "/errors", **{"class": "auth"})``."""
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{base_url.rstrip('/')}{path}{suffix}"
