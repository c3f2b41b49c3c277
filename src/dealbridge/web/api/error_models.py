"""Open errors as the API shows them, and the bodies of the actions on them.

Keys follow ``dealbridge errors … --json`` (``class`` for the failure class, ``message`` for the
sentence a finance user reads), so a script can move between the CLI and the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dealbridge.db.models import SyncError

MAX_REASON = 2000
MAX_RECORD_KEY = 320
RECORD_KEY_PATTERN = r"^[^/\s]+/[^/]+$"


class ErrorSummary(BaseModel):
    """A failed deal, as the list shows it."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    state: str = Field(description="open, retrying or resolved")
    failure_class: str = Field(alias="class", description="validation, auth, remote_outage, ...")
    opportunity_id: str
    record: str | None = Field(description="The failed record, e.g. customer/SFACC-001...")
    field: str | None = Field(description="The field at fault, when known")
    message: str = Field(description="What went wrong, for a finance user")
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, error: SyncError) -> ErrorSummary:
        """The summary of a ledger row."""
        return cls(**_summary_fields(error))


class ErrorDetail(ErrorSummary):
    """An error with everything needed to fix it."""

    account_id: str | None
    run_id: str | None
    workflow_id: str | None
    technical_message: str
    remote_code: str | None
    remote_status: int | None
    request_id: str | None
    violations: list[dict[str, Any]]
    override: dict[str, Any] | None = Field(description="The edited payload awaiting its write")
    context: dict[str, Any]
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None

    @classmethod
    def of(cls, error: SyncError) -> ErrorDetail:
        """The full view of a ledger row."""
        return cls(
            **_summary_fields(error),
            account_id=error.account_id,
            run_id=error.run_id,
            workflow_id=error.workflow_id,
            technical_message=error.message,
            remote_code=error.remote_code,
            remote_status=error.remote_status,
            request_id=error.request_id,
            violations=list(error.violations or []),
            override=error.override,
            context={k: v for k, v in (error.context or {}).items() if k != "violations"},
            resolved_at=error.resolved_at,
            resolved_by=error.resolved_by,
            resolution_note=error.resolution_note,
        )


class ErrorPage(BaseModel):
    """Errors, most recently seen first."""

    items: list[ErrorSummary]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class RetryQueued(BaseModel):
    """A retry (or an edit and retry) is on the queue."""

    error_id: int
    workflow_id: str = Field(description="The new workflow, retry:<error id>:<n>")
    state: str = Field(description="The error's state now: retrying")


class Resolved(BaseModel):
    """An error closed by hand."""

    error_id: int
    state: str
    resolved_by: str | None
    resolved_at: datetime | None


class ResolveBody(BaseModel):
    """Why the error is closed; kept with the error and in the audit log."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=MAX_REASON, pattern=r"\S")


class EditBody(BaseModel):
    """The payload to send for one record of the failed deal, instead of the mapped one."""

    model_config = ConfigDict(extra="forbid")

    record_key: str = Field(
        max_length=MAX_RECORD_KEY,
        pattern=RECORD_KEY_PATTERN,
        description="The record, <type>/<external id>, e.g. customer/SFACC-001...",
    )
    payload: dict[str, Any] = Field(description="The record's fields as NetSuite takes them")


def _summary_fields(error: SyncError) -> dict[str, Any]:
    record = "/".join(part for part in (error.record_type, error.external_id) if part)
    return {
        "id": error.id,
        "state": error.state,
        "failure_class": error.failure_type,
        "opportunity_id": error.opportunity_id,
        "record": record or None,
        "field": error.field_path,
        "message": error.user_message,
        "occurrences": error.occurrences,
        "first_seen_at": error.first_seen_at,
        "last_seen_at": error.last_seen_at,
    }
