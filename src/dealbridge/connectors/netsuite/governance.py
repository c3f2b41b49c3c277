"""The account-wide cap on requests in flight to NetSuite, adapted to 429s (AIMD).

Why: NetSuite has one concurrency pool per account, shared by every integration and every worker
(contracts/netsuite.md §6); going over it costs a 429 ``CONCURRENCY_LIMIT_EXCEEDED`` or, worse, a
slow "Invalid login attempt" (§5). So the process keeps at most ``cap`` requests in flight, starting
at the configured (or governance-reported) limit, halving on overload and creeping back up on
success.

Why a ``threading.Lock`` and ``concurrent.futures.Future`` waiters instead of an
``asyncio.Semaphore``: the limiter is shared by every coroutine of every event loop in every thread
of the process; an asyncio primitive is bound to one loop. A waiting coroutine awaits its future
through ``asyncio.wrap_future``, which wakes it on its own loop whichever thread grants the slot.

Why epochs rather than a time window: a burst of 429s caused by one overload comes from requests
that were all sent under the old cap. Each slot remembers the epoch it was granted in, and only a
429 from the current epoch lowers the cap (and starts a new epoch) — no clock, no sleeping in tests.

Why a *share*: with several worker processes on one account, each process's limiter holds only its
part of the account's pool (``share(processes, rank)``, parts from ``portion``), so the parts add
up to the account's limit instead of each process assuming the whole of it. The limit given to
the constructor or to ``reset`` (e.g. read from ``governanceLimits``) is always the *account's*;
the ceiling is this process's part of it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager

from dealbridge.errors import ConfigError

DECREASE_FACTOR = 0.5


def portion(limit: int, processes: int, rank: int) -> int:
    """Process ``rank``'s part of an account ``limit`` shared by ``processes`` processes.

    The first ``limit % processes`` ranks get one more than the rest, so the parts sum to exactly
    ``limit`` while there are at most ``limit`` processes; beyond that every part is 1 (a process
    cannot send with no slot at all) and the sum exceeds the limit.

    Raises:
        ConfigError: ``processes`` < 1 or ``rank`` outside ``0 … processes - 1``.
    """
    if processes < 1 or not 0 <= rank < processes:
        raise ConfigError(f"rank {rank} of {processes} processes is not a valid share")
    base, extra = divmod(limit, processes)
    return max(1, base + (1 if rank < extra else 0))


class Slot:
    """One granted place in flight; report how the request went through it."""

    def __init__(self, limiter: AdaptiveConcurrencyLimiter, epoch: int) -> None:
        self._limiter = limiter
        self.epoch = epoch

    def rate_limited(self) -> None:
        """The request was refused for load (429 / ``CONCURRENCY_LIMIT_EXCEEDED``)."""
        self._limiter._on_rate_limited(self.epoch)

    def succeeded(self) -> None:
        """The request got a 2xx answer."""
        self._limiter._on_success()


class AdaptiveConcurrencyLimiter:
    """A process-wide, thread-safe, loop-agnostic cap on NetSuite requests in flight.

    Args:
        limit: The ceiling: the configured or governance-reported concurrency limit.
        decrease_factor: The cap is multiplied by this on overload (floor 1).
    """

    def __init__(self, limit: int, *, decrease_factor: float = DECREASE_FACTOR) -> None:
        if limit < 1:
            raise ConfigError(f"a NetSuite concurrency limit is at least 1, not {limit}")
        self._lock = threading.Lock()
        self._account_limit = limit
        self._parts = (1, 0)  # (processes sharing the account, this one's rank)
        self._ceiling = limit
        self._cap = limit
        self._in_flight = 0
        self._factor = decrease_factor
        self._epoch = 0
        self._streak = 0
        self._waiters: deque[Future[int]] = deque()
        self.rate_limited_count = 0
        self.decrease_count = 0

    @property
    def cap(self) -> int:
        """How many requests may be in flight now."""
        return self._cap

    @property
    def ceiling(self) -> int:
        """The most the cap can recover to."""
        return self._ceiling

    @property
    def account_limit(self) -> int:
        """The account's whole limit, of which the ceiling is this process's share."""
        return self._account_limit

    @property
    def in_flight(self) -> int:
        """Slots granted and not yet released."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Callers queued for a slot."""
        return len(self._waiters)

    def reset(self, limit: int) -> None:
        """Replace the account's limit (e.g. with ``governanceLimits``, §6); cap = our share."""
        if limit < 1:
            raise ConfigError(f"a NetSuite concurrency limit is at least 1, not {limit}")
        with self._lock:
            self._account_limit = limit
            self._ceiling = self._cap = portion(limit, *self._parts)
            self._streak = 0
            self._wake_locked()

    def share(self, processes: int, rank: int) -> None:
        """Hold only process ``rank``'s part of the account's pool, one of ``processes``.

        Lowering the ceiling lowers the cap at once (requests already in flight finish); raising
        it lifts a cap that was at the old ceiling, while a cap backed off by 429s keeps climbing
        back one step at a time.

        Raises:
            ConfigError: Not a valid rank of ``processes``.
        """
        with self._lock:
            ceiling = portion(self._account_limit, processes, rank)
            self._parts = (processes, rank)
            if self._cap >= self._ceiling or ceiling < self._cap:
                self._cap = ceiling
            self._ceiling = ceiling
            self._wake_locked()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one place in flight for the duration of one HTTP attempt."""
        epoch = await self._acquire()
        try:
            yield Slot(self, epoch)
        finally:
            self._release()

    async def _acquire(self) -> int:
        """Take a slot now, or queue (FIFO) and wait for one."""
        with self._lock:
            if not self._waiters and self._in_flight < self._cap:
                self._in_flight += 1
                return self._epoch
            waiter: Future[int] = Future()
            self._waiters.append(waiter)
        try:
            return await asyncio.wrap_future(waiter)
        except BaseException:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: Future[int]) -> None:
        """A waiter was cancelled: dequeue it, or hand back the slot it was granted meanwhile."""
        with self._lock:
            if waiter.cancel():
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                return
            self._in_flight -= 1
            self._wake_locked()

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._wake_locked()

    def _wake_locked(self) -> None:
        """Grant slots to waiters in order while there is room (caller holds the lock)."""
        while self._waiters and self._in_flight < self._cap:
            waiter = self._waiters.popleft()
            if waiter.set_running_or_notify_cancel():
                self._in_flight += 1
                waiter.set_result(self._epoch)

    def _on_rate_limited(self, epoch: int) -> None:
        """Multiplicative decrease, once per epoch (see the module docstring)."""
        with self._lock:
            self.rate_limited_count += 1
            self._streak = 0
            if epoch != self._epoch:
                return
            self._epoch += 1
            self._cap = max(1, int(self._cap * self._factor))
            self.decrease_count += 1

    def _on_success(self) -> None:
        """Additive increase: +1 after ``cap`` consecutive successes, up to the ceiling."""
        with self._lock:
            self._streak += 1
            if self._streak >= self._cap and self._cap < self._ceiling:
                self._cap += 1
                self._streak = 0
                self._wake_locked()


_shared: dict[str, AdaptiveConcurrencyLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(account: str, limit: int) -> AdaptiveConcurrencyLimiter:
    """The one limiter of this process for an account (§6: the pool is per account).

    The first caller's ``limit`` wins; later clients of the same account share its state.
    """
    key = account.strip().upper()
    with _shared_lock:
        if key not in _shared:
            _shared[key] = AdaptiveConcurrencyLimiter(limit)
        return _shared[key]
