"""Throwaway PostgreSQL databases for tests, on the local server (trust auth, user postgres).

Every test session gets databases named ``dealbridge_test_<random>``, created through psycopg on
the ``postgres`` maintenance database and dropped afterwards; when the server is not reachable the
tests that need it skip and say why.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

HOST = "127.0.0.1"
PORT = 5432
USER = "postgres"
ADMIN_DSN = f"host={HOST} port={PORT} user={USER} dbname=postgres connect_timeout=5"


@functools.cache
def unreachable_reason() -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` when it can (asked once per session)."""
    try:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {HOST}:{PORT}: {detail}"
    return None


def url_of(name: str) -> str:
    """SQLAlchemy URL of database ``name`` (psycopg 3 driver)."""
    return f"postgresql+psycopg://{USER}@{HOST}:{PORT}/{name}"


def create_database(prefix: str = "dealbridge_test") -> str:
    """Create an empty database with a random name; returns the name."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    """Drop database ``name``, disconnecting anyone still on it."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        connection.execute(statement.format(sql.Identifier(name)))


@contextmanager
def fresh_database(prefix: str = "dealbridge_test") -> Iterator[str]:
    """An empty database for the duration of the block; yields its SQLAlchemy URL."""
    name = create_database(prefix)
    try:
        yield url_of(name)
    finally:
        drop_database(name)
