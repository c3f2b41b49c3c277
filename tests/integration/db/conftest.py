"""The ledger on both engines: every test here runs on SQLite and on PostgreSQL.

PostgreSQL tests share one database per session (created fresh, dropped at the end) and empty
its tables after each test; migration tests get an empty database of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.migrate import upgrade
from dealbridge.db.models import Base
from dealbridge.db.session import make_engine, make_session_factory
from tests.support import postgres_db

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def require_postgres() -> None:
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_ledger() -> Iterator[str]:
    require_postgres()
    with postgres_db.fresh_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql":
        require_postgres()
    return name


@pytest.fixture
def empty_url(dialect: str, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, on the parametrised engine."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with postgres_db.fresh_database() as url:
        yield url


@pytest.fixture
def ledger_url(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated ledger with empty tables."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("postgres_ledger")
    yield url
    _truncate(url)


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    engine = make_engine(ledger_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def _truncate(url: str) -> None:
    engine = make_engine(url)
    try:
        names = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
