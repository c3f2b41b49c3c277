"""The compressible clock of the Outbound Message sender.

Salesforce retries an unacknowledged message for up to 24 hours (contracts §3.1); a demo or a
test cannot wait that long, so the sender reads time only through a ``Clock`` in *emulated*
seconds. ``ScaledClock`` runs ``time_scale`` emulated seconds per real second (3600: an hour a
second); tests inject a clock they advance by hand, so no test ever really sleeps.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Emulated time: ``now`` in seconds since the Unix epoch, ``sleep`` in emulated seconds."""

    def now(self) -> float:
        """The current emulated time (safe to call from any thread)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` of emulated time have passed."""
        ...


class ScaledClock:
    """Wall-clock time sped up by ``time_scale``, starting from the real time at creation."""

    def __init__(self, time_scale: float, *, start: float | None = None) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self._scale = time_scale
        self._real_start = time.monotonic()
        self._start = time.time() if start is None else start

    def now(self) -> float:
        """Emulated seconds since the epoch."""
        return self._start + (time.monotonic() - self._real_start) * self._scale

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of emulated time, i.e. ``seconds / time_scale`` real seconds."""
        await asyncio.sleep(max(0.0, seconds) / self._scale)


def iso_utc(moment: float) -> str:
    """An emulated instant as ISO 8601 UTC with milliseconds, as the delivery log shows it."""
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
