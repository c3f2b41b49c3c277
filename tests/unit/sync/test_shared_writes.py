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
    assert not borrowed.done()  # not before the first write is recorded
    shared.finished(PLAN, "h1", "501")
    assert await borrowed == "501"
    later = shared.claim(PLAN, "h1")  # a deal arriving after the write was recorded
    assert later is not None
    assert await shared_id(later, _never) == "501"


async def test_a_different_body_is_sent_as_usual() -> None:
    shared = SharedWrites()
    assert shared.claim(PLAN, "h1") is None
    assert shared.claim(PLAN, "h2") is None  # its own write follows
    shared.finished(PLAN, "h1", "501")  # the older write's news no longer applies
    waiting = shared.claim(PLAN, "h2")
    assert waiting is not None
    assert not waiting.done()


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


async def test_only_finished_writes_are_forgotten_beyond_capacity() -> None:
    shared = SharedWrites(capacity=2)
    keys = [RecordKey("priceBook", f"SFPB-{n}") for n in range(3)]
    for key in keys:
        assert shared.claim(key, "h") is None
    assert shared.claim(keys[0], "h") is not None  # in flight: kept although over capacity
    for key in keys:
        shared.finished(key, "h", "1")
    assert shared.claim(RecordKey("priceBook", "SFPB-9"), "h") is None
    assert shared.claim(keys[0], "h") is not None  # used last (waited for): still known
    assert shared.claim(keys[1], "h") is None  # the least recently used were forgotten


async def test_each_event_loop_has_its_own_writes() -> None:
    assert writes_of_this_loop() is writes_of_this_loop()
    other = await asyncio.to_thread(lambda: asyncio.run(_writes_elsewhere()))
    assert other is not writes_of_this_loop()


async def _writes_elsewhere() -> SharedWrites:
    return writes_of_this_loop()
