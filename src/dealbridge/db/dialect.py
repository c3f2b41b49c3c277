"""The one place the ledger's SQL differs between SQLite and PostgreSQL: ``INSERT … ON CONFLICT``.

Why: SQLAlchemy's generic ``insert`` has no upsert, and both engines spell it the same way
through their dialect's ``insert`` — so repositories ask here for the right one and stay free of
``if sqlite`` branches.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import LedgerError

UpsertInsert = sqlite.Insert | postgresql.Insert


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``: the engine behind ``session``."""
    return session.get_bind().dialect.name


def upsert_insert(session: Session, entity: Any) -> UpsertInsert:
    """An ``INSERT`` into ``entity`` that supports ``on_conflict_do_*`` on this engine."""
    name = dialect_name(session)
    if name == "sqlite":
        return sqlite.insert(entity)
    if name == "postgresql":
        return postgresql.insert(entity)
    raise LedgerError(f"the ledger supports SQLite and PostgreSQL, not {name}")
