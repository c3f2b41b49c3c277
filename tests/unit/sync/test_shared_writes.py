"""One write of a record that several concurrent deals would send with the same body."""

from __future__ import annotations

import asyncio

import pytest

from dealbridge.core.records import RecordKey
from dealbridge.sync.shared_writes import SharedWrites, shared_id, writes_of_this_loop

pytestmark = pytest.mark.anyio
PLAN = RecordKey("subscriptionPlan", "SFPLAN-1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _never() -> str:
    raise AssertionError("a shared write must not be sent again")


async def test_a_deal_sending_the_same_body_waits_for_the_first_and_takes_its_id() -> None:
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None  # the first deal sends
    waiting = shared.claim(PLAN, "h1")
    assert waiting is not None
    borrowed = asyncio.ensure_future(shared_id(waiting, _never))
    await asyncio.sleep(0)
    assert not borrowed.done()  # not before NetSuite has answered the first
    shared.sent(PLAN, "h1", "501")
    assert await borrowed == "501"
    assert shared.in_flight() == 1  # until the ledger holds it
    shared.recorded(PLAN, "h1")
    assert shared.in_flight() == 0


async def test_a_deal_claiming_a_sent_write_before_it_is_recorded_takes_its_id() -> None:
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None
    shared.sent(PLAN, "h1", "501")
    late = shared.claim(PLAN, "h1")
    assert late is not None
    assert await shared_id(late, _never) == "501"


async def test_recording_a_write_never_answered_lets_its_waiters_send_their_own() -> None:
    """A writer cancelled before NetSuite answered must not leave other deals waiting."""
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None
    waiting = shared.claim(PLAN, "h1")
    assert waiting is not None

    async def own_write() -> str:
        return "777"

    borrowed = asyncio.ensure_future(shared_id(waiting, own_write))
    shared.recorded(PLAN, "h1")
    assert await borrowed == "777"


async def test_a_recorded_write_is_forgotten_so_the_ledger_decides_again() -> None:
    """Regression: remembering finished writes made reconciliation's repair a no-op."""
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None
    shared.sent(PLAN, "h1", "501")
    shared.recorded(PLAN, "h1")
    assert shared.claim(PLAN, "h1") is None  # written again if the ledger no longer vouches


async def test_a_different_body_is_sent_as_usual() -> None:
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None
    assert shared.claim(PLAN, "h2") is None  # its own write follows
    first_waiter = shared.claim(PLAN, "h1")
    second_waiter = shared.claim(PLAN, "h2")
    assert first_waiter is not None
    assert second_waiter is not None
    shared.sent(PLAN, "h1", "501")  # each version's waiters hear of their own write
    assert first_waiter.result() == "501"
    assert not second_waiter.done()
    shared.recorded(PLAN, "h1")
    assert shared.in_flight() == 1


async def test_when_the_first_write_fails_the_waiting_deal_sends_its_own() -> None:
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None
    waiting = shared.claim(PLAN, "h1")
    assert waiting is not None
    sent: list[str] = []

    async def own_write() -> str:
        sent.append("own")
        return "777"

    borrowed = asyncio.ensure_future(shared_id(waiting, own_write))
    shared.failed(PLAN, "h1")
    assert await borrowed == "777"
    assert sent == ["own"]
    assert shared.claim(PLAN, "h1") is None  # a failed write is not remembered


async def test_each_event_loop_has_its_own_writes() -> None:
    assert writes_of_this_loop() is writes_of_this_loop()
    other = await asyncio.to_thread(lambda: asyncio.run(_writes_elsewhere()))
    assert other is not writes_of_this_loop()


async def _writes_elsewhere() -> SharedWrites:
    return writes_of_this_loop()
