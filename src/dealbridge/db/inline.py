"""Ledger transactions on the event loop's own thread, where that costs less than a thread.

Why: a deal's ledger transactions are a few hundred microseconds of work each, and handing one
to a worker thread cost more than doing it. The hop wakes a thread, the GIL changes hands twice,
and the answer comes back through the loop's self-pipe; with thirty deals in flight and DBOS's
step bookkeeping on the same pool, a fifth of the service's CPU was the kernel switching
threads (``perf`` during ``bench/overhead.py``). Inline, a deal cost ~16 % less CPU.

Why it is safe, on a SQLite file only (``session.make_inline_engine``):

* A held write lock is never waited for on the loop. The inline connections' busy timeout is 0,
  so ``BEGIN IMMEDIATE`` fails at once when another connection (another process, the console's
  thread) is writing, and the caller sends the same transaction to a thread, where it waits as
  before (``write_lock_busy``). A failed transaction was rolled back whole, so sending it again
  repeats nothing.
* A commit in WAL mode with ``synchronous=NORMAL`` writes to the page cache; the disk is synced
  at checkpoints only, and those run in a thread: the inline connections never checkpoint, and
  every ``CHECKPOINT_EVERY`` inline transactions a checkpoint starts in a worker thread, which
  the next inline transactions wait for (``PeriodicCheckpoint``, ``checkpoint_file``).

PostgreSQL stays in threads: each of its statements is a round trip on the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.session import make_inline_engine, make_session_factory

# About 25 deals' worth of transactions: the log stays a few MB between checkpoints, as with
# SQLite's own default of 1,000 pages, and a checkpoint with nothing to copy costs nothing.
CHECKPOINT_EVERY = 150

# How long a checkpoint waits for the write lock or for readers (``checkpoint_file``).
CHECKPOINT_WAIT_MS = 250

# Checkpoints are rare and short; their own threads keep them out of the loops' executors.
_CHECKPOINT_THREADS = concurrent.futures.ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="sqlite-checkpoint"
)

_log = structlog.get_logger("dealbridge.db")


class InlineEngine:
    """Sessions for the event loop's thread, and the checkpoints their commits leave to do.

    Args:
        engine: From ``make_inline_engine`` (fails fast on a held lock, never checkpoints).
        database: The SQLite file, which checkpoints open on their own connection.
        checkpoint_every: Inline transactions between two checkpoints.
    """

    def __init__(
        self, engine: Engine, database: Path, *, checkpoint_every: int = CHECKPOINT_EVERY
    ) -> None:
        self.engine = engine
        self.factory: sessionmaker[Session] = make_session_factory(engine)
        self.checkpoints = PeriodicCheckpoint(
            lambda: checkpoint_file(database), every=checkpoint_every
        )

    @classmethod
    def for_url(cls, url: str | URL) -> InlineEngine | None:
        """The inline engine of a ledger in a SQLite file; None where there is none."""
        engine = make_inline_engine(url)
        if engine is None or not engine.url.database:
            return None
        return cls(engine, Path(engine.url.database))

    def dispose(self) -> None:
        """Close the inline connections."""
        self.engine.dispose()


class PeriodicCheckpoint:
    """Every ``every`` ticks on an event loop, ``checkpoint()`` in a worker thread.

    Why: a checkpoint copies the log into the database and syncs the disk, which must not
    happen on the loop; connections that run there leave it to this. A checkpoint still
    running is not doubled: the next one starts with the next tick after it ends.

    Why writers wait for it (``clear``): SQLite starts the log over only when a checkpoint has
    copied all of it, and a write that lands while one runs leaves it short. Writing on, the
    loop kept every threaded checkpoint short and the log grew by hundreds of MB in a burst,
    where SQLite's own checkpoint, run by the writer after its commit, kept it at ~5 MB. So a
    loop's writers await the checkpoint in progress (the loop itself runs on), as SQLite's
    writer does its own.
    """

    def __init__(self, checkpoint: Callable[[], object], *, every: int) -> None:
        self._checkpoint = checkpoint
        self._every = every
        self._ticks = 0
        # A thread's future, not a loop's: writers on any event loop may wait for it.
        self._running: concurrent.futures.Future[object] | None = None

    def tick(self) -> None:
        """One more write; maybe start a checkpoint."""
        self._ticks += 1
        if self._ticks < self._every:
            return
        if self._running is not None and not self._running.done():
            return
        self._ticks = 0
        self._running = _CHECKPOINT_THREADS.submit(self._checkpoint)
        self._running.add_done_callback(_report_failure)

    async def clear(self) -> None:
        """Return once no checkpoint is running (a writer's first step; see the class)."""
        running = self._running
        if running is not None and not running.done():
            await asyncio.wait([asyncio.wrap_future(running)])


def checkpoint_file(path: Path) -> tuple[int, int, int]:
    """A checkpoint that empties the log, on a connection of its own.

    ``TRUNCATE``: it takes the write lock, copies the whole log, waits for readers to leave it
    and cuts the file to nothing, so the next write starts the log over even while other
    threads write now and then (the queue's claims, enqueues), where a passive one kept falling
    short and the log grew by ~100 MB in a burst; the disk a burst's log took is given back. It
    waits at most ``CHECKPOINT_WAIT_MS`` for the lock or for readers, then goes on as a passive one
    would; a writer blocked meanwhile waits that long at most. Returns SQLite's answer: (1 if
    it fell short, pages in the log, pages copied).
    """
    connection = sqlite3.connect(path, timeout=CHECKPOINT_WAIT_MS / 1000, isolation_level=None)
    try:
        row: Any = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    return int(row[0]), int(row[1]), int(row[2])


def write_lock_busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's ``SQLITE_BUSY``: another connection holds the write lock."""
    original = getattr(error, "orig", error)
    if not isinstance(original, sqlite3.OperationalError):
        return False
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return "database is locked" in str(original)


def _report_failure(done: concurrent.futures.Future[object]) -> None:
    """A checkpoint that failed is logged; the next one copies what this one left."""
    if done.cancelled():
        return
    error = done.exception()
    if error is not None:
        _log.warning("sqlite_checkpoint_failed", error=str(error))
