"""The run history as the API shows it: a page of runs, and one run with its calls and records.

Why explicit models rather than the ORM rows: the OpenAPI document then states every field, and
nothing the ledger adds later (a deal graph, a plan with customer data) leaks into an answer by
accident. API calls are stored redacted (``core.calls``); their ``extra`` is left out here all the
same, because it is free-form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dealbridge.db.models import ApiCall, Run, SyncedRecord


class RunSummary(BaseModel):
    """One deal workflow: what set it off, how it ended, how long it took."""

    id: str
    workflow_id: str
    opportunity_id: str
    account_id: str | None
    trigger: str = Field(description="outbound_message, poller, manual, api, backfill, ...")
    status: str = Field(description="queued, running, synced, unchanged, invalid or failed")
    received_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    latency_ms: int | None = Field(description="Trigger to done, queueing included")
    records_written: int
    records_unchanged: int
    error_id: int | None

    @classmethod
    def of(cls, run: Run) -> RunSummary:
        """The summary of a ledger row."""
        return cls(
            id=run.id,
            workflow_id=run.workflow_id,
            opportunity_id=run.opportunity_id,
            account_id=run.account_id,
            trigger=run.trigger,
            status=run.status,
            received_at=run.received_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            latency_ms=run.latency_ms,
            records_written=run.records_written,
            records_unchanged=run.records_unchanged,
            error_id=run.error_id,
        )


class RunPage(BaseModel):
    """Runs, newest trigger first, with what the next page needs."""

    items: list[RunSummary]
    total: int = Field(description="Runs matching the filters")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last")


class Step(BaseModel):
    """One step of the run's timeline."""

    step: str
    ms: float | None = Field(default=None, description="The step's own duration")
    status: str | None = Field(default=None, description="Set for the write-back step")

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Step:
        """A ``step_timings`` entry (only its name, duration and status)."""
        ms = entry.get("ms")
        status = entry.get("status")
        return cls(
            step=str(entry.get("step") or "?"),
            ms=float(ms) if isinstance(ms, int | float) else None,
            status=str(status) if status is not None else None,
        )


class ApiCallOut(BaseModel):
    """One Salesforce or NetSuite call the run made."""

    system: str
    method: str
    path: str
    status: int | None = Field(description="HTTP status; null when no answer arrived")
    duration_ms: float
    error_code: str | None
    request_id: str | None
    attempt: int
    at: datetime
    request_body: str | None = Field(
        default=None,
        description="The request body as sent, credentials masked and cut at 8 KiB; null when "
        "there was none or bodies are not recorded (sync.record_call_bodies)",
    )
    response_body: str | None = Field(
        default=None,
        description="The response body, credentials masked and cut at 8 KiB; null when none",
    )

    @classmethod
    def of(cls, call: ApiCall) -> ApiCallOut:
        """A stored call (already redacted)."""
        return cls(
            system=call.system,
            method=call.method,
            path=call.path,
            status=call.status,
            duration_ms=call.duration_ms,
            error_code=call.error_code,
            request_id=call.request_id,
            attempt=call.attempt,
            at=call.at,
            request_body=call.request_body,
            response_body=call.response_body,
        )


class RecordWritten(BaseModel):
    """A NetSuite record this run wrote last."""

    record_type: str
    external_id: str
    netsuite_id: str | None

    @classmethod
    def of(cls, row: SyncedRecord) -> RecordWritten:
        """A row of the id map."""
        return cls(
            record_type=row.record_type, external_id=row.external_id, netsuite_id=row.netsuite_id
        )


class RunDetail(RunSummary):
    """A run with its timeline, its calls and the records it wrote."""

    trigger_ref: str | None
    flow: str | None
    flow_version: int | None
    steps: list[Step]
    api_calls: list[ApiCallOut]
    records: list[RecordWritten] = Field(
        description="Records whose latest write was this run's (a later run may have "
        "rewritten the others)"
    )
