"""Engines carry the ledger's SQLite pragmas and pool settings; sessions commit or roll back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import session as session_module
from dealbridge.db.models import ApiCall, Watermark
from dealbridge.db.session import (
    dispose_engines,
    engine_for,
    make_engine,
    make_session_factory,
    normalise_url,
    session_scope,
)
from dealbridge.db.timestamps import utc_now


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_pragmas(engine: Engine) -> None:
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "busy_timeout") == 30_000
    assert _pragma(engine, "foreign_keys") == 1


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(
        ApiCall(
            run_id="no-such-run",
            system="netsuite",
            method="GET",
            path="/x",
            status=200,
            duration_ms=1.0,
            at=utc_now(),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_postgres_engine_pool_settings() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/none")  # never connects
    try:
        assert engine.pool.size() == session_module.POSTGRES_POOL["pool_size"]  # type: ignore[attr-defined]
        assert engine.pool._pre_ping is True  # type: ignore[attr-defined]
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_sqlite_file_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "ledger.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert path.exists()
    finally:
        engine.dispose()


def test_session_scope_commits(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        session.add(Watermark(name="a", value="2025-01-01T00:00:00Z", updated_at=utc_now()))
    with session_scope(factory) as session:
        assert session.get(Watermark, "a") is not None


def _write_then_fail(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        session.add(Watermark(name="b", value="2025-01-01T00:00:00Z", updated_at=utc_now()))
        session.flush()
        raise RuntimeError("boom")


def test_session_scope_rolls_back_on_error(factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _write_then_fail(factory)
    with session_scope(factory) as session:
        assert session.get(Watermark, "b") is None


def test_objects_stay_readable_after_the_scope(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        mark = Watermark(name="c", value="2025-01-01T00:00:00Z", updated_at=utc_now())
        session.add(mark)
    assert mark.value == "2025-01-01T00:00:00Z"


def test_engine_for_caches_one_engine_per_url_across_threads(ledger_url: str) -> None:
    barrier = threading.Barrier(6)
    seen: list[Engine] = []

    def grab() -> None:
        barrier.wait()
        seen.append(engine_for(ledger_url))

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len({id(engine) for engine in seen}) == 1
    finally:
        dispose_engines()
    assert engine_for(ledger_url) is not seen[0]
    dispose_engines()


def test_in_memory_sqlite_is_shared_between_sessions() -> None:
    engine = make_engine("sqlite://")
    try:
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        with session_scope(factory) as session:
            assert session.execute(text("SELECT x FROM t")).scalar() == 1
    finally:
        engine.dispose()
