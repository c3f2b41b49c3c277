"""``/api/v1/errors``: failed deals (viewer), and retrying, editing or closing them (operator).

Every action goes through ``sync.operator.Operator``, which writes the audit entry in the same
transaction as the change, here the request's (``operations.RequestLedger``). The actor in the
audit log is the token (``token:<name>``) or the console user.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Request
from sqlalchemy.orm import Session

from dealbridge.db import open_errors
from dealbridge.db.ledger_errors import InvalidTransitionError, NotInLedgerError
from dealbridge.db.models import SyncError
from dealbridge.web.api.common import (
    DEFAULT_LIMIT,
    MAX_ERROR_ID,
    MAX_LIMIT,
    MAX_OFFSET,
    LedgerSession,
    OperatorRole,
    api_router,
)
from dealbridge.web.api.error_models import (
    EditBody,
    ErrorDetail,
    ErrorPage,
    ErrorSummary,
    ResolveBody,
    Resolved,
    RetryQueued,
)
from dealbridge.web.api.failures import problem_responses
from dealbridge.web.api.operations import ledger_operator, request_operator
from dealbridge.web.context import web_context

ErrorState = Literal["open", "retrying", "resolved"]
FailureClass = Literal[
    "validation",
    "auth",
    "rate_limit",
    "remote_rejection",
    "remote_outage",
    "config",
    "webhook",
    "bug",
]
ErrorId = Annotated[int, Path(ge=1, le=MAX_ERROR_ID)]
ACTION_FAILURES = problem_responses(404, 409, 503)

router = api_router("errors")


@router.get("/errors", response_model=ErrorPage)
def list_errors(
    session: LedgerSession,
    state: Annotated[ErrorState | None, Query(description="Only errors in this state")] = None,
    failure_class: Annotated[
        FailureClass | None, Query(alias="class", description="Only this failure class")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ErrorPage:
    """Errors matching the filters, most recently seen first."""
    filters = open_errors.ErrorFilter(state=state, failure_type=failure_class)
    rows = open_errors.list_errors(session, filters, limit=limit, offset=offset)
    total = open_errors.count_errors(session, filters)
    following = offset + len(rows)
    return ErrorPage(
        items=[ErrorSummary.of(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total and rows else None,
    )


@router.get("/errors/{error_id}", response_model=ErrorDetail, responses=problem_responses(404))
def get_error(session: LedgerSession, error_id: ErrorId) -> ErrorDetail:
    """One error with everything needed to fix it."""
    return ErrorDetail.of(_load(session, error_id))


@router.post("/errors/{error_id}/retry", response_model=RetryQueued, responses=ACTION_FAILURES)
def retry_error(
    request: Request, session: LedgerSession, who: OperatorRole, error_id: ErrorId
) -> RetryQueued:
    """Sync the error's deal again, as it is now in Salesforce (operator)."""
    with request_operator(web_context(request), session) as operator:
        workflow_id = operator.retry_error(error_id, who.actor)
    return RetryQueued(error_id=error_id, workflow_id=workflow_id, state="retrying")


@router.post(
    "/errors/{error_id}/resolve",
    response_model=Resolved,
    responses=problem_responses(404, 409),
)
def resolve_error(
    session: LedgerSession,
    who: OperatorRole,
    error_id: ErrorId,
    body: ResolveBody,
) -> Resolved:
    """Close the error by hand, e.g. after fixing the record in NetSuite (operator).

    A resolved error cannot be resolved again (409): the first resolution and its reason stay.
    """
    if _load(session, error_id).state == "resolved":
        raise InvalidTransitionError("this error is already resolved")
    ledger_operator(session).resolve_error(error_id, who.actor, body.reason)
    error = _load(session, error_id)
    return Resolved(
        error_id=error.id,
        state=error.state,
        resolved_by=error.resolved_by,
        resolved_at=error.resolved_at,
    )


@router.post(
    "/errors/{error_id}/edit-and-retry",
    response_model=RetryQueued,
    responses=ACTION_FAILURES,
)
def edit_and_retry(
    request: Request,
    session: LedgerSession,
    who: OperatorRole,
    error_id: ErrorId,
    body: EditBody,
) -> RetryQueued:
    """Send ``payload`` for ``record_key`` at the next write, and retry the deal (operator).

    The record must belong to the failed run's plan; the payload must be a JSON object of at
    most 1 MB. Either failing is a 422 naming the field.
    """
    with request_operator(web_context(request), session) as operator:
        workflow_id = operator.edit_and_retry(error_id, body.record_key, body.payload, who.actor)
    return RetryQueued(error_id=error_id, workflow_id=workflow_id, state="retrying")


def _load(session: Session, error_id: int) -> SyncError:
    error = open_errors.get_error(session, error_id)
    if error is None:
        raise NotInLedgerError("there is no error with this id")
    return error
