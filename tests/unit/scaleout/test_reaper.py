"""The reaper's decisions, with the database and DBOS replaced by fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dealbridge.sync.reaper import PendingWork, Reaper, stale_pending

NOW = datetime.now(UTC)


@dataclass
class FakeLocks:
    """Advisory locks: ``alive`` executors hold theirs; the reaper may take the others."""

    alive: set[str]
    keys: list[int] = field(default_factory=lambda: [1, 2])
    held: list[str] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)

    def try_lock(self, executor_id: str) -> bool:
        if executor_id in self.alive or executor_id in self.held:
            return False
        self.held.append(executor_id)
        self.taken.append(executor_id)
        return True

    def unlock(self, executor_id: str) -> None:
        self.held.remove(executor_id)

    def live_keys(self) -> list[int]:
        return self.keys


@dataclass
class FakeOwnLock:
    key: int = 1
    holds: bool = True
    retakes: bool = True

    def held(self) -> bool:
        return self.holds

    def retake(self) -> bool:
        self.holds = self.retakes
        return self.retakes


def _work(
    workflow_id: str, executor: str | None, version: str = "1", age: float = 1.0
) -> PendingWork:
    return PendingWork(
        workflow_id=workflow_id,
        name="sync_deal",
        executor_id=executor,
        app_version=version,
        queue_name="deals",
        partition="001A",
        pending_since=NOW - timedelta(seconds=age),
    )


def _reaper(
    locks: FakeLocks, pending: list[PendingWork], **kwargs: Any
) -> tuple[Reaper, list[str]]:
    recovered: list[str] = []

    def recover(executor_id: str) -> int:
        assert executor_id in locks.held, "recovery must run under the dead executor's lock"
        recovered.append(executor_id)
        return sum(1 for work in pending if work.executor_id == executor_id)

    reaper = Reaper(
        executor_id="me",
        app_version="1",
        locks=locks,
        own=kwargs.pop("own", FakeOwnLock()),
        keeper=None,
        interval=1.0,
        stale_after=kwargs.pop("stale_after", timedelta(minutes=30)),
        list_pending=lambda: pending,
        recover=kwargs.pop("recover", recover),
        **kwargs,
    )
    return reaper, recovered


def test_only_dead_foreign_executors_of_our_version_are_recovered() -> None:
    pending = [
        _work("a", "me"),
        _work("b", "alive"),
        _work("c", "dead"),
        _work("d", "dead"),
        _work("e", "old-dead", version="0"),
        _work("f", None),
    ]
    locks = FakeLocks(alive={"alive"})
    reaper, recovered = _reaper(locks, pending)

    done = reaper.run_once()

    assert recovered == ["dead"]
    assert done.recovered == {"dead": 2}
    assert done.processes == 2
    assert locks.held == []  # every lock taken was given back
    assert "old-dead" not in locks.taken  # another version: nothing this process could recover
    assert reaper.recovered_total == 2


def test_the_dead_executors_lock_is_released_when_recovery_fails() -> None:
    locks = FakeLocks(alive=set())

    def failing(executor_id: str) -> int:
        raise RuntimeError("database went away")

    reaper, _ = _reaper(locks, [_work("a", "dead")], recover=failing)
    with pytest.raises(RuntimeError):
        reaper.run_once()
    assert locks.held == []


def test_a_lost_lock_is_taken_again_before_anything_else() -> None:
    own = FakeOwnLock(holds=False, retakes=True)
    reaper, recovered = _reaper(FakeLocks(alive=set()), [_work("a", "dead")], own=own)
    reaper.run_once()
    assert own.holds
    assert recovered == ["dead"]


def test_a_lock_taken_over_by_another_process_stops_this_one() -> None:
    stopped: list[bool] = []
    own = FakeOwnLock(holds=False, retakes=False)
    reaper, recovered = _reaper(
        FakeLocks(alive=set()), [_work("a", "dead")], own=own, on_lost=lambda: stopped.append(True)
    )
    reaper.run_once()
    assert stopped == [True]
    assert recovered == []  # a process that may be a duplicate recovers nobody


def test_old_pending_work_is_reported_once() -> None:
    pending = [_work("old", "alive", age=3600), _work("young", "alive", age=5)]
    reaper, _ = _reaper(FakeLocks(alive={"alive"}), pending)
    first = reaper.run_once()
    second = reaper.run_once()
    assert [work.workflow_id for work in first.stale] == ["old"]
    assert [work.workflow_id for work in second.stale] == ["old"]
    assert reaper._reported == {"old"}


def test_stale_pending_lists_the_old_ones_oldest_first() -> None:
    def status(workflow_id: str, minutes: float, dequeued: bool = True) -> SimpleNamespace:
        at = int((NOW - timedelta(minutes=minutes)).timestamp() * 1000)
        return SimpleNamespace(
            workflow_id=workflow_id,
            name="sync_deal",
            executor_id="w1",
            app_version="1",
            queue_name="deals",
            queue_partition_key="001A",
            created_at=at - 60_000,
            dequeued_at=at if dequeued else None,
        )

    rows = [status("new", 1), status("older", 50), status("old", 40), status("direct", 45, False)]
    client = SimpleNamespace(list_workflows=lambda **_: rows)

    stale = stale_pending(timedelta(minutes=30), client=client, now=NOW)  # type: ignore[arg-type]

    assert [work.workflow_id for work in stale] == ["older", "direct", "old"]
    assert stale[0].partition == "001A"
    assert 49 * 60 < stale[0].age_seconds(NOW) < 51 * 60
