"""A small per-address failure counter: slows password guessing spread over many usernames.

The per-user lockout (``users.failed_logins``) stops guessing one account; it does not stop one
address trying one password against every username. This counter refuses further attempts from
an address after ``limit`` failures within ``window``. It lives in memory, per process: it is a
speed bump, bounded in size, not an authority (the per-user lockout in the ledger is that).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta

MAX_ADDRESSES = 10_000


class FailureCounter:
    """Failures per key (a client address) in a sliding window.

    Args:
        limit: Failures within ``window`` after which the key is blocked.
        window: How long a failure counts.
        max_keys: Most keys remembered; the least recently failing are forgotten first.
    """

    def __init__(self, limit: int, window: timedelta, max_keys: int = MAX_ADDRESSES) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, key: str, now: datetime) -> bool:
        """Whether ``key`` has ``limit`` failures younger than ``window``."""
        with self._lock:
            times = self._failures.get(key)
            return times is not None and len(times) >= self.limit and now - times[0] < self.window

    def record(self, key: str, now: datetime) -> None:
        """Count one failure for ``key``."""
        with self._lock:
            times = self._failures.pop(key, None) or deque(maxlen=self.limit)
            times.append(now)
            self._failures[key] = times
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
