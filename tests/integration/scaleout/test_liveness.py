"""Liveness locks on a real PostgreSQL: one holder per executor id, freed with the connection."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from dealbridge.errors import ConfigError
from dealbridge.sync.liveness import (
    REAPER_APP,
    AdvisoryLocks,
    ExecutorLock,
    connect,
    libpq_url,
)

pytestmark = pytest.mark.postgres


def test_one_holder_per_executor_id(postgres_url: str) -> None:
    first, other = ExecutorLock(postgres_url, "w1"), ExecutorLock(postgres_url, "w2")
    first.acquire()
    other.acquire()
    try:
        started = time.monotonic()
        with pytest.raises(ConfigError, match="already in use by pid"):
            ExecutorLock(postgres_url, "w1").acquire()
        assert time.monotonic() - started < 5  # a live holder is refused at once, not waited for
        with connect(postgres_url, REAPER_APP, "test") as connection:
            locks = AdvisoryLocks(connection)
            assert {locks.key_of("w1"), locks.key_of("w2")} <= set(locks.live_keys())
            assert not locks.try_lock("w1")  # what a reaper sees of a live executor
    finally:
        first.release()
        other.release()
    with connect(postgres_url, REAPER_APP, "test") as connection:
        assert AdvisoryLocks(connection).live_keys() == []


def test_a_released_lock_is_free_the_moment_release_returns(postgres_url: str) -> None:
    # Regression: release used to only close the connection; the server drops a closing
    # session's locks a moment later, so a reaper could still see a cleanly stopped process alive.
    with connect(postgres_url, REAPER_APP, "test") as connection:
        locks = AdvisoryLocks(connection)
        for _ in range(100):  # without the fix ~4 % of releases were still seen alive
            lock = ExecutorLock(postgres_url, "w1")
            lock.acquire()
            lock.release()
            assert locks.key_of("w1") not in locks.live_keys()
            assert locks.try_lock("w1")  # a reaper can take it at once
            locks.unlock("w1")


def test_a_restart_waits_for_a_reaper_holding_its_lock(postgres_url: str) -> None:
    with connect(postgres_url, REAPER_APP, "other") as connection:
        reaper = AdvisoryLocks(connection)
        assert reaper.try_lock("w1")  # the reaper found w1 dead and is recovering its deals
        threading.Timer(0.5, reaper.unlock, args=("w1",)).start()
        restarted = ExecutorLock(postgres_url, "w1")
        restarted.acquire()  # waits for the recovery instead of refusing
        try:
            assert restarted.held()
        finally:
            restarted.release()


def test_a_lost_connection_is_noticed_and_the_lock_taken_again(postgres_url: str) -> None:
    lock = ExecutorLock(postgres_url, "w1")
    lock.acquire()
    try:
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'dealbridge-executor w1'"
            )
        assert not lock.held()
        assert lock.retake()
        assert lock.held()
    finally:
        lock.release()
