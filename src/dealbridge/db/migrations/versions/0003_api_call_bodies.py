"""The bodies of each recorded API call: two nullable text columns on ``api_calls``.

Rows stored before this revision keep null bodies (they were never captured). Written by hand to
match ``dealbridge.db.models.ApiCall`` as of this revision; batch mode so SQLite can drop them on
downgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``request_body`` and ``response_body`` (redacted JSON text, null when not kept)."""
    with op.batch_alter_table("api_calls") as batch:
        batch.add_column(sa.Column("request_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("response_body", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop both columns (the bodies stored are lost)."""
    with op.batch_alter_table("api_calls") as batch:
        batch.drop_column("response_body")
        batch.drop_column("request_body")
