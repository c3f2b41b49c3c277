"""DBOS's own SQLite file: write-ahead log and one fsync per checkpoint at most.

Why: DBOS opens its SQLite system database as SQLite does by default — a rollback journal and
``synchronous=FULL`` — so each of a deal's dozens of checkpoint and queue transactions created,
synced and deleted a journal file (several fsyncs each). In WAL mode a commit appends to one
log; with ``synchronous=NORMAL`` the log is synced at checkpoints instead of at every commit.

What that risks, and why it is acceptable: a process crash loses nothing (the log is in the OS's
hands); a power cut may lose the last commits, never corrupt the file. A lost checkpoint makes
DBOS run that step again on recovery, and every step is safe to repeat — NetSuite writes are
upserts by external id, the Salesforce write-back sets the same fields — which is the same bargain
the ledger already makes (``db/session.py``).

WAL is a property of the file, so it is set once before DBOS opens it; ``synchronous`` is per
connection, so DBOS's engine gets a connection class that sets it as each connection opens
(DBOS adds its own busy timeout and ``BEGIN IMMEDIATE`` on top).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from dealbridge.db.session import SQLITE_BUSY_TIMEOUT_MS, switch_to_wal


class SystemDatabaseConnection(sqlite3.Connection):
    """A sqlite3 connection that syncs the log at checkpoints, not at every commit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")


class LoopSystemDatabaseConnection(SystemDatabaseConnection):
    """One that never checkpoints the log itself.

    DBOS's bookkeeping runs on the event loop (``sync/dbos_inline.py``), and a checkpoint
    syncs the disk: checkpoints run in a thread instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA wal_autocheckpoint=0")


def prepare_sqlite(system_database_url: str) -> Path | None:
    """Create DBOS's SQLite file if needed and put it in WAL mode (idempotent); its path."""
    database = make_url(system_database_url).database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        switch_to_wal(connection.cursor())
    finally:
        connection.close()
    return path


def sqlite_engine_kwargs(*, checkpoints_elsewhere: bool = False) -> dict[str, Any]:
    """DBOS's ``db_engine_kwargs``: ``SystemDatabaseConnection``s, and no ping before each use.

    DBOS pings every pooled connection before handing it out (``pool_pre_ping``), which is
    for a server that may have dropped it; a SQLite file cannot, and the ping was one more
    statement in each of a deal's ~17 checkpoint and queue transactions.

    ``checkpoints_elsewhere``: the connections leave checkpoints to ``dbos_inline``, which
    runs them in a thread (only while it is installed, or the log would grow for ever).
    """
    factory = LoopSystemDatabaseConnection if checkpoints_elsewhere else SystemDatabaseConnection
    return {"connect_args": {"factory": factory}, "pool_pre_ping": False}
