"""Switching a new SQLite ledger to WAL waits out a concurrent writer instead of failing."""

from __future__ import annotations

import sqlite3

import pytest

from dealbridge.db import session


class LockedCursor:
    """Refuses the WAL switch ``refusals`` times with SQLite's message, then accepts it."""

    def __init__(self, refusals: int, message: str = "database is locked") -> None:
        self.refusals = refusals
        self.message = message
        self.calls = 0

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.calls <= self.refusals:
            raise sqlite3.OperationalError(self.message)


def test_a_locked_switch_is_tried_again_until_it_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: concurrent upgrades of a new ledger failed with "database is locked"."""
    monkeypatch.setattr(session, "WAL_SWITCH_RETRY_SECONDS", 0)
    cursor = LockedCursor(refusals=3)
    session.switch_to_wal(cursor)
    assert cursor.calls == 4


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "WAL_SWITCH_RETRY_SECONDS", 0)
    cursor = LockedCursor(refusals=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        session.switch_to_wal(cursor)
    assert cursor.calls == 1


def test_the_wait_is_bounded_by_the_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "WAL_SWITCH_RETRY_SECONDS", 0)
    monkeypatch.setattr(session, "SQLITE_BUSY_TIMEOUT_MS", 0)
    cursor = LockedCursor(refusals=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        session.switch_to_wal(cursor)
