"""Watermarks only move forward, compared as instants whatever their spelling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import LedgerError
from dealbridge.db.models import Watermark
from dealbridge.db.watermarks import (
    advance_watermark,
    get_watermark,
    parse_instant,
    reset_watermark,
)

POLLER = "poller:cpq_closed_won"


def test_unknown_watermark_is_none(session: Session) -> None:
    assert get_watermark(session, POLLER) is None


def test_first_advance_sets_it(session: Session) -> None:
    assert advance_watermark(session, POLLER, "2025-06-01T09:00:00.000Z") == (
        "2025-06-01T09:00:00.000Z"
    )
    assert get_watermark(session, POLLER) == "2025-06-01T09:00:00.000Z"


def test_moves_forward_only(session: Session) -> None:
    advance_watermark(session, POLLER, "2025-06-01T09:00:00.000Z")
    assert advance_watermark(session, POLLER, "2025-06-01T10:00:00.000Z") == (
        "2025-06-01T10:00:00.000Z"
    )
    assert advance_watermark(session, POLLER, "2025-06-01T09:30:00.000Z") == (
        "2025-06-01T10:00:00.000Z"
    )
    assert advance_watermark(session, POLLER, "2025-06-01T10:00:00.000Z") == (
        "2025-06-01T10:00:00.000Z"
    )
    assert get_watermark(session, POLLER) == "2025-06-01T10:00:00.000Z"


def test_compares_instants_not_text(session: Session) -> None:
    advance_watermark(session, POLLER, "2025-06-01T10:00:00.000+0000")
    # 11:30 in Paris is 09:30 UTC: earlier, although it sorts later as text.
    assert advance_watermark(session, POLLER, "2025-06-01T11:30:00+02:00") == (
        "2025-06-01T10:00:00.000+0000"
    )
    assert advance_watermark(session, POLLER, "2025-06-01T10:00:01Z") == "2025-06-01T10:00:01Z"


def test_accepts_aware_datetimes(session: Session) -> None:
    value = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    assert advance_watermark(session, POLLER, value) == "2025-06-01T09:00:00+00:00"


def test_updated_at_moves_with_the_value(session: Session) -> None:
    advance_watermark(session, POLLER, "2025-06-01T09:00:00Z")
    row = session.get(Watermark, POLLER)
    assert row is not None
    first = row.updated_at
    assert first.tzinfo is UTC
    advance_watermark(session, POLLER, "2025-06-01T08:00:00Z")
    assert row.updated_at == first  # refused: untouched


@pytest.mark.parametrize("bad", ["yesterday", "2025-06-01T09:00:00", ""])
def test_refuses_values_that_are_not_aware_instants(session: Session, bad: str) -> None:
    with pytest.raises(LedgerError):
        advance_watermark(session, POLLER, bad)
    assert get_watermark(session, POLLER) is None


def test_reset_can_move_backwards_and_delete(session: Session) -> None:
    advance_watermark(session, POLLER, "2025-06-01T09:00:00Z")
    reset_watermark(session, POLLER, "2025-01-01T00:00:00Z")
    assert get_watermark(session, POLLER) == "2025-01-01T00:00:00Z"
    reset_watermark(session, POLLER, None)
    assert get_watermark(session, POLLER) is None
    reset_watermark(session, POLLER, None)  # deleting nothing is fine
    reset_watermark(session, "backfill:job-7", datetime(2024, 1, 1, tzinfo=UTC))
    assert get_watermark(session, "backfill:job-7") == "2024-01-01T00:00:00+00:00"
    with pytest.raises(LedgerError):
        reset_watermark(session, POLLER, "not a date")


def test_names_are_independent(session: Session) -> None:
    advance_watermark(session, POLLER, "2025-06-01T09:00:00Z")
    advance_watermark(session, "backfill:job-1", "2024-01-01T00:00:00Z")
    assert get_watermark(session, POLLER) == "2025-06-01T09:00:00Z"
    assert get_watermark(session, "backfill:job-1") == "2024-01-01T00:00:00Z"


def test_parse_instant() -> None:
    assert parse_instant("2025-06-01T09:00:00.000Z") == datetime(2025, 6, 1, 9, tzinfo=UTC)
