"""Where emulated records live: one SQLite table of JSON documents, safe across threads.

Internal ids come from a counter per record group, because NetSuite shares the id space across
the entity group (customer, contact… contracts §9) and never reuses a deleted id. External ids
are unique per group, enforced by a unique index so that no race can store a duplicate.
WAL with ``synchronous=NORMAL`` keeps a write well under a millisecond: the emulator must take
hundreds of writes a second, and losing the last one on a power cut does not matter here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    grp TEXT NOT NULL,
    id INTEGER NOT NULL,
    type TEXT NOT NULL,
    ext_id TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (grp, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS records_ext_id ON records (grp, ext_id);
CREATE INDEX IF NOT EXISTS records_type ON records (type, id);
CREATE TABLE IF NOT EXISTS counters (grp TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""


@dataclass
class StoredRecord:
    """One record as stored: ``doc`` holds every field except the internal id."""

    type: str
    id: int
    ext_id: str | None
    doc: dict[str, Any]


class RecordStore:
    """SQLite persistence for the NetSuite emulator.

    Args:
        path: A database file, or ``":memory:"`` for a throw-away store.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and one SQLite transaction; nested uses join the outer one.

        A read-check-write such as an upsert runs inside one of these, so two threads can
        never both see "no record with this external id" and both create one.
        """
        with self._lock:
            if self._depth:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def get(self, group: str, record_id: int) -> StoredRecord | None:
        """The record with this internal id in ``group``, of whatever type."""
        return self._one(
            "SELECT type, id, ext_id, doc FROM records WHERE grp=? AND id=?", (group, record_id)
        )

    def find_external(self, group: str, ext_id: str) -> StoredRecord | None:
        """The record of ``group`` that carries this external id (§9: unique per group)."""
        return self._one(
            "SELECT type, id, ext_id, doc FROM records WHERE grp=? AND ext_id=?", (group, ext_id)
        )

    def records(self, record_type: str) -> list[StoredRecord]:
        """Every record of a type, by internal id."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT type, id, ext_id, doc FROM records WHERE type=? ORDER BY id", (record_type,)
            ).fetchall()
        return [_record(row) for row in rows]

    def types(self) -> list[str]:
        """The record types that have at least one record."""
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT type FROM records ORDER BY type").fetchall()
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        """How many records there are in all."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def insert(self, record: StoredRecord, group: str) -> int:
        """Store a new record; ``record.id`` 0 takes the group's next id. Returns the id."""
        with self.transaction():
            record_id = record.id or self._next_id(group)
            self._bump(group, record_id)
            self._conn.execute(
                "INSERT INTO records (grp, id, type, ext_id, doc) VALUES (?, ?, ?, ?, ?)",
                (group, record_id, record.type, record.ext_id, _dump(record.doc)),
            )
        return record_id

    def update(self, record: StoredRecord, group: str) -> None:
        """Replace the stored document (and external id) of an existing record."""
        with self._lock:
            self._conn.execute(
                "UPDATE records SET ext_id=?, doc=? WHERE grp=? AND id=?",
                (record.ext_id, _dump(record.doc), group, record.id),
            )

    def delete(self, group: str, record_id: int) -> None:
        """Remove a record; its id is never handed out again."""
        with self._lock:
            self._conn.execute("DELETE FROM records WHERE grp=? AND id=?", (group, record_id))

    def clear(self) -> None:
        """Remove every record and restart every id counter."""
        with self.transaction():
            self._conn.execute("DELETE FROM records")
            self._conn.execute("DELETE FROM counters")

    def _one(self, sql: str, params: tuple[Any, ...]) -> StoredRecord | None:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return None if row is None else _record(row)

    def _next_id(self, group: str) -> int:
        row = self._conn.execute("SELECT last FROM counters WHERE grp=?", (group,)).fetchone()
        return (int(row[0]) if row else 0) + 1

    def _bump(self, group: str, record_id: int) -> None:
        self._conn.execute(
            "INSERT INTO counters (grp, last) VALUES (?, ?) "
            "ON CONFLICT (grp) DO UPDATE SET last = MAX(last, excluded.last)",
            (group, record_id),
        )


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _record(row: tuple[Any, ...]) -> StoredRecord:
    doc: dict[str, Any] = json.loads(row[3])
    return StoredRecord(type=str(row[0]), id=int(row[1]), ext_id=row[2], doc=doc)
