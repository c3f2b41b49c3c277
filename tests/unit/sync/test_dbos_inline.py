"""DBOS's checkpoint bookkeeping on the loop's thread (SQLite), and the checkpoints it leaves.

Issue 8's CPU per deal: DBOS handed each of a step's two bookkeeping transactions to a worker
thread, and the hand-off cost more than the work. What must hold when they run on the loop
instead: the same context semantics as a worker (a copy), no other DBOS version patched
blindly, and the log still checkpointed, in a thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import dbos._outcome as dbos_outcome
import pytest

from dealbridge.db.inline import PeriodicCheckpoint, checkpoint_file
from dealbridge.sync import dbos_inline, system_db
from tests.support.sqlite_files import rows_in_database_file

pytestmark = pytest.mark.anyio

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="caller")


@pytest.fixture
def restored() -> Iterator[None]:
    yield
    dbos_inline.uninstall()
    assert dbos_outcome.asyncio is asyncio


def test_the_pinned_dbos_is_the_installed_one() -> None:
    """Upgrading DBOS fails here: read ``dbos._outcome`` again before moving ``PINNED_DBOS``."""
    from importlib import metadata

    assert metadata.version("dbos") == dbos_inline.PINNED_DBOS


async def test_hooks_run_on_the_callers_thread_in_a_copy_of_its_context(
    tmp_path: Path, restored: None
) -> None:
    assert dbos_inline.install(tmp_path / "dbos.sqlite3")
    assert dbos_inline.installed() is not None
    assert not dbos_inline.install(tmp_path / "dbos.sqlite3")  # once

    def hook(value: int) -> tuple[int, str, int]:
        seen = MARK.get()
        MARK.set("hook")  # stays in the hook's copy, as it would in a worker
        return threading.get_ident(), seen, value * 2

    MARK.set("workflow")
    thread, seen, doubled = await dbos_outcome.asyncio.to_thread(hook, 21)
    assert (thread, seen, doubled) == (threading.get_ident(), "workflow", 42)
    assert MARK.get() == "workflow"
    assert dbos_outcome.asyncio.sleep is asyncio.sleep  # everything else is asyncio's own

    dbos_inline.uninstall()
    assert dbos_outcome.asyncio is asyncio
    assert dbos_inline.installed() is None


def test_another_dbos_version_keeps_its_hooks_in_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restored: None
) -> None:
    monkeypatch.setattr(dbos_inline.metadata, "version", lambda _name: "9.0.0")
    assert not dbos_inline.install(tmp_path / "dbos.sqlite3")
    assert dbos_outcome.asyncio is asyncio


async def test_every_n_ticks_one_checkpoint_runs_in_a_worker_thread() -> None:
    threads: list[int] = []
    release = threading.Event()

    def checkpoint() -> None:
        threads.append(threading.get_ident())
        release.wait(5)

    checkpoints = PeriodicCheckpoint(checkpoint, every=3)
    for _ in range(2):
        checkpoints.tick()
    await asyncio.sleep(0.05)
    assert threads == []
    checkpoints.tick()
    await asyncio.sleep(0.05)
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()
    for _ in range(6):  # while one runs, no second one starts
        checkpoints.tick()
    await asyncio.sleep(0.05)
    assert len(threads) == 1
    release.set()
    await checkpoints.clear()
    checkpoints.tick()  # the next tick after it ended starts the next one
    await checkpoints.clear()
    assert len(threads) == 2


def test_dbos_connections_on_the_loop_leave_checkpoints_to_a_thread(tmp_path: Path) -> None:
    path = tmp_path / "dbos.sqlite3"
    assert system_db.prepare_sqlite(f"sqlite:///{path}") == path
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE t (n INTEGER)")
    setup.close()  # the last connection: its close checkpoints the table into the file
    kwargs = system_db.sqlite_engine_kwargs(checkpoints_elsewhere=True)
    factory = kwargs["connect_args"]["factory"]
    writer = sqlite3.connect(path, factory=factory, isolation_level=None)
    try:
        assert writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert writer.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        writer.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(2000)])
        assert rows_in_database_file(path, "t") == 0
        assert path.with_name(path.name + "-wal").stat().st_size > 0
        assert checkpoint_file(path)[0] == 0  # not short of the whole log
        assert rows_in_database_file(path, "t") == 2000
        assert path.with_name(path.name + "-wal").stat().st_size == 0  # its disk given back
    finally:
        writer.close()
    plain = system_db.sqlite_engine_kwargs()["connect_args"]["factory"]
    connection = sqlite3.connect(path, factory=plain)
    try:
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    finally:
        connection.close()


def test_an_in_memory_system_database_has_no_file_to_checkpoint() -> None:
    assert system_db.prepare_sqlite("sqlite:///:memory:") is None


async def test_a_hook_waits_for_the_checkpoint_in_progress(tmp_path: Path, restored: None) -> None:
    """A write beside a checkpoint keeps it from emptying the log (regression, see db.inline)."""
    assert dbos_inline.install(tmp_path / "dbos.sqlite3")
    hooks = dbos_inline.installed()
    assert hooks is not None
    release = threading.Event()
    hooks.checkpoints = PeriodicCheckpoint(lambda: release.wait(5), every=1)
    hooks.checkpoints.tick()  # a checkpoint starts, and holds until released
    ran: list[str] = []
    hook = asyncio.create_task(dbos_outcome.asyncio.to_thread(lambda: ran.append("hook")))
    await asyncio.sleep(0.1)
    assert ran == []
    release.set()
    await hook
    assert ran == ["hook"]
    await hooks.checkpoints.clear()


async def test_a_writer_on_another_loop_waits_for_the_same_checkpoint() -> None:
    """Hooks run on whichever loop runs a workflow; the checkpoint is a thread's, not a loop's."""
    release = threading.Event()
    checkpoints = PeriodicCheckpoint(lambda: release.wait(5), every=1)
    checkpoints.tick()
    waited: list[str] = []

    def other_loop() -> None:
        asyncio.run(checkpoints.clear())
        waited.append("cleared")

    other = threading.Thread(target=other_loop)
    other.start()
    await asyncio.sleep(0.1)
    assert waited == []
    release.set()
    await asyncio.to_thread(other.join, 5)
    assert waited == ["cleared"]
    await checkpoints.clear()
