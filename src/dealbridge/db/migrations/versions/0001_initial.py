"""The ledger: runs, API calls, synced records, errors, watermarks, audit log, users, tokens.

Written by hand to match ``dealbridge.db.models`` as of this revision; a test checks that an
upgraded database and the models compare equal on SQLite and PostgreSQL. Revisions never import
the models: they must keep describing the schema as it was when they were written.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_ERROR = "state IN ('open', 'retrying')"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _big_id() -> sa.Column[Any]:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Column("id", big, autoincrement=True, nullable=False)


def upgrade() -> None:
    """Create every table of the ledger and the indexes behind the console's filters."""
    _create_sync_errors()
    _create_runs()
    _create_api_calls()
    _create_synced_records()
    _create_watermarks()
    _create_audit_log()
    _create_users()
    _create_api_tokens()


def downgrade() -> None:
    """Drop everything, dependants first."""
    for table in (
        "api_tokens",
        "users",
        "audit_log",
        "watermarks",
        "synced_records",
        "api_calls",
        "runs",
        "sync_errors",
    ):
        op.drop_table(table)


def _create_sync_errors() -> None:
    op.create_table(
        "sync_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("opportunity_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(32), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("workflow_id", sa.String(255), nullable=True),
        sa.Column("failure_type", sa.String(32), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=True),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("field_path", sa.String(255), nullable=True),
        sa.Column("remote_code", sa.String(128), nullable=True),
        sa.Column("remote_status", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("user_message", sa.Text(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        _timestamp("first_seen_at"),
        _timestamp("last_seen_at"),
        _timestamp("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(150), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("override", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_errors"),
    )
    op.create_index("ix_sync_errors_state_failure_type", "sync_errors", ["state", "failure_type"])
    op.create_index("ix_sync_errors_opportunity_id", "sync_errors", ["opportunity_id"])
    op.create_index("ix_sync_errors_last_seen_at", "sync_errors", ["last_seen_at"])
    op.create_index(
        "ux_sync_errors_active_opportunity",
        "sync_errors",
        ["opportunity_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_ERROR),
        postgresql_where=sa.text(ACTIVE_ERROR),
    )


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("opportunity_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(32), nullable=True),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("trigger_ref", sa.String(255), nullable=True),
        _timestamp("system_modstamp", nullable=True),
        sa.Column("flow", sa.String(100), nullable=True),
        sa.Column("flow_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("received_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("step_timings", sa.JSON(), nullable=False),
        sa.Column("api_calls", sa.JSON(), nullable=False),
        sa.Column("records_written", sa.Integer(), nullable=False),
        sa.Column("records_unchanged", sa.Integer(), nullable=False),
        sa.Column("deal_graph", sa.JSON(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("error_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("workflow_id", name="uq_runs_workflow_id"),
        sa.ForeignKeyConstraint(
            ["error_id"], ["sync_errors.id"], name="fk_runs_error_id", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_runs_status_finished_at", "runs", ["status", "finished_at"])
    op.create_index("ix_runs_finished_at", "runs", ["finished_at"])
    op.create_index("ix_runs_received_at", "runs", ["received_at"])
    op.create_index("ix_runs_opportunity_id", "runs", ["opportunity_id", "received_at"])


def _create_api_calls() -> None:
    op.create_table(
        "api_calls",
        _big_id(),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error_code", sa.String(128), nullable=True),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_calls"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_api_calls_run_id", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_api_calls_run_id", "api_calls", ["run_id"])
    op.create_index("ix_api_calls_at", "api_calls", ["at"])


def _create_synced_records() -> None:
    op.create_table(
        "synced_records",
        sa.Column("record_group", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("netsuite_id", sa.String(64), nullable=True),
        sa.Column("payload_hash", sa.String(64), nullable=True),
        _timestamp("last_synced_at", nullable=True),
        sa.Column("last_run_id", sa.String(36), nullable=True),
        sa.Column("opportunity_id", sa.String(32), nullable=True),
        sa.Column("source_sobject", sa.String(64), nullable=True),
        sa.Column("source_id", sa.String(32), nullable=True),
        sa.Column("flow", sa.String(100), nullable=True),
        sa.Column("override_payload", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("record_group", "external_id", name="pk_synced_records"),
    )
    op.create_index(
        "ux_synced_records_type_external_id",
        "synced_records",
        ["record_type", "external_id"],
        unique=True,
    )
    op.create_index("ix_synced_records_opportunity_id", "synced_records", ["opportunity_id"])


def _create_watermarks() -> None:
    op.create_table(
        "watermarks",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_watermarks"),
    )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        _big_id(),
        _timestamp("at"),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(64), nullable=True),
        sa.Column("target_id", sa.String(255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _timestamp("created_at"),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        _timestamp("locked_until", nullable=True),
        _timestamp("last_login_at", nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )


def _create_api_tokens() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(150), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_used_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
