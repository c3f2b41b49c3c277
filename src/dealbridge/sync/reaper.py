"""The reaper: every process recovers the deals of dead executors, and re-splits the budget.

Why: open-source DBOS never takes over a dead worker's ``PENDING`` workflows; they keep their
queue slots and freeze their accounts' partitions until a process with the same executor id comes
back (contracts/dbos.md §2b), which for a lost host may be never. Each pass, in every process on
PostgreSQL (every ``sync.reaper_interval_seconds``):

1. Check this process still holds its own liveness lock (``liveness.py``); after a lost database
   connection take it again, and if another process has it meanwhile, stop this one
   (``on_lost``) rather than run an executor's deals twice.
2. Count the live executors' locks and apply this process's share of the NetSuite budget
   (``budget.py``).
3. List ``PENDING`` workflows. For each other executor owning some of our application version,
   try its lock: held means alive, skip; free means dead: call
   ``DBOS._recover_pending_workflows([executor])`` while holding it, then release it.
4. Report ``PENDING`` work older than ``sync.stale_pending_minutes``, once per workflow; work of
   another application version gets the deploy procedure as advice (docs/operations.md).

Why ``DBOS._recover_pending_workflows`` although private: it is what DBOS's own startup recovery
and its former admin endpoint call; it re-enqueues (``PENDING`` → ``ENQUEUED``) each workflow on
its *original queue and partition*, so per-account ordering and the queue's limits still apply,
and its ``UPDATE … WHERE status = 'PENDING' AND executor_id IN (…)`` only touches rows the dead
executor still owns, so two reapers racing recover each workflow once. The public
``resume_workflow`` does not check the executor (a live one would run twice) and, without a
queue name, drops the partition. The risk: a private API may change in any release — the
``dbos`` dependency is pinned (``dbos==3.4.0`` in ``pyproject.toml``), and
``tests/integration/scaleout`` (SIGKILL of a worker) fails if it stops working. It recovers only
workflows of the caller's application version, which is why deploys keep one old worker.

Holding the dead executor's lock during recovery closes a race: a restart of that executor waits
for the lock (``liveness.ACQUIRE_WAIT_SECONDS``) instead of recovering the same rows at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from dbos import DBOS, DBOSClient

from dealbridge.sync.budget import BudgetKeeper, fleet_position

_log = structlog.get_logger("dealbridge.sync")
_JOIN_SECONDS = 10.0


@dataclass(frozen=True)
class PendingWork:
    """One ``PENDING`` workflow, as the reaper and the alerts see it."""

    workflow_id: str
    name: str
    executor_id: str | None
    app_version: str | None
    queue_name: str | None
    partition: str | None
    pending_since: datetime

    def age_seconds(self, now: datetime) -> float:
        """How long it has been ``PENDING`` (since dequeued, or since created if never queued)."""
        return (now - self.pending_since).total_seconds()


def _from_status(status: Any) -> PendingWork:
    since_ms = status.dequeued_at or status.created_at or 0
    return PendingWork(
        workflow_id=status.workflow_id,
        name=status.name,
        executor_id=status.executor_id,
        app_version=status.app_version,
        queue_name=status.queue_name,
        partition=status.queue_partition_key,
        pending_since=datetime.fromtimestamp(since_ms / 1000, UTC),
    )


def pending_work(client: DBOSClient | None = None) -> list[PendingWork]:
    """Every ``PENDING`` workflow, through ``client`` or this process's launched DBOS."""
    lister = client.list_workflows if client is not None else DBOS.list_workflows
    statuses = lister(status="PENDING", load_input=False, load_output=False)
    return [_from_status(status) for status in statuses]


def stale_pending(
    threshold: timedelta,
    *,
    client: DBOSClient | None = None,
    now: datetime | None = None,
) -> list[PendingWork]:
    """``PENDING`` workflows older than ``threshold`` — the alert hook, oldest first.

    A deal is ``PENDING`` for seconds normally and for up to ~17 minutes while its steps wait out
    an outage (``sync.step_*``); longer means its executor is gone and nobody could recover it
    (another application version, no live worker of its version, or the reaper failing).
    """
    moment = now or datetime.now(UTC)
    stale = [w for w in pending_work(client) if w.age_seconds(moment) > threshold.total_seconds()]
    return sorted(stale, key=lambda work: work.pending_since)


class Locks(Protocol):
    """What the reaper needs of ``liveness.AdvisoryLocks``."""

    def try_lock(self, executor_id: str) -> bool: ...  # noqa: D102
    def unlock(self, executor_id: str) -> None: ...  # noqa: D102
    def live_keys(self) -> list[int]: ...  # noqa: D102


class OwnLock(Protocol):
    """What the reaper needs of ``liveness.ExecutorLock``."""

    key: int

    def held(self) -> bool: ...  # noqa: D102
    def retake(self) -> bool: ...  # noqa: D102


