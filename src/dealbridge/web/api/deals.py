"""``POST /api/v1/sync`` (operator) and ``POST /api/v1/dry-run`` (viewer): one deal, now.

A sync is queued, not awaited (202 with the workflow id): a deal takes seconds to minutes, and
an HTTP client should not hold a connection for it; ``GET /api/v1/runs?opportunity=…`` shows the
outcome. A dry-run reads Salesforce and NetSuite and writes nothing (``mapping.preview``), so a
viewer may ask for one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dealbridge.db.audit import audit
from dealbridge.mapping.preview import PreviewResult, preview_opportunity
from dealbridge.sync.triggers import opportunity_id18
from dealbridge.web.api.common import (
    SALESFORCE_ID_PATTERN,
    LedgerSession,
    OperatorRole,
    api_router,
)
from dealbridge.web.api.failures import problem_responses
from dealbridge.web.api.operations import sync_opportunity
from dealbridge.web.context import web_context

router = api_router("deals")
REMOTE_FAILURES = problem_responses(404, 502, 503)


class OpportunityBody(BaseModel):
    """The opportunity to act on."""

    model_config = ConfigDict(extra="forbid")

    opportunity_id: str = Field(
        pattern=SALESFORCE_ID_PATTERN, description="Salesforce Opportunity id, 15 or 18 chars"
    )


class SyncQueued(BaseModel):
    """The deal is on the queue."""

    workflow_id: str = Field(description="deal:<OpportunityId18>:<SystemModstamp>")
    opportunity_id: str
    status: str = Field(description="Always queued; the run list shows the outcome")


class FieldChange(BaseModel):
    """One field the write would change."""

    path: str
    before: Any
    after: Any


class PlannedRecord(BaseModel):
    """One record the sync would upsert, and what it would change."""

    type: str
    external_id: str
    action: str = Field(description="create, update or unchanged")
    payload: dict[str, Any]
    diff: list[FieldChange]


class DryRun(BaseModel):
    """The plan of a deal and its field diff against NetSuite; nothing was written."""

    opportunity: str
    triggered: bool = Field(description="Whether the flow's trigger holds (e.g. Closed Won)")
    counts: dict[str, int] = Field(description="Records per action")
    violations: list[dict[str, Any]]
    operations: list[PlannedRecord]

    @classmethod
    def of(cls, result: PreviewResult) -> DryRun:
        """The API's form of a preview."""
        document = result.to_json()
        return cls(
            opportunity=document["opportunity"],
            triggered=result.triggered,
            counts=result.counts(),
            violations=document["violations"],
            operations=[PlannedRecord(**entry) for entry in document["operations"]],
        )


@router.post(
    "/sync",
    status_code=202,
    response_model=SyncQueued,
    responses=REMOTE_FAILURES,
)
async def sync(
    request: Request, session: LedgerSession, who: OperatorRole, body: OpportunityBody
) -> SyncQueued:
    """Sync the opportunity as it is now in Salesforce (operator).

    A deal unchanged since its last notification joins that workflow (the same id comes back).
    """
    identifier = opportunity_id18(body.opportunity_id)
    await asyncio.to_thread(session.commit)  # free the ledger while Salesforce is asked
    workflow_id = await sync_opportunity(web_context(request), identifier, who.actor)
    await asyncio.to_thread(_audit_sync, session, who.actor, identifier, workflow_id)
    return SyncQueued(workflow_id=workflow_id, opportunity_id=identifier, status="queued")


@router.post("/dry-run", response_model=DryRun, responses=REMOTE_FAILURES)
async def dry_run(request: Request, session: LedgerSession, body: OpportunityBody) -> DryRun:
    """Plan the opportunity and diff it against NetSuite, writing nothing (viewer)."""
    await asyncio.to_thread(session.commit)  # free the ledger during the remote reads
    result = await preview_opportunity(body.opportunity_id, settings=web_context(request).settings)
    return DryRun.of(result)


def _audit_sync(session: Session, actor: str, opportunity_id: str, workflow_id: str) -> None:
    audit(
        session,
        actor,
        "deal.sync",
        target_type="opportunity",
        target_id=opportunity_id,
        detail={"workflow_id": workflow_id},
    )
