"""How many deals wait on the ``deals`` queue, asked of DBOS (not of the ledger).

Why DBOS: a deal is on the queue from its trigger until its workflow ends, and only DBOS knows
which are waiting (``ENQUEUED``) and which are running (``PENDING``). A process with a runtime
asks its launched DBOS; a web-only node asks the workers' system database through a client.
Counting lists rows (DBOS has no count), without inputs or outputs, up to ``COUNT_LIMIT``.

Call from synchronous code (a threadpool route): DBOS warns when its blocking calls are made on
an event loop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import structlog
from dbos import DBOS

from dealbridge.sync.runtime import QUEUE_NAME
from dealbridge.web.api.operations import workers_client
from dealbridge.web.context import WebContext

COUNT_LIMIT = 10_000
WAITING, RUNNING = "ENQUEUED", "PENDING"
_log = structlog.get_logger("dealbridge.web.api")


@dataclass(frozen=True)
class QueueDepth:
    """Deals on the ``deals`` queue.

    Attributes:
        enqueued: Waiting for a worker.
        pending: Being worked on.
        capped: True when the count stopped at ``COUNT_LIMIT`` (there are at least that many).
    """

    enqueued: int
    pending: int
    capped: bool = False

    @property
    def total(self) -> int:
        """Waiting and running."""
        return self.enqueued + self.pending


def queue_depth(context: WebContext) -> QueueDepth | None:
    """The queue's depth now; ``None`` when DBOS cannot be asked (logged by class only)."""
    options: dict[str, Any] = {
        "queue_name": QUEUE_NAME,
        "status": [WAITING, RUNNING],
        "limit": COUNT_LIMIT,
        "load_input": False,
        "load_output": False,
    }
    try:
        if context.runtime is not None:
            statuses = DBOS.list_queued_workflows(**options)
        else:
            with workers_client(context.settings) as client:
                statuses = client.list_queued_workflows(**options)
    except Exception as exc:
        _log.warning("queue_depth_unavailable", error=type(exc).__name__)
        return None
    counts: Counter[str] = Counter(str(status.status) for status in statuses)
    return QueueDepth(counts[WAITING], counts[RUNNING], capped=len(statuses) >= COUNT_LIMIT)
