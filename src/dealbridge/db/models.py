"""The ledger's tables: one schema for SQLite and PostgreSQL.

What the ledger is for (issues 5, 6, 7): runs and their API calls are the console's history;
``synced_records`` is the exactly-once memory (which NetSuite id an external id got, and the hash
of the last payload written, so an unchanged record is not written again); ``sync_errors`` holds
at most one open error per opportunity; ``watermarks`` are the poller's and the backfill's durable
cursors; ``reconcile_reports`` keeps each reconciliation's report for the console's latest view
and trend; ``audit_log``, ``users`` and ``api_tokens`` back the console and the API.

Choices that apply to every table:
- Enumerations (statuses, triggers, failure types, roles) are plain strings checked in Python, not
  CHECK constraints: adding a value must not need a table rebuild on SQLite.
- ``runs.error_id`` references ``sync_errors``; ``sync_errors.run_id`` and
  ``synced_records.last_run_id`` are plain columns. A foreign key both ways would make a cycle,
  and the id map must outlive any pruning of run history.
- Every timestamp is ``UtcDateTime`` (aware UTC on both engines); every default is client-side,
  so the hand-written migration and these models compare equal on both dialects.

The migrations (``versions/0001_initial.py``, then ``0002_reconcile_reports.py``) must match this
file; a test compares them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dealbridge.db.timestamps import UtcDateTime, utc_now

RUN_STATUSES = ("queued", "running", "synced", "unchanged", "invalid", "failed")
FINISHED_STATUSES = ("synced", "unchanged", "invalid", "failed")
TRIGGERS = ("outbound_message", "poller", "manual", "api", "backfill", "retry", "replay")
ERROR_STATES = ("open", "retrying", "resolved")
ACTIVE_ERROR_STATES = ("open", "retrying")
ROLES = ("admin", "operator", "viewer")

# SQLite gives autoincrement only to INTEGER PRIMARY KEY; PostgreSQL gets 64 bits for busy tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Named constraints: SQLite can only alter a table by rebuilding it, which needs names to match.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}
# The predicate of the "one active error per opportunity" index; upserts must name it verbatim.
ACTIVE_ERROR_PREDICATE = text("state IN ('open', 'retrying')")


class Base(DeclarativeBase):
    """Declarative base of the ledger; its ``metadata`` is Alembic's target."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


class Run(Base):
    """One execution of the deal workflow: what set it off, how long it took, how it ended."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_finished_at", "status", "finished_at"),
        Index("ix_runs_finished_at", "finished_at"),
        Index("ix_runs_received_at", "received_at"),
        Index("ix_runs_opportunity_id", "opportunity_id", "received_at"),
        Index("ix_runs_status_latency_ms", "status", "latency_ms"),  # /metrics, covering
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(255), unique=True)
    opportunity_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(32))
    trigger_ref: Mapped[str | None] = mapped_column(String(255))
    system_modstamp: Mapped[datetime | None]
    flow: Mapped[str | None] = mapped_column(String(100))
    flow_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    step_timings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    api_calls: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    records_written: Mapped[int] = mapped_column(Integer, default=0)
    records_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deal_graph: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("sync_errors.id", ondelete="SET NULL")
    )


class ApiCall(Base):
    """One HTTP call made during a run, redacted (``dealbridge.core.calls``)."""

    __tablename__ = "api_calls"
    __table_args__ = (
        Index("ix_api_calls_run_id", "run_id"),
        Index("ix_api_calls_at", "at"),
        Index("ix_api_calls_system_status", "system", "status"),  # /metrics, covering
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("runs.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime]
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Redacted and bounded by the connectors (``core.calls.capture_body``); null when not kept.
    request_body: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)


class SyncedRecord(Base):
    """The id map: a NetSuite record we own, keyed as NetSuite keys external ids.

    NetSuite scopes external ids per record group (customer and contact share ``entity``), so
    the primary key is (group, external id); lookups by ``RecordKey`` use the unique
    (record type, external id) index. ``netsuite_id`` and ``payload_hash`` are empty while a row
    only carries an edit-and-retry ``override_payload`` for a record never written yet.
    """

    __tablename__ = "synced_records"
    __table_args__ = (
        Index("ux_synced_records_type_external_id", "record_type", "external_id", unique=True),
        Index("ix_synced_records_opportunity_id", "opportunity_id"),
    )

    record_group: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64))
    netsuite_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_synced_at: Mapped[datetime | None]
    last_run_id: Mapped[str | None] = mapped_column(String(36))
    opportunity_id: Mapped[str | None] = mapped_column(String(32))
    source_sobject: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(32))
    flow: Mapped[str | None] = mapped_column(String(100))
    override_payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SyncError(Base):
    """A deal that failed, classified, with what a person needs to fix it.

    A partial unique index allows one active (open or retrying) error per opportunity: a repeat
    failure updates it, whatever the number of processes racing to record it.
    """

    __tablename__ = "sync_errors"
    __table_args__ = (
        Index("ix_sync_errors_state_failure_type", "state", "failure_type"),
        Index("ix_sync_errors_opportunity_id", "opportunity_id"),
        Index("ix_sync_errors_last_seen_at", "last_seen_at"),
        Index(
            "ux_sync_errors_active_opportunity",
            "opportunity_id",
            unique=True,
            sqlite_where=ACTIVE_ERROR_PREDICATE,
            postgresql_where=ACTIVE_ERROR_PREDICATE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    opportunity_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(32))
    run_id: Mapped[str | None] = mapped_column(String(36))
    workflow_id: Mapped[str | None] = mapped_column(String(255))
    failure_type: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255))
    field_path: Mapped[str | None] = mapped_column(String(255))
    remote_code: Mapped[str | None] = mapped_column(String(128))
    remote_status: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    user_message: Mapped[str] = mapped_column(Text)
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="open")
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(150))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    override: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Watermark(Base):
    """A named, durable, forward-only cursor (poller ``SystemModstamp``, backfill progress)."""

    __tablename__ = "watermarks"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditEntry(Base):
    """Who did what to which object, and when: every console and API action."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_action", "action"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReconcileReport(Base):
    """One reconciliation's report (issue 7): the counts apart for the trend, the whole document.

    ``summary``, ``checked`` and ``calls`` repeat parts of ``document`` so the trend reads a few
    small columns instead of every stored item list; ``findings`` is the summary's total.
    """

    __tablename__ = "reconcile_reports"
    __table_args__ = (Index("ix_reconcile_reports_generated_at", "generated_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    generated_at: Mapped[datetime]
    stored_at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(150))
    findings: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    checked: Mapped[dict[str, Any]] = mapped_column(JSON)
    calls: Mapped[dict[str, Any]] = mapped_column(JSON)
    items_truncated: Mapped[int] = mapped_column(Integer, default=0)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class User(Base):
    """A console login; the password hash is made and checked by the web layer (argon2)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A bearer token for the API, stored only as the SHA-256 of its value."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
