"""Durable, forward-only cursors: the poller's ``SystemModstamp`` and each backfill's progress.

Forward-only because a watermark that moves back re-reads deals (harmless but costly) and one
that jumps ahead loses them; two pollers finishing out of order must leave the later value. The
value stays the text the caller gave (Salesforce's own spelling, ready for the next SOQL query),
compared as an aware ISO 8601 datetime. A backfill uses names like ``backfill:<job id>``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from dealbridge.db.dialect import Executor, dialect_name, upsert_insert_for
from dealbridge.db.ledger_errors import LedgerError
from dealbridge.db.models import Watermark
from dealbridge.db.timestamps import ensure_aware, utc_now

_WATERMARKS = cast(Table, Watermark.__table__)
# Built once: every deal's write-back reads and advances one (``runs``).
_VALUE = select(_WATERMARKS.c.value).where(_WATERMARKS.c.name == bindparam("key"))
_VALUE_FOR_UPDATE = _VALUE.with_for_update()
_SET_VALUE = _WATERMARKS.update().where(_WATERMARKS.c.name == bindparam("key"))


def get_watermark(session: Executor, name: str) -> str | None:
    """The stored value of ``name``, or ``None`` before its first advance."""
    value: str | None = session.execute(_VALUE, {"key": name}).scalar()
    return value


def advance_watermark(session: Executor, name: str, value: str | datetime) -> str:
    """Move ``name`` forward to ``value`` unless it is already there or later.

    Returns the value stored afterwards. Concurrent callers are serialised by a row lock on
    PostgreSQL and by the write lock every SQLite transaction takes (``session.py``), so the
    later value always wins. Written with statements, not through an entity: a session's
    ``Watermark`` objects loaded before are not refreshed.
    """
    text = value.isoformat() if isinstance(value, datetime) else value
    wanted = parse_instant(text)
    now = utc_now()
    row = {"name": name, "value": text, "updated_at": now}
    created = session.execute(_insert_new(dialect_name(session)), row).scalar()
    if created is not None:
        return str(created)
    current = str(session.execute(_VALUE_FOR_UPDATE, {"key": name}).scalar_one())
    if wanted <= parse_instant(current):
        return current
    session.execute(_SET_VALUE, {"key": name, "value": text, "updated_at": now})
    return text


@functools.cache
def _insert_new(dialect: str) -> ReturningInsert[Any]:
    """A first value's ``INSERT``: the value when the row is new, nothing when it was there."""
    insert = upsert_insert_for(dialect, _WATERMARKS).on_conflict_do_nothing(index_elements=["name"])
    return insert.returning(_WATERMARKS.c.value)


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