def recover_with_dbos(executor_id: str) -> int:
    """Re-enqueue a dead executor's ``PENDING`` workflows of our version; how many (private API)."""
    return len(DBOS._recover_pending_workflows([executor_id]))


@dataclass
class ReaperPass:
    """What one pass did."""

    recovered: dict[str, int]
    processes: int
    stale: list[PendingWork]


class Reaper:
    """The reaper thread of one process (module docstring).

    Args:
        executor_id: This process's executor id (never recovered by itself).
        app_version: This process's DBOS application version (the only one it can recover).
        locks: Advisory locks on the reaper's own connection.
        own: This process's liveness lock.
        keeper: Applies the budget share; None leaves the budget alone.
        interval: Seconds between passes.
        stale_after: Age at which ``PENDING`` work is reported.
        list_pending: Lists ``PENDING`` workflows (tests replace it).
        recover: Recovers one dead executor's workflows, returns how many.
        on_lost: Called when this process lost its lock to another process.
    """

    def __init__(
        self,
        *,
        executor_id: str,
        app_version: str,
        locks: Locks,
        own: OwnLock,
        keeper: BudgetKeeper | None,
        interval: float,
        stale_after: timedelta,
        list_pending: Callable[[], list[PendingWork]] = pending_work,
        recover: Callable[[str], int] = recover_with_dbos,
        on_lost: Callable[[], None] = lambda: None,
    ) -> None:
        self.executor_id = executor_id
        self.app_version = app_version
        self._locks, self._own, self._keeper = locks, own, keeper
        self._interval, self._stale_after = interval, stale_after
        self._list_pending, self._recover, self._on_lost = list_pending, recover, on_lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: set[str] = set()
        self.recovered_total = 0
        self.passes = 0
        self.failed_passes = 0

    # -- one pass ------------------------------------------------------------------------------

    def run_once(self) -> ReaperPass:
        """One pass: own lock, budget, recovery, staleness (module docstring)."""
        if not self._own.held() and not self._own.retake():
            self._on_lost()
            return ReaperPass({}, 0, [])
        processes, rank = fleet_position(self._own.key, self._locks.live_keys())
        if self._keeper is not None:
            self._keeper.apply(processes, rank)
        pending = self._list_pending()
        recovered = {ex: n for ex in self._foreign(pending) if (n := self._reap(ex)) is not None}
        self.passes += 1
        return ReaperPass(recovered, processes, self._report_stale(pending))

    def _foreign(self, pending: Iterable[PendingWork]) -> list[str]:
        """Other executors owning ``PENDING`` work of our version; other versions are noted."""
        ours: set[str] = set()
        for work in pending:
            if work.executor_id in (None, "", self.executor_id):
                continue
            if work.app_version == self.app_version:
                ours.add(str(work.executor_id))
        return sorted(ours)

    def _reap(self, executor_id: str) -> int | None:
        """Recover ``executor_id``'s work if its lock is free; None when it is alive."""
        if not self._locks.try_lock(executor_id):
            return None
        started = time.monotonic()
        try:
            count = self._recover(executor_id)
        finally:
            self._locks.unlock(executor_id)
        self.recovered_total += count
        if count == 0:  # recovered meanwhile by another reaper, or rows of another application
            return count
        _log.warning(
            "dead_executor_recovered",
            executor_id=executor_id,
            workflows=count,
            recovered_total=self.recovered_total,
            ms=round((time.monotonic() - started) * 1000),
        )
        return count

    def _report_stale(self, pending: list[PendingWork]) -> list[PendingWork]:
        now = datetime.now(UTC)
        limit = self._stale_after.total_seconds()
        stale = [work for work in pending if work.age_seconds(now) > limit]
        for work in stale:
            if work.workflow_id in self._reported:
                continue
            self._reported.add(work.workflow_id)
            _log.warning(
                "stale_pending_workflow",
                workflow_id=work.workflow_id,
                executor_id=work.executor_id,
                app_version=work.app_version,
                minutes=round(work.age_seconds(now) / 60, 1),
                advice="a worker of this application version must run to finish it "
                "(docs/operations.md, Scale-out and deploys)"
                if work.app_version != self.app_version
                else "its executor looks alive but does not finish it",
            )
        self._reported &= {work.workflow_id for work in pending}
        return stale

    # -- the thread ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run passes in a daemon thread until ``stop``; the first one at once."""
        self._thread = threading.Thread(target=self._run, name="dealbridge-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread after its current pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_SECONDS)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as error:  # a pass must never end the thread: retry next time
                self.failed_passes += 1
                _log.warning("reaper_pass_failed", error=f"{type(error).__name__}: {error}")
            self._stop.wait(self._interval)
