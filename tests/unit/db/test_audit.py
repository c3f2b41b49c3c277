"""The audit log records every action and lists it newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from dealbridge.db.audit import audit, list_audit

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def test_audit_entry(session: Session) -> None:
    entry = audit(
        session,
        "alice",
        "error.retry",
        target_type="error",
        target_id=42,
        detail={"reason": "subsidiary fixed"},
        at=T0,
    )
    assert entry.id is not None
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        "alice",
        "error.retry",
        "error",
        "42",
    )
    assert entry.detail == {"reason": "subsidiary fixed"}
    assert entry.at == T0


def test_audit_without_target(session: Session) -> None:
    entry = audit(session, "system", "startup")
    assert (entry.target_type, entry.target_id, entry.detail) == (None, None, {})
    assert entry.at.tzinfo is UTC


def test_list_audit_filters_and_order(session: Session) -> None:
    audit(session, "alice", "login", at=T0)
    audit(session, "bob", "error.resolve", target_type="error", target_id="1", at=T0 + timedelta(1))
    audit(session, "alice", "error.retry", target_type="error", target_id="1", at=T0 + timedelta(2))
    assert [e.action for e in list_audit(session)] == ["error.retry", "error.resolve", "login"]
    assert [e.action for e in list_audit(session, actor="alice")] == ["error.retry", "login"]
    assert [e.actor for e in list_audit(session, action="error.resolve")] == ["bob"]
    assert [e.action for e in list_audit(session, limit=1, offset=1)] == ["error.resolve"]
