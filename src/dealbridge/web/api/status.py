"""``GET /api/v1/health`` (viewer): is the service doing its job, in one answer.

Unlike ``/readyz`` (public, for orchestrators, says nothing), this is for people and monitors
holding a token: each connection's last known state, the queue's depth and the open errors by
class. It reads the ledger and asks DBOS; it calls neither Salesforce nor NetSuite
(``connections``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import Request
from pydantic import BaseModel, Field

from dealbridge.db import open_errors
from dealbridge.web.api.common import LedgerSession, api_router
from dealbridge.web.api.connections import last_known
from dealbridge.web.api.queue import queue_depth
from dealbridge.web.context import web_context
from dealbridge.web.health import runtime_ready

router = api_router("health")


class ConnectionOut(BaseModel):
    """One system, as its newest calls left it."""

    system: str
    state: Literal["ok", "failing", "unknown"] = Field(
        description="failing: the newest call got no answer, a 5xx, 401, 403 or 429"
    )
    last_call_at: datetime | None
    last_status: int | None
    last_failure_at: datetime | None
    last_failure_status: int | None
    last_failure_code: str | None


class QueueOut(BaseModel):
    """Deals on the ``deals`` queue."""

    enqueued: int = Field(description="Waiting for a worker")
    pending: int = Field(description="Being worked on")
    capped: bool = Field(description="The count stopped at its limit; there are more")


class OpenErrorsOut(BaseModel):
    """Errors not yet resolved."""

    open: int
    retrying: int
    by_class: dict[str, int] = Field(description="Open errors per failure class")


class Health(BaseModel):
    """The service at a glance."""

    runtime: Literal["ready", "not ready", "none"] = Field(
        description="This process's sync runtime; none on a web-only node"
    )
    queue: QueueOut | None = Field(description="Null when DBOS cannot be asked")
    open_errors: OpenErrorsOut
    connections: list[ConnectionOut]


@router.get("/health", response_model=Health)
def health(request: Request, session: LedgerSession) -> Health:
    """Connections' last known state, queue depth and open errors."""
    context = web_context(request)
    if context.runtime is None:
        runtime: Literal["ready", "not ready", "none"] = "none"
    else:
        runtime = "ready" if runtime_ready(context.runtime) else "not ready"
    session.commit()  # end the guard's transaction: DBOS is asked without holding the ledger
    depth = queue_depth(context)
    by_class = open_errors.counts_by_class(session, state="open")
    retrying = open_errors.count_errors(session, open_errors.ErrorFilter(state="retrying"))
    return Health(
        runtime=runtime,
        queue=QueueOut(enqueued=depth.enqueued, pending=depth.pending, capped=depth.capped)
        if depth is not None
        else None,
        open_errors=OpenErrorsOut(
            open=sum(by_class.values()), retrying=retrying, by_class=by_class
        ),
        connections=[ConnectionOut(**vars(entry)) for entry in last_known(session)],
    )
