"""The adaptive in-flight cap: queueing, AIMD, cancellation, several loops in several threads."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

import pytest

from dealbridge.connectors.netsuite.governance import (
    AdaptiveConcurrencyLimiter,
    Slot,
    shared_limiter,
)
from dealbridge.errors import ConfigError

pytestmark = pytest.mark.anyio


async def settle() -> None:
    """Let every ready callback and task run (no time passes)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def hold(
    limiter: AdaptiveConcurrencyLimiter, release: asyncio.Event, got: list[Slot]
) -> None:
    async with limiter.slot() as slot:
        got.append(slot)
        await release.wait()


@contextlib.asynccontextmanager
async def holders(limiter: AdaptiveConcurrencyLimiter, count: int) -> AsyncIterator[list[Slot]]:
    """``count`` tasks that each hold a slot (or wait for one) until the block ends."""
    release = asyncio.Event()
    got: list[Slot] = []
    tasks = [asyncio.create_task(hold(limiter, release, got)) for _ in range(count)]
    await settle()
    try:
        yield got
    finally:
        release.set()
        await asyncio.gather(*tasks)


async def test_cap_bounds_in_flight_and_queues_the_rest() -> None:
    limiter = AdaptiveConcurrencyLimiter(3)
    async with holders(limiter, 5) as got:
        assert limiter.in_flight == 3
        assert limiter.waiting == 2
        assert len(got) == 3
    assert limiter.in_flight == 0
    assert limiter.waiting == 0


async def test_waiters_are_served_in_order() -> None:
    limiter = AdaptiveConcurrencyLimiter(1)
    order: list[int] = []
    gate = asyncio.Event()

    async def worker(n: int) -> None:
        async with limiter.slot():
            order.append(n)
            await gate.wait()

    tasks = [asyncio.create_task(worker(n)) for n in range(4)]
    await settle()
    gate.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]


async def test_burst_of_429s_from_one_overload_lowers_cap_once() -> None:
    limiter = AdaptiveConcurrencyLimiter(8)
    async with holders(limiter, 8) as got:
        for slot in got:
            slot.rate_limited()
    assert limiter.cap == 4
    assert limiter.decrease_count == 1
    assert limiter.rate_limited_count == 8


async def test_429_in_a_new_epoch_lowers_again_down_to_one() -> None:
    limiter = AdaptiveConcurrencyLimiter(4)
    for expected in (2, 1, 1):
        async with limiter.slot() as slot:
            slot.rate_limited()
        assert limiter.cap == expected
    assert limiter.decrease_count == 3


async def test_recovers_by_one_after_cap_successes_up_to_ceiling() -> None:
    limiter = AdaptiveConcurrencyLimiter(4)
    async with limiter.slot() as slot:
        slot.rate_limited()
    assert limiter.cap == 2
    caps = []
    for _ in range(2 + 3 + 4 + 4):
        async with limiter.slot() as slot:
            slot.succeeded()
        caps.append(limiter.cap)
    assert caps == [2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    assert limiter.ceiling == 4


async def succeed(limiter: AdaptiveConcurrencyLimiter, times: int) -> None:
    for _ in range(times):
        async with limiter.slot() as slot:
            slot.succeeded()


async def test_a_429_resets_the_success_streak() -> None:
    limiter = AdaptiveConcurrencyLimiter(8)
    async with holders(limiter, 2) as got:
        got[0].rate_limited()  # cap 8 -> 4, new epoch
        await succeed(limiter, 3)  # streak 3 of 4
        got[1].rate_limited()  # old epoch: no decrease, but the streak restarts
        assert (limiter.cap, limiter.decrease_count, limiter.rate_limited_count) == (4, 1, 2)
    await succeed(limiter, 3)
    assert limiter.cap == 4
    await succeed(limiter, 1)
    assert limiter.cap == 5


async def test_lowered_cap_holds_new_requests_until_in_flight_drains() -> None:
    limiter = AdaptiveConcurrencyLimiter(4)
    late_release = asyncio.Event()
    late: list[Slot] = []
    async with holders(limiter, 4) as got:
        got[0].rate_limited()
        assert limiter.cap == 2
        waiter = asyncio.create_task(hold(limiter, late_release, late))
        await settle()
        assert late == []  # 4 in flight, cap 2: must wait
        assert limiter.waiting == 1
    await settle()
    assert len(late) == 1
    late_release.set()
    await waiter
    assert limiter.in_flight == 0


async def test_cancelled_waiter_leaves_the_queue() -> None:
    limiter = AdaptiveConcurrencyLimiter(1)
    async with holders(limiter, 1):
        waiter = asyncio.create_task(limiter.slot().__aenter__())
        await settle()
        assert limiter.waiting == 1
        waiter.cancel()
        await settle()
        assert limiter.waiting == 0
    assert limiter.in_flight == 0


async def test_slot_granted_to_a_cancelled_waiter_is_returned() -> None:
    limiter = AdaptiveConcurrencyLimiter(1)
    release = asyncio.Event()
    got: list[Slot] = []
    first = asyncio.create_task(hold(limiter, release, got))
    await settle()
    second = asyncio.create_task(hold(limiter, asyncio.Event(), got))
    await settle()
    release.set()
    await first  # its release grants the slot to `second`…
    second.cancel()  # …which is cancelled before it runs
    with contextlib.suppress(asyncio.CancelledError):
        await second
    assert limiter.in_flight == 0
    assert limiter.waiting == 0


async def test_reset_replaces_ceiling_and_cap() -> None:
    limiter = AdaptiveConcurrencyLimiter(2)
    async with holders(limiter, 4):
        assert limiter.waiting == 2
        limiter.reset(4)
        await settle()
        assert limiter.in_flight == 4
    assert (limiter.cap, limiter.ceiling) == (4, 4)


def test_limit_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        AdaptiveConcurrencyLimiter(0)


def test_shared_limiter_is_one_per_account() -> None:
    first = shared_limiter("7654321_sb2", 5)
    assert shared_limiter("7654321_SB2", 9) is first
    assert shared_limiter("7654322", 5) is not first


def test_cap_holds_across_threads_and_event_loops() -> None:
    limiter = AdaptiveConcurrencyLimiter(3)
    lock = threading.Lock()
    peak = [0]
    done = [0]

    async def one() -> None:
        async with limiter.slot():
            with lock:
                peak[0] = max(peak[0], limiter.in_flight)
            for _ in range(5):
                await asyncio.sleep(0)
        with lock:
            done[0] += 1

    async def many() -> None:
        await asyncio.gather(*(one() for _ in range(25)))

    threads = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert done[0] == 100
    assert 1 <= peak[0] <= 3
    assert limiter.in_flight == 0
