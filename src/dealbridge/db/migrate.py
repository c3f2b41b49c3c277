"""Bring a ledger database to the current schema, from code or from ``dealbridge db upgrade``.

Why in code and not only ``alembic upgrade``: the installed package has no ``alembic.ini``, and
every process that opens the ledger (service, worker, CLI) may want to upgrade first. The Alembic
configuration is therefore built here, pointing at the migrations shipped inside the package.

Why a lock: on PostgreSQL several workers start at once and would all try to create the same
tables. Each upgrade runs in one transaction that first takes a transaction-scoped advisory lock;
the others wait, then find the schema at head and do nothing. PostgreSQL's DDL is transactional,
so a failed upgrade leaves no half-built schema. On SQLite the transaction starts with
``BEGIN IMMEDIATE`` (``session.py``), which serialises upgrades the same way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from dealbridge.db.session import make_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
# Our own name, so a database shared with another Alembic-managed app cannot mix histories.
VERSION_TABLE = "dealbridge_alembic_version"
MIGRATION_LOCK = "dealbridge:ledger-migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations, optionally bound to ``connection``.

    ``env.py`` runs on ``config.attributes["connection"]`` when it is given.
    """
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | URL, revision: str = "head") -> str | None:
    """Upgrade the ledger at ``url`` to ``revision``; returns the revision it is at afterwards.

    Safe to call from several processes at once (see the module docstring).
    """
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            lock_for_migrations(connection)
            command.upgrade(alembic_config(connection), revision)
        return _current(engine)
    finally:
        engine.dispose()


def current(url: str | URL) -> str | None:
    """The revision the ledger at ``url`` is at, or ``None`` for an empty database."""
    engine = _engine(url)
    try:
        return _current(engine)
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision this version of dealbridge ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def lock_for_migrations(connection: Connection) -> None:
    """Hold the migration lock until ``connection``'s transaction ends (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": MIGRATION_LOCK},
        )


def _engine(url: str | URL) -> Engine:
    """A throwaway engine: migrations run once per process and should not keep connections."""
    return make_engine(url, poolclass=NullPool)


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()
