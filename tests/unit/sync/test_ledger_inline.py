"""``Ledger.call``: a SQLite ledger's transactions on the loop's thread, a held lock in a thread.

The engine's CPU per deal (issue 8): a hop to a thread cost more than the transaction it
carried. These tests hold the three promises that make running them on the loop safe: the loop
never waits for a lock, a transaction that met one is run again whole in a thread, and the
log's checkpoints (which sync the disk) are never done on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dealbridge.db import inline, runs
from dealbridge.db.inline import InlineEngine, write_lock_busy
from dealbridge.db.migrate import upgrade
from dealbridge.db.session import make_inline_engine
from dealbridge.sync.ledger import Ledger
from tests.support.sqlite_files import rows_in_database_file

pytestmark = pytest.mark.anyio

TRIGGER = {"kind": "manual"}


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def ledger(database: Path) -> Iterator[Ledger]:
    opened = Ledger(f"sqlite:///{database}")
    yield opened
    opened.dispose()


def opened_on(ledger: Ledger, threads: list[int], workflow_id: str) -> str:
    """``begin_run``, noting the thread it ran on."""
    threads.append(threading.get_ident())
    return ledger.begin_run(workflow_id, "006A", TRIGGER, echo_check=False).run_id


def run_ids(ledger: Ledger) -> set[str]:
    with ledger.session() as session:
        return {run.workflow_id for run in runs.list_runs(session, runs.RunFilter(), limit=100)}


async def test_a_transaction_runs_on_the_loops_thread_when_the_write_lock_is_free(
    ledger: Ledger,
) -> None:
    threads: list[int] = []
    await ledger.call(opened_on, ledger, threads, "wf-1")
    assert threads == [threading.get_ident()]
    assert run_ids(ledger) == {"wf-1"}


async def test_a_held_write_lock_sends_the_transaction_to_a_thread_and_the_loop_runs_on(
    ledger: Ledger, database: Path
) -> None:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, say
    threads: list[int] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    opening = asyncio.create_task(ledger.call(opened_on, ledger, threads, "wf-1"))
    await asyncio.sleep(0.3)
    assert not opening.done()  # waiting for the lock, in its thread
    waited = ticks
    holder.execute("COMMIT")
    holder.close()
    await opening
    ticking.cancel()

    assert waited >= 10  # the loop went on while the transaction waited
    assert threads[0] == threading.get_ident()  # tried on the loop first, at once
    assert len(threads) == 2
    assert threads[1] != threading.get_ident()
    assert run_ids(ledger) == {"wf-1"}
    await ledger.call(opened_on, ledger, threads, "wf-2")  # the loop's connection is fine after
    assert threads[2] == threading.get_ident()
    assert run_ids(ledger) == {"wf-1", "wf-2"}


async def test_any_other_error_is_raised_from_the_first_attempt(ledger: Ledger) -> None:
    attempts: list[int] = []

    def broken() -> None:
        attempts.append(threading.get_ident())
        with ledger.session() as session:
            session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError, match="no_such_table"):
        await ledger.call(broken)
    assert attempts == [threading.get_ident()]

    def failing() -> None:
        attempts.append(threading.get_ident())
        raise ValueError("not a database error")

    with pytest.raises(ValueError, match="not a database error"):
        await ledger.call(failing)
    assert len(attempts) == 2


async def test_an_in_memory_ledger_runs_every_transaction_in_a_thread() -> None:
    ledger = Ledger("sqlite://")
    try:
        seen: list[int] = []
        await ledger.call(lambda: seen.append(threading.get_ident()))
        assert seen
        assert seen[0] != threading.get_ident()
    finally:
        ledger.dispose()


def test_only_a_sqlite_file_gets_an_inline_engine(database: Path) -> None:
    assert make_inline_engine("postgresql://dealbridge@127.0.0.1:5432/ledger") is None
    assert make_inline_engine("sqlite://") is None
    assert make_inline_engine("sqlite:///:memory:") is None
    engine = make_inline_engine(f"sqlite:///{database}")
    assert engine is not None
    try:
        with engine.connect() as connection:
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            autocheckpoint = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert (timeout, autocheckpoint, journal) == (0, 0, "wal")
    finally:
        engine.dispose()


def checkpoint_every(ledger: Ledger, database: Path, transactions: int) -> None:
    """The ledger's inline engine, checkpointing after every ``transactions`` of them."""
    assert ledger._inline is not None
    ledger._inline = InlineEngine(ledger._inline.engine, database, checkpoint_every=transactions)


async def test_the_log_is_checkpointed_in_a_thread_every_n_inline_transactions(
    ledger: Ledger, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint_every(ledger, database, 4)
    checkpoint_threads: list[int] = []
    real_checkpoint = inline.checkpoint_file

    def watched(path: Path) -> tuple[int, int, int]:
        checkpoint_threads.append(threading.get_ident())
        return real_checkpoint(path)

    monkeypatch.setattr(inline, "checkpoint_file", watched)
    threads: list[int] = []
    for number in range(3):
        await ledger.call(opened_on, ledger, threads, f"wf-{number}")
    # In the log only: nothing was checkpointed on the loop.
    assert rows_in_database_file(database, "runs") == 0
    assert checkpoint_threads == []

    await ledger.call(opened_on, ledger, threads, "wf-3")
    await ledger._inline.checkpoints.clear()
    assert rows_in_database_file(database, "runs") == 4
    assert len(checkpoint_threads) == 1
    assert checkpoint_threads[0] != threading.get_ident()


def test_a_held_lock_is_told_apart_from_other_database_errors(database: Path) -> None:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as held:
            other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as missing:
            other.execute("SELECT * FROM no_such_table")
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert write_lock_busy(held.value)
    assert not write_lock_busy(missing.value)
    assert write_lock_busy(sqlite3.OperationalError("database is locked"))  # no error code
    assert not write_lock_busy(ValueError("database is locked"))


async def test_the_log_stays_small_while_the_loop_writes_without_pause(
    ledger: Ledger, database: Path
) -> None:
    """Regression: writes beside a threaded checkpoint kept it from ever emptying the log.

    SQLite starts the log over only after a checkpoint copied all of it; the loop wrote on
    while each one ran, and in a burst the ledger's log grew by hundreds of MB (~5 MB with
    SQLite's own checkpoints). Writers now wait for the checkpoint in progress.
    """
    checkpoint_every(ledger, database, 5)
    graph = {"opportunity": {"Id": "006A", "Description": "x" * 20_000}}
    for number in range(300):
        run_id = await ledger.call(ledger.start_run, f"wf-{number}", "006A", TRIGGER)
        await ledger.call(ledger.mark_running, run_id, graph)
    await ledger._inline.checkpoints.clear()
    log = database.with_name(database.name + "-wal")
    assert log.stat().st_size < 2_000_000  # ~60 inline transactions' pages between resets
