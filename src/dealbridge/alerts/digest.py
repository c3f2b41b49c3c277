"""Batching: at most one message per ``digest_minutes``, the first one at once.

The rule (leading edge, then a window): when nothing was delivered within the last
``digest_minutes``, alerts go out immediately; otherwise they wait until the window since the
last delivery has passed, and then everything due by then goes out as one message. So the first
sign of trouble arrives within a tick, and an incident that raises fifty alerts in ten minutes
sends two messages, not fifty.

Nothing waits in memory: a rule keeps raising its alert every tick until it is delivered (see
``dedupe``), so a held alert is simply raised again at the next tick. The time of the last
delivery is the watermark ``alert:digest:last``, shared by every process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dealbridge.db.watermarks import advance_watermark, get_watermark, parse_instant

LAST_DELIVERY = "alert:digest:last"


def window_open(last_delivery: datetime | None, now: datetime, window: timedelta) -> bool:
    """Whether a message may go out at ``now``."""
    return last_delivery is None or now - last_delivery >= window


def last_delivery(session: Session) -> datetime | None:
    """When the last message went out, if ever."""
    value = get_watermark(session, LAST_DELIVERY)
    return None if value is None else parse_instant(value)


def record_delivery(session: Session, at: datetime) -> None:
    """Note that a message went out at ``at`` (opens the next window)."""
    advance_watermark(session, LAST_DELIVERY, at)
