"""``Fleet``: this process's membership among the processes that share one PostgreSQL.

Why a class of its own: joining has an order that matters, and ``Runtime`` only has to call the
steps at the right moments of its own lifecycle:

1. ``enter`` — before migrations and ``DBOS.launch()``: take this executor's liveness lock
   (``liveness``), so no reaper recovers this executor's deals while DBOS recovers them here, and a
   second process with the same executor id is refused before it touches anything.
2. ``join`` — before ``DBOS.launch()``: count the live executors, take this process's share of the
   NetSuite budget (``budget``), and when others run, wait ``budget.settle_seconds`` so their
   reapers shrink their shares before this one sends anything; ``refresh`` counts again once
   DBOS has launched, before the ``deals`` queue is registered.
3. ``start`` — after the ``deals`` queue exists: the reaper thread (``reaper``).
4. ``stop`` — before the drain: end the reaper (it must not call DBOS while DBOS shuts down).
5. ``leave`` — after the drain: free the lock. Only now, because a freed lock tells every other
   process "recover my deals".

On SQLite there is one process (``runtime.sqlite_lock_path``): no lock, no reaper, the whole
budget.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import structlog
from dbos import Queue

from dealbridge.settings import Settings
from dealbridge.sync.budget import (
    Budget,
    BudgetKeeper,
    fleet_position,
    plan_budget,
    process_limiter,
    settle_seconds,
)
from dealbridge.sync.liveness import REAPER_APP, AdvisoryLocks, ExecutorLock, connect
from dealbridge.sync.reaper import Reaper

_log = structlog.get_logger("dealbridge.sync")


class Fleet:
    """One process's liveness lock, budget share and reaper.

    Args:
        settings: Database, NetSuite limit, reaper interval.
        executor_id: This process's executor id.
        app_version: The DBOS application version this process runs (what its reaper recovers).
        shared: True on PostgreSQL (several processes); False on SQLite (this one alone).
    """

    def __init__(
        self, settings: Settings, executor_id: str, app_version: str, *, shared: bool
    ) -> None:
        self.settings = settings
        self.executor_id = executor_id
        self.app_version = app_version
        self.shared = shared
        self.keeper: BudgetKeeper | None = None
        self.reaper: Reaper | None = None
        self._lock: ExecutorLock | None = None
        self._probe: AdvisoryLocks | None = None

    @property
    def budget(self) -> Budget:
        """The budget this process holds now (the whole one before ``join``)."""
        return self.keeper.budget if self.keeper is not None else plan_budget(self.settings)

    def enter(self) -> None:
        """Take this executor's liveness lock (PostgreSQL).

        Raises:
            ConfigError: Another live process holds this executor id.
        """
        if not self.shared:
            return
        self._lock = ExecutorLock(self.settings.resolved_database_url(), self.executor_id)
        self._lock.acquire()

    def join(self) -> Budget:
        """Take this process's share of the NetSuite budget; let the others shrink first."""
        self.keeper = BudgetKeeper(self.settings, process_limiter(self.settings.netsuite))
        if self._lock is None:
            return self.keeper.apply(1, 0)
        url = self.settings.resolved_database_url()
        self._probe = AdvisoryLocks(connect(url, REAPER_APP, self.executor_id))
        budget = self.refresh()
        if budget.processes > 1:
            time.sleep(settle_seconds(self.settings))
        return budget

    def refresh(self) -> Budget:
        """Count the live executors again and apply this process's share.

        ``Runtime`` calls it once more right after ``DBOS.launch()`` (which may take a while) and
        before the queue exists, so the first deals are taken under a current share.
        """
        if self.keeper is None or self._lock is None or self._probe is None:
            return self.budget
        processes, rank = fleet_position(self._lock.key, self._probe.live_keys())
        return self.keeper.apply(processes, rank)

    def start(self, queue: Queue) -> None:
        """Keep the queue's per-process concurrency current; start the reaper (PostgreSQL)."""
        if self.keeper is not None:
            self.keeper.queue = queue
        if self._lock is None or self._probe is None:
            return
        sync = self.settings.sync
        self.reaper = Reaper(
            executor_id=self.executor_id,
            app_version=self.app_version,
            locks=self._probe,
            own=self._lock,
            keeper=self.keeper,
            interval=sync.reaper_interval_seconds,
            stale_after=timedelta(minutes=sync.stale_pending_minutes),
            on_lost=_stop_this_process,
        )
        self.reaper.start()

    def stop(self) -> None:
        """End the reaper thread (before DBOS shuts down)."""
        if self.reaper is not None:
            self.reaper.stop()

    def leave(self) -> None:
        """Give the budget back and free the lock (after the drain); idempotent."""
        self.stop()
        self.reaper = None
        if self.keeper is not None:
            self.keeper.queue = None
            self.keeper.apply(1, 0)  # the process-wide limiter outlives this runtime
            self.keeper = None
        if self._probe is not None:
            self._probe.connection.close()
            self._probe = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _stop_this_process() -> None:
    """This executor's lock went to another process: stop as a SIGTERM would (drain, exit)."""
    _log.error("liveness_lock_taken_over", advice="stopping; a supervisor may restart this worker")
    os.kill(os.getpid(), signal.SIGTERM)
