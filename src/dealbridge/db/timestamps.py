"""Timezone-aware UTC timestamps that survive a round trip through SQLite and PostgreSQL.

Why a type of our own: ``DateTime(timezone=True)`` keeps the zone on PostgreSQL (``timestamptz``)
but SQLite stores text without one, so an aware value would come back naive and every comparison
with ``datetime.now(UTC)`` would raise. This type stores UTC everywhere and hands back aware UTC
values on both engines; a naive value is refused on the way in, because guessing its zone is how
ledgers end up an hour off.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def ensure_aware(value: datetime, name: str = "timestamp") -> datetime:
    """``value`` converted to UTC; a naive datetime is a caller bug and raises ``ValueError``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always binds and returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """UTC on the way in; SQLite gets it without tzinfo since it cannot store one."""
        if value is None:
            return None
        aware = ensure_aware(value)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware UTC on the way out, whatever the engine returned."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
