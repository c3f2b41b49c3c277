"""The audit log: every console and API action, who took it, on what, and when.

Written in the same transaction as the action itself (the caller's session), so an action that
rolls back leaves no entry and an entry never describes something that did not happen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dealbridge.db.models import AuditEntry
from dealbridge.db.timestamps import ensure_aware, utc_now


def audit(
    session: Session,
    actor: str,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry, e.g. ``audit(s, "alice", "error.retry", target_type="error", …)``."""
    entry = AuditEntry(
        at=ensure_aware(at or utc_now(), "at"),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=dict(detail or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(
    session: Session,
    *,
    limit: int = 50,
    offset: int = 0,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """Entries newest first, optionally only one actor's or one action's."""
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))
