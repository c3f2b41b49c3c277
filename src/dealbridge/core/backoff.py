"""Exponential backoff with full jitter, shared by every connector's retry loop."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, *, base: float, cap: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    Full jitter (a uniform draw below the exponential ceiling) spreads a burst of clients that
    failed together, which is exactly the NetSuite concurrency-limit case. A server's own
    ``Retry-After`` is honoured as a floor.
    """
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay
