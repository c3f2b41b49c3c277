"""Do not say the same thing twice: an alert key is re-sent only after ``repeat_minutes``.

The decision (``due_alerts``) is pure; the memory is the ledger's ``watermarks`` table, one row
``alert:<key>`` per key holding when it was last sent. Watermarks only move forward, which is
what "last sent" needs, and they survive restarts, so a restarted process does not repeat the
alerts its predecessor sent. Keys longer than a watermark name allows are hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dealbridge.alerts.alert import Alert
from dealbridge.db.watermarks import advance_watermark, get_watermark, parse_instant

PREFIX = "alert:"
MAX_NAME = 255


def due_alerts(
    alerts: Sequence[Alert], last_sent: Mapping[str, datetime], now: datetime, repeat: timedelta
) -> list[Alert]:
    """The alerts to send now: never sent, or repeatable and last sent ``repeat`` ago or more."""
    due: list[Alert] = []
    for alert in alerts:
        sent = last_sent.get(alert.key)
        if sent is None or (alert.repeat and now - sent >= repeat):
            due.append(alert)
    return due


def watermark_name(key: str) -> str:
    """The watermark that remembers ``key``."""
    name = PREFIX + key
    if len(name) <= MAX_NAME:
        return name
    return PREFIX + "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def last_sent(session: Session, keys: Iterable[str]) -> dict[str, datetime]:
    """When each key was last sent (keys never sent are absent)."""
    found: dict[str, datetime] = {}
    for key in set(keys):
        value = get_watermark(session, watermark_name(key))
        if value is not None:
            found[key] = parse_instant(value)
    return found


def mark_sent(session: Session, keys: Iterable[str], at: datetime) -> None:
    """Remember that ``keys`` were sent at ``at``."""
    for key in sorted(set(keys)):
        advance_watermark(session, watermark_name(key), at)
