"""Timestamps go in aware and come out aware UTC, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from dealbridge.db.models import Watermark
from dealbridge.db.timestamps import UtcDateTime, ensure_aware, utc_now


def test_utc_now_is_aware_utc() -> None:
    assert utc_now().tzinfo is UTC


def test_ensure_aware_converts_offsets_to_utc() -> None:
    paris = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    assert ensure_aware(paris) == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    assert ensure_aware(paris).tzinfo is UTC


def test_ensure_aware_refuses_naive() -> None:
    with pytest.raises(ValueError, match="finished_at must be timezone-aware"):
        ensure_aware(datetime(2025, 3, 1, 12, 0), "finished_at")


def test_round_trip_through_sqlite_stays_aware(session: Session) -> None:
    paris = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    session.add(Watermark(name="w", value="2025-01-01T00:00:00Z", updated_at=paris))
    session.commit()
    session.expunge_all()
    stored = session.scalars(select(Watermark.updated_at)).one()
    assert stored.tzinfo is UTC
    assert stored == paris


def test_naive_value_is_refused_on_bind(session: Session) -> None:
    session.add(Watermark(name="w", value="x", updated_at=datetime(2025, 1, 1)))
    with pytest.raises(StatementError, match="must be timezone-aware"):
        session.flush()


def test_type_is_cacheable() -> None:
    assert UtcDateTime.cache_ok is True
