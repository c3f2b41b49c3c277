"""Engines and sessions for the ledger, on a SQLite file or on PostgreSQL.

SQLite (the default, one process): WAL so the console can read while the engine writes,
a 30 s busy timeout so short lock waits are ridden out, foreign keys on (SQLite leaves them off),
and every transaction opened with ``BEGIN IMMEDIATE``. Why immediate: pysqlite by default starts a
transaction only at the first write, so a read-then-write (advance a watermark, bump an open
error) is not atomic, and in WAL mode a deferred transaction that read first and writes second
fails with ``SQLITE_BUSY`` at once — the busy timeout cannot help. Taking the write lock at
``BEGIN`` makes each transaction atomic and turns contention into a wait.

PostgreSQL (production, many processes): a bounded pool with pre-ping (workers outlive
server restarts and idle-timeout proxies) and sessions in UTC.

Thread safety: an ``Engine`` and a ``sessionmaker`` are safe to share between threads; a
``Session`` is not, so ``session_scope`` makes a new one each time. ``engine_for`` caches one
engine per URL behind a lock, the only module-level state of the ledger.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from dealbridge.db.json_text import json_text

SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SWITCH_RETRY_SECONDS = 0.02
POSTGRES_POOL: dict[str, Any] = {
    "pool_size": 5,
    "max_overflow": 10,
    "pool_timeout": 30,
    "pool_recycle": 1800,
    "pool_pre_ping": True,
}

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def normalise_url(url: str | URL) -> URL:
    """The URL with PostgreSQL pinned to psycopg 3 (``postgresql://`` means psycopg2 otherwise).

    Why: settings and DBOS take the plain ``postgresql://`` form, but psycopg2 is not installed.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **options: Any) -> Engine:
    """A new engine for ``url`` with the ledger's connection settings.

    Args:
        url: A SQLAlchemy URL; ``postgresql://`` is served by psycopg 3.
        **options: Overrides for ``create_engine`` (e.g. ``pool_size``).
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, options)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed, options)
    return create_engine(parsed, **options)


def make_inline_engine(url: str | URL) -> Engine | None:
    """For a ledger in a SQLite file: an engine fit to run on an event loop's own thread.

    Its connections give up at once when another connection holds the write lock (the caller
    then runs the transaction in a thread, where it may wait), and never checkpoint the log
    themselves, since a checkpoint syncs the disk (``db/inline.py`` runs them in a thread).
    None for PostgreSQL and in-memory SQLite: every statement of the one is a round trip on
    the network, and the other is one connection shared by every thread.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    engine = _sqlite_engine(parsed, {})
    event.listen(engine, "connect", _on_inline_connect)  # after ``_on_sqlite_connect``
    return engine


def engine_for(url: str | URL) -> Engine:
    """The process-wide engine for ``url``, created on first use."""
    key = normalise_url(url).render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = make_engine(key)
        return engine


def dispose_engines() -> None:
    """Close every cached engine's connections (tests, shutdown, after ``fork``)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit.

    ``expire_on_commit=False`` because repository functions return ORM rows that the console and
    the engine read after the ``session_scope`` that loaded them has closed.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        # One shared connection, or each thread would see its own empty database.
        options = {"poolclass": StaticPool, **options}
    else:
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    # ``timeout`` is the driver's busy handler for the pragmas run at connect, before ours is set:
    # switching a new database to WAL waits on another connection's write transaction (a
    # concurrent migration) and would otherwise give up after the driver's default 5 s.
    connect_args = {
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        **options.pop("connect_args", {}),
    }
    engine = create_engine(url, connect_args=connect_args, json_serializer=json_text, **options)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Pragmas per connection; pysqlite's own transaction handling off (we emit BEGIN)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode, fewer fsyncs
    finally:
        cursor.close()


def _on_inline_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """No wait on a held write lock, no checkpoint at commit (``make_inline_engine``)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()


def switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, waiting out a concurrent writer.

    Why the loop: on a database still in rollback-journal mode (a new ledger), the switch fails
    with "database is locked" at once, without calling the busy handler, while another connection
    writes — several processes or threads upgrading a new ledger together hit it. Once the file is
    in WAL mode (which persists), the pragma returns at once and the loop runs once.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_SWITCH_RETRY_SECONDS)


def _on_sqlite_begin(connection: Connection) -> None:
    """Take the write lock at the start of every transaction (see the module docstring)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _postgres_engine(url: URL, options: dict[str, Any]) -> Engine:
    connect_args = {
        "application_name": "dealbridge",
        "options": "-c timezone=UTC",
        **options.pop("connect_args", {}),
    }
    pool = {} if "poolclass" in options else POSTGRES_POOL  # NullPool takes no sizes
    return create_engine(
        url, connect_args=connect_args, json_serializer=json_text, **{**pool, **options}
    )
