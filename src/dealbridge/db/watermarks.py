"""Durable, forward-only cursors: the poller's ``SystemModstamp`` and each backfill's progress.

Forward-only because a watermark that moves back re-reads deals (harmless but costly) and one
that jumps ahead loses them; two pollers finishing out of order must leave the later value. The
value stays the text the caller gave (Salesforce's own spelling, ready for the next SOQL query),
compared as an aware ISO 8601 datetime. A backfill uses names like ``backfill:<job id>``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dealbridge.db.dialect import upsert_insert
from dealbridge.db.ledger_errors import LedgerError
from dealbridge.db.models import Watermark
from dealbridge.db.timestamps import ensure_aware, utc_now


def get_watermark(session: Session, name: str) -> str | None:
    """The stored value of ``name``, or ``None`` before its first advance."""
    return session.scalar(select(Watermark.value).where(Watermark.name == name))


def advance_watermark(session: Session, name: str, value: str | datetime) -> str:
    """Move ``name`` forward to ``value`` unless it is already there or later.

    Returns the value stored afterwards. Concurrent callers are serialised by a row lock on
    PostgreSQL and by the write lock every SQLite transaction takes (``session.py``), so the
    later value always wins.
    """
    text = value.isoformat() if isinstance(value, datetime) else value
    wanted = parse_instant(text)
    now = utc_now()
    insert = upsert_insert(session, Watermark).values(name=name, value=text, updated_at=now)
    session.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
    row = session.scalars(
        select(Watermark)
        .where(Watermark.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if wanted > parse_instant(row.value):
        row.value = text
        row.updated_at = now
        session.flush()
    return row.value


def reset_watermark(session: Session, name: str, value: str | datetime | None) -> None:
    """Set ``name`` to any value, backwards included, or delete it with ``None``.

    For an operator who wants the poller to look again from an earlier point.
    """
    row = session.get(Watermark, name)
    if value is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    text = value.isoformat() if isinstance(value, datetime) else value
    parse_instant(text)
    if row is None:
        session.add(Watermark(name=name, value=text, updated_at=utc_now()))
    else:
        row.value, row.updated_at = text, utc_now()
    session.flush()


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an explicit offset (``Z`` and ``+0000`` included)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise LedgerError(f"watermark value {text!r} is not an ISO 8601 datetime") from exc
    try:
        return ensure_aware(parsed, "watermark value")
    except ValueError as exc:
        raise LedgerError(str(exc)) from exc
