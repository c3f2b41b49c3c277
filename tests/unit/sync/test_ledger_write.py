"""A ledger write outside any step is retried as a ledger step is: a locked database only."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from dealbridge.sync import runtime
from dealbridge.sync.runtime import LEDGER_STEP_ATTEMPTS, ledger_write


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "LEDGER_RETRY_SECONDS", 0.0)


def locked() -> OperationalError:
    return OperationalError("UPDATE runs", {}, Exception("database is locked"))


class FlakyWrite:
    """Fails ``failures`` times with ``error``, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_a_locked_database_is_waited_out() -> None:
    write = FlakyWrite(LEDGER_STEP_ATTEMPTS - 1, locked())
    assert asyncio.run(ledger_write(write)) == "done"
    assert write.calls == LEDGER_STEP_ATTEMPTS


def test_the_last_attempt_raises_what_it_met() -> None:
    write = FlakyWrite(LEDGER_STEP_ATTEMPTS, locked())
    with pytest.raises(OperationalError):
        asyncio.run(ledger_write(write))
    assert write.calls == LEDGER_STEP_ATTEMPTS


def test_anything_else_is_not_retried() -> None:
    write = FlakyWrite(1, ValueError("run 42: status 'running' is not a finished status"))
    with pytest.raises(ValueError, match="run 42"):
        asyncio.run(ledger_write(write))
    assert write.calls == 1
