"""Reconciliation reports: one row per report, for the console's latest view and trend.

Written by hand to match ``dealbridge.db.models.ReconcileReport`` as of this revision.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``reconcile_reports`` and its index on ``generated_at``."""
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "reconcile_reports",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("checked", sa.JSON(), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("items_truncated", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reconcile_reports"),
    )
    op.create_index("ix_reconcile_reports_generated_at", "reconcile_reports", ["generated_at"])


def downgrade() -> None:
    """Drop the table (its index goes with it)."""
    op.drop_table("reconcile_reports")
