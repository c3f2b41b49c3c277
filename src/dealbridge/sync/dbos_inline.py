"""DBOS's checkpoint bookkeeping on the event loop's own thread, for a SQLite system database.

Why: around each async step DBOS checks for the step's recorded result, then records the new
one; around each async workflow it records the outcome. Each of these is a local SQLite
transaction of well under a millisecond, and DBOS hands each one to a worker thread
(``asyncio.to_thread`` in ``dbos._outcome``) so that a PostgreSQL round trip cannot stall the
loop. On a local file the hand-off costs more than the work: the worker wakes, the GIL changes
hands twice, and the answer comes back through the loop's self-pipe. Measured on the service
(``bench/overhead.py``, 600 deals at 0 latency), running them on the loop took a deal from
~27 to ~23 CPU ms and halved DBOS's own floor. It is the same trade ``db/inline.py`` makes
for the ledger.

What it risks, and why that is acceptable on SQLite:

* The loop waits while another connection holds DBOS's write lock. On SQLite one process runs
  the engine (``runtime._take_lock``); the other writers are its own queue thread claiming
  deals and the enqueues of its webhooks and of commands beside it, and their transactions
  last about a millisecond.
* A checkpoint of the log syncs the disk, and that must not happen on the loop. DBOS's
  connections do not checkpoint while this is installed
  (``system_db.LoopSystemDatabaseConnection``); every ``CHECKPOINT_EVERY`` hooks a
  checkpoint runs in a worker thread instead, and the hooks wait for it to end (the loop runs
  on), as SQLite's writer waits for its own.

How: ``dbos._outcome`` reaches ``asyncio`` through its module global. While this is installed,
that global is ``asyncio`` with its ``to_thread`` replaced: the function runs at once, in a copy
of the caller's context, as it would have in the worker. Nothing else in DBOS changes. DBOS is
pinned (``PINNED_DBOS``); any other version is left as it is, its hooks in threads, and a test
fails so that an upgrade looks again. PostgreSQL deployments never install it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import dbos._outcome as dbos_outcome
import structlog

from dealbridge.db.inline import PeriodicCheckpoint, checkpoint_file

PINNED_DBOS = "3.4.0"
# About 50 deals' hooks (eight each) between two checkpoints: a few MB of log at most.
CHECKPOINT_EVERY = 400
# The module global of ``dbos._outcome`` that this replaces.
_ASYNCIO_GLOBAL = "asyncio"

T = TypeVar("T")
_log = structlog.get_logger("dealbridge.runtime")


class _AsyncioWithInlineHooks:
    """``asyncio`` as ``dbos._outcome`` sees it while installed: ``to_thread`` runs at once."""

    def __init__(self, checkpoints: PeriodicCheckpoint) -> None:
        self.checkpoints = checkpoints

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def to_thread(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)`` on this thread, in a copy of the context (as in a worker).

        After the log's checkpoint in progress, if any: a write beside it keeps it from
        emptying the log (``db.inline.PeriodicCheckpoint``).
        """
        await self.checkpoints.clear()
        try:
            return contextvars.copy_context().run(func, *args, **kwargs)
        finally:
            self.checkpoints.tick()


def install(system_database: Path) -> bool:
    """Run DBOS's hooks on the loop for the SQLite file ``system_database``; whether it did.

    False when the installed DBOS is not the pinned one (its hooks then stay in threads, and
    its connections must keep checkpointing themselves) or when it is installed already.
    """
    version = metadata.version("dbos")
    if version != PINNED_DBOS:
        _log.info("dbos_hooks_in_threads", dbos=version, pinned=PINNED_DBOS)
        return False
    if getattr(dbos_outcome, _ASYNCIO_GLOBAL) is not asyncio:
        return False
    checkpoints = PeriodicCheckpoint(
        lambda: checkpoint_file(system_database), every=CHECKPOINT_EVERY
    )
    setattr(dbos_outcome, _ASYNCIO_GLOBAL, _AsyncioWithInlineHooks(checkpoints))
    return True


def installed() -> _AsyncioWithInlineHooks | None:
    """The replacement in place, if any."""
    current = getattr(dbos_outcome, _ASYNCIO_GLOBAL)
    return current if isinstance(current, _AsyncioWithInlineHooks) else None


def uninstall() -> None:
    """Give ``dbos._outcome`` its ``asyncio`` back (the runtime's shutdown)."""
    if installed() is not None:
        setattr(dbos_outcome, _ASYNCIO_GLOBAL, asyncio)
