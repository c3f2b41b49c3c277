"""Where the emulated org's records live: SQLite documents plus a lookup index, thread-safe.

One row per record (sObject, 18-character Id, soft-delete flag, JSON document) and one *link*
row per indexed field value — the parent Id of every reference field and the value of every
external-id field — so a child-relationship subquery and an upsert find their rows by index
instead of scanning (``RecordSource.children`` is called once per parent row).

Transactions nest: the outermost one is a SQLite transaction, inner ones are savepoints, so a
Composite ``allOrNone`` request can roll back every write its subrequests made (contracts §1.6).
Work that must happen only once data is durable — telling the Outbound Message sender — is
registered with :meth:`RecordStore.on_commit` and dropped if the transaction rolls back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import string
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dealbridge.connectors.salesforce.models import is_salesforce_id, to_id18

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sobject TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_sobject ON records (sobject, deleted, seq);
CREATE TABLE IF NOT EXISTS links (
    sobject TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS links_value ON links (sobject, field, value);
CREATE INDEX IF NOT EXISTS links_id ON links (id);
CREATE TABLE IF NOT EXISTS counters (prefix TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_POD = "Dm0"  # what real ids carry after the key prefix (instance/reserved chars)
_SERIAL_WIDTH = 15 - 3 - len(_POD)

Links = Mapping[str, str | None]


class RecordStore:
    """SQLite persistence of the Salesforce emulator; implements the SOQL ``RecordSource``.

    Args:
        path: A database file, or ``":memory:"`` for a throw-away store.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._pending: list[list[Callable[[], None]]] = []
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # a lost last write on power cut is fine
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database (checkpoints the WAL)."""
        with self._lock:
            self._conn.close()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and a transaction; nested uses are savepoints of the outer one.

        An exception rolls back exactly this level's writes and its :meth:`on_commit` work.
        """
        with self._lock:
            depth = self._depth
            self._conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            self._pending.append([])
            try:
                yield
            except BaseException:
                self._rollback(depth)
                raise
            else:
                self._commit(depth)
            finally:
                self._depth = depth

    def _rollback(self, depth: int) -> None:
        self._pending.pop()
        if depth == 0:
            self._conn.execute("ROLLBACK")
        else:
            self._conn.execute(f"ROLLBACK TO sp{depth}")
            self._conn.execute(f"RELEASE sp{depth}")

    def _commit(self, depth: int) -> None:
        work = self._pending.pop()
        if depth > 0:
            self._conn.execute(f"RELEASE sp{depth}")
            self._pending[-1].extend(work)  # runs when the outermost level commits
            return
        self._conn.execute("COMMIT")
        for callback in work:
            callback()

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the outermost transaction commits (now, if there is none)."""
        with self._lock:
            if self._pending:
                self._pending[-1].append(callback)
                return
        callback()

    # -- RecordSource (soql_engine) ----------------------------------------------------------

    def records(self, sobject: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every record of ``sobject`` in creation order; deleted ones only for queryAll."""
        if include_deleted:
            return self._docs("SELECT doc FROM records WHERE sobject=? ORDER BY seq", (sobject,))
        return self._docs(
            "SELECT doc FROM records WHERE sobject=? AND deleted=0 ORDER BY seq", (sobject,)
        )

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """The record of ``sobject`` with this 15- or 18-character Id, deleted or not."""
        key = normalize_id(record_id)
        if key is None:
            return None
        docs = self._docs("SELECT doc FROM records WHERE id=? AND sobject=?", (key, sobject))
        return docs[0] if docs else None

    def children(
        self, sobject: str, field: str, parent_id: str, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Records of ``sobject`` whose reference ``field`` holds ``parent_id`` (by index)."""
        key = normalize_id(parent_id)
        if key is None:
            return []
        return self.find(sobject, field, key, include_deleted=include_deleted)

    # -- lookups ------------------------------------------------------------------------------

    def locate(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """``(sobject, record)`` for an Id of any type, deleted or not."""
        key = normalize_id(record_id)
        if key is None:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT sobject, doc FROM records WHERE id=?", (key,)
            ).fetchone()
        return None if row is None else (str(row[0]), _load(row[1]))

    def find(
        self, sobject: str, field: str, value: str, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Records of ``sobject`` whose indexed ``field`` holds ``value`` (as indexed)."""
        sql = (
            "SELECT r.doc FROM links l JOIN records r ON r.id = l.id "
            "WHERE l.sobject=? AND l.field=? AND l.value=?"
        )
        if not include_deleted:
            sql += " AND r.deleted=0"
        return self._docs(sql + " ORDER BY r.seq", (sobject, field, value))

    def exists(self, record_id: str) -> bool:
        """Whether any record (even a deleted one) has this Id."""
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM records WHERE id=?", (record_id,)).fetchone()
        return row is not None

    def count(self) -> int:
        """How many records there are, deleted ones included."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Live (not deleted) records per sObject."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT sobject, COUNT(*) FROM records WHERE deleted=0 GROUP BY sobject"
            ).fetchall()
        return {str(name): int(total) for name, total in rows}

    # -- writes -------------------------------------------------------------------------------

    def insert(self, sobject: str, doc: Mapping[str, Any], links: Links) -> None:
        """Store a new record; ``doc["Id"]`` must be an unused 18-character Id."""
        record_id = str(doc["Id"])
        with self.transaction():
            self._conn.execute(
                "INSERT INTO records (id, sobject, deleted, doc) VALUES (?, ?, ?, ?)",
                (record_id, sobject, int(bool(doc.get("IsDeleted"))), _dump(doc)),
            )
            self._write_links(sobject, record_id, links)

    def replace(self, sobject: str, doc: Mapping[str, Any], links: Links) -> None:
        """Overwrite an existing record's document, deleted flag and index entries."""
        record_id = str(doc["Id"])
        with self.transaction():
            self._conn.execute(
                "UPDATE records SET deleted=?, doc=? WHERE id=?",
                (int(bool(doc.get("IsDeleted"))), _dump(doc), record_id),
            )
            self._conn.execute("DELETE FROM links WHERE id=?", (record_id,))
            self._write_links(sobject, record_id, links)

    def next_id(self, prefix: str) -> str:
        """A fresh 18-character Id: key prefix + pod + base-62 serial, never reused.

        Deterministic (a counter per prefix), so two runs of the same script get the same Ids;
        Ids already taken (e.g. by seeded rows) are skipped.
        """
        with self.transaction():
            row = self._conn.execute(
                "SELECT last FROM counters WHERE prefix=?", (prefix,)
            ).fetchone()
            serial = int(row[0]) if row else 0
            while True:
                serial += 1
                candidate = to_id18(prefix + _POD + _base62(serial).rjust(_SERIAL_WIDTH, "0"))
                if not self.exists(candidate):
                    break
            self._conn.execute(
                "INSERT INTO counters (prefix, last) VALUES (?, ?) "
                "ON CONFLICT (prefix) DO UPDATE SET last=excluded.last",
                (prefix, serial),
            )
        return candidate

    def next_serial(self, counter: str) -> int:
        """The next value of a named counter (auto-number fields), starting at 1."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO counters (prefix, last) VALUES (?, 1) "
                "ON CONFLICT (prefix) DO UPDATE SET last=last + 1",
                (counter,),
            )
            row = self._conn.execute(
                "SELECT last FROM counters WHERE prefix=?", (counter,)
            ).fetchone()
        return int(row[0])

    def clear(self) -> None:
        """Remove every record and restart every Id counter (meta flags stay)."""
        with self.transaction():
            for table in ("records", "links", "counters"):
                self._conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def meta(self, key: str) -> str | None:
        """A persisted flag of this state directory, e.g. whether the seed org was loaded."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Persist a flag."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def _write_links(self, sobject: str, record_id: str, links: Links) -> None:
        rows = [(sobject, field, value, record_id) for field, value in links.items() if value]
        self._conn.executemany(
            "INSERT INTO links (sobject, field, value, id) VALUES (?, ?, ?, ?)", rows
        )

    def _docs(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [_load(row[0]) for row in rows]


def normalize_id(record_id: str) -> str | None:
    """The 18-character form of a well-shaped Id, or None (§1.2: 15 and 18 are the same id)."""
    if not isinstance(record_id, str) or not is_salesforce_id(record_id):
        return None
    return to_id18(record_id)


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
        if number == 0:
            return digits


def _dump(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _load(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    return doc
