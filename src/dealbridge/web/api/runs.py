"""``GET /api/v1/runs`` and ``GET /api/v1/runs/{run_id}``: the run history (viewer).

Paging is by offset over the ledger's stable order (newest trigger first, then id): simple for
scripts, and the history is append-mostly, so a page boundary moves by at most the runs that
arrived meanwhile. Filters are enumerations in the OpenAPI document, so a typo is a 422 naming
the parameter rather than an empty list.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from sqlalchemy import select

from dealbridge.connectors.salesforce.models import to_id18
from dealbridge.db import api_calls, runs
from dealbridge.db.ledger_errors import NotInLedgerError
from dealbridge.db.models import SyncedRecord
from dealbridge.web.api.common import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    SALESFORCE_ID_PATTERN,
    LedgerSession,
    api_router,
)
from dealbridge.web.api.failures import problem_responses
from dealbridge.web.api.run_models import (
    ApiCallOut,
    RecordWritten,
    RunDetail,
    RunPage,
    RunSummary,
    Step,
)

RunStatus = Literal["queued", "running", "synced", "unchanged", "invalid", "failed"]
RunTrigger = Literal["outbound_message", "poller", "manual", "api", "backfill", "retry", "replay"]
MAX_RUN_RECORDS = 1000

router = api_router("runs")


@router.get("/runs", response_model=RunPage)
def list_runs(
    session: LedgerSession,
    status: Annotated[RunStatus | None, Query(description="Only runs in this state")] = None,
    trigger: Annotated[RunTrigger | None, Query(description="Only runs set off this way")] = None,
    opportunity: Annotated[
        str | None,
        Query(pattern=SALESFORCE_ID_PATTERN, description="Only this opportunity (15 or 18 chars)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> RunPage:
    """Runs matching the filters, newest trigger first."""
    filters = runs.RunFilter(
        status=status,
        trigger=trigger,
        opportunity=to_id18(opportunity) if opportunity else None,
    )
    rows = runs.list_runs(session, filters, limit=limit, offset=offset)
    total = runs.count_runs(session, filters)
    following = offset + len(rows)
    return RunPage(
        items=[RunSummary.of(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total and rows else None,
    )


@router.get("/runs/{run_id}", response_model=RunDetail, responses=problem_responses(404))
def get_run(
    session: LedgerSession,
    run_id: Annotated[str, Path(min_length=1, max_length=36)],
) -> RunDetail:
    """One run with its steps, every API call it made and the records it wrote."""
    run = runs.get_run(session, run_id)
    if run is None:
        raise NotInLedgerError("there is no run with this id")
    written = session.scalars(
        select(SyncedRecord)
        .where(SyncedRecord.last_run_id == run.id)
        .order_by(SyncedRecord.record_type, SyncedRecord.external_id)
        .limit(MAX_RUN_RECORDS)
    )
    summary = RunSummary.of(run).model_dump()
    return RunDetail(
        **summary,
        trigger_ref=run.trigger_ref,
        flow=run.flow,
        flow_version=run.flow_version,
        steps=[Step.of(entry) for entry in run.step_timings or [] if isinstance(entry, dict)],
        api_calls=[ApiCallOut.of(call) for call in api_calls.calls_for_run(session, run.id)],
        records=[RecordWritten.of(row) for row in written],
    )
