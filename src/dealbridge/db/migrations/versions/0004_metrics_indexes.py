"""Covering indexes for the figures ``/metrics`` reads at every scrape.

Why: a scrape counts API calls by system and status and sums successful runs' latencies. Without
these indexes both were full scans of their tables, and ``api_calls`` rows carry the calls'
request and response bodies (revision 0003), so each scrape read every body ever kept. With them
the database answers from the narrow indexes alone (a covering index scan), never touching a
body or a deal graph. Written by hand to match ``dealbridge.db.models`` as of this revision.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """``api_calls (system, status)`` and ``runs (status, latency_ms)``."""
    op.create_index("ix_api_calls_system_status", "api_calls", ["system", "status"])
    op.create_index("ix_runs_status_latency_ms", "runs", ["status", "latency_ms"])


def downgrade() -> None:
    """Drop both indexes (scrapes scan the tables again)."""
    op.drop_index("ix_runs_status_latency_ms", table_name="runs")
    op.drop_index("ix_api_calls_system_status", table_name="api_calls")
