"""The one place the ledger's SQL differs between SQLite and PostgreSQL: ``INSERT … ON CONFLICT``.

Why: SQLAlchemy's generic ``insert`` has no upsert, and both engines spell it the same way
through their dialect's ``insert`` — so repositories ask here for the right one and stay free of
``if sqlite`` branches.

Repository functions run their statements on an ``Executor``: an ORM session (the console, the
operator, tests) or a Core connection inside a transaction (the engine's per-deal writes, which
need no unit of work; ``sync.ledger``). Both execute the same statements.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import LedgerError

UpsertInsert = sqlite.Insert | postgresql.Insert
Executor = Session | Connection


def dialect_name(bind: Executor) -> str:
    """``sqlite`` or ``postgresql``: the engine behind ``bind``."""
    if isinstance(bind, Connection):
        return bind.dialect.name
    return bind.get_bind().dialect.name


def upsert_insert(bind: Executor, entity: Any) -> UpsertInsert:
    """An ``INSERT`` into ``entity`` that supports ``on_conflict_do_*`` on this engine."""
    return upsert_insert_for(dialect_name(bind), entity)


def upsert_insert_for(dialect: str, entity: Any) -> UpsertInsert:
    """``upsert_insert`` by the dialect's name: for statements built once and kept."""
    if dialect == "sqlite":
        return sqlite.insert(entity)
    if dialect == "postgresql":
        return postgresql.insert(entity)
    raise LedgerError(f"the ledger supports SQLite and PostgreSQL, not {dialect}")
