"""Which run an API call belongs to, when many deals share one client.

The connectors report every HTTP attempt through one ``on_call`` hook per client, and one client
serves every deal in flight on its event loop. A ``ContextVar`` tells the hook whose call it is:
each step opens ``collecting_calls()``, asyncio copies the context into every task the step
starts (``asyncio.gather`` included), so calls of parallel deals never mix and calls made outside
any step (start-up lookups, the CLI) are only logged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dealbridge.core.calls import CallRecord, log_call
from dealbridge.db.timestamps import utc_now

_collector: ContextVar[list[CallRecord] | None] = ContextVar("dealbridge_calls", default=None)


def observe_call(record: CallRecord) -> None:
    """The ``on_call`` hook of the runtime's clients: log, and collect for the current step."""
    log_call(record)
    calls = _collector.get()
    if calls is not None:
        extra = {**record.extra, "at": utc_now().isoformat()}
        calls.append(dataclasses.replace(record, extra=extra))


@contextmanager
def collecting_calls() -> Iterator[list[CallRecord]]:
    """Collect the calls made in this block (and the tasks it starts) into the yielded list."""
    calls: list[CallRecord] = []
    token = _collector.set(calls)
    try:
        yield calls
    finally:
        _collector.reset(token)
