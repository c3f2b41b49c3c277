"""Users and API tokens: storage of hashes, roles, lockout and revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import LedgerError, NotInLedgerError
from dealbridge.db.users import (
    create_token,
    create_user,
    find_active_token,
    get_user,
    get_user_by_id,
    hash_token,
    is_locked,
    list_tokens,
    list_users,
    record_failed_login,
    record_successful_login,
    revoke_token,
    update_user,
)

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def test_create_and_get_user(session: Session) -> None:
    user = create_user(session, "alice", HASH, "admin")
    assert user.id is not None
    assert get_user(session, "alice") is user
    assert get_user_by_id(session, user.id) is user
    assert (user.failed_logins, user.disabled, user.locked_until) == (0, False, None)
    assert user.created_at.tzinfo is UTC
    assert get_user(session, "nobody") is None


def test_duplicate_username_is_refused_and_the_session_survives(session: Session) -> None:
    create_user(session, "alice", HASH, "admin")
    with pytest.raises(LedgerError, match="user 'alice' already exists"):
        create_user(session, "alice", HASH, "viewer")
    create_user(session, "bob", HASH, "viewer")  # the session is still usable
    assert [u.username for u in list_users(session)] == ["alice", "bob"]


def test_unknown_role_is_refused(session: Session) -> None:
    with pytest.raises(LedgerError, match="unknown role 'root'"):
        create_user(session, "eve", HASH, "root")


def test_update_user(session: Session) -> None:
    create_user(session, "alice", HASH, "viewer")
    user = update_user(session, "alice", role="operator", password_hash="new-hash", disabled=True)
    assert (user.role, user.password_hash, user.disabled) == ("operator", "new-hash", True)
    user = update_user(session, "alice", disabled=False)
    assert (user.role, user.password_hash, user.disabled) == ("operator", "new-hash", False)
    with pytest.raises(LedgerError):
        update_user(session, "alice", role="god")
    with pytest.raises(NotInLedgerError):
        update_user(session, "nobody", role="viewer")


def test_lockout_after_repeated_failures(session: Session) -> None:
    create_user(session, "alice", HASH, "operator")
    for attempt in range(1, 3):
        user = record_failed_login(
            session, "alice", max_failures=3, lock_for=timedelta(minutes=15), at=T0
        )
        assert user is not None
        assert (user.failed_logins, user.locked_until) == (attempt, None)
    user = record_failed_login(
        session, "alice", max_failures=3, lock_for=timedelta(minutes=15), at=T0
    )
    assert user is not None
    assert user.locked_until == T0 + timedelta(minutes=15)
    assert is_locked(user, T0 + timedelta(minutes=14))
    assert not is_locked(user, T0 + timedelta(minutes=16))
    assert record_failed_login(session, "ghost", max_failures=3, lock_for=timedelta(1)) is None


def test_successful_login_resets(session: Session) -> None:
    create_user(session, "alice", HASH, "operator")
    record_failed_login(session, "alice", max_failures=1, lock_for=timedelta(minutes=5), at=T0)
    user = record_successful_login(session, "alice", at=T0 + timedelta(minutes=6))
    assert (user.failed_logins, user.locked_until) == (0, None)
    assert user.last_login_at == T0 + timedelta(minutes=6)
    assert not is_locked(user)


def test_hash_token_is_sha256() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()


def test_token_lifecycle(session: Session) -> None:
    token = create_token(
        session, name="ci", token_hash=hash_token("secret-1"), role="operator", created_by="alice"
    )
    found = find_active_token(session, hash_token("secret-1"), at=T0)
    assert found is token
    assert found.last_used_at == T0
    assert find_active_token(session, hash_token("wrong")) is None
    revoked = revoke_token(session, token.id, at=T0 + timedelta(hours=1))
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert revoke_token(session, token.id).revoked_at == T0 + timedelta(hours=1)
    assert find_active_token(session, hash_token("secret-1")) is None
    with pytest.raises(NotInLedgerError):
        revoke_token(session, 999)


def test_find_without_touching(session: Session) -> None:
    create_token(session, name="ro", token_hash=hash_token("s"), role="viewer", created_by="a")
    found = find_active_token(session, hash_token("s"), touch=False)
    assert found is not None
    assert found.last_used_at is None


def test_list_tokens(session: Session) -> None:
    first = create_token(
        session, name="a", token_hash=hash_token("1"), role="viewer", created_by="x"
    )
    second = create_token(
        session, name="b", token_hash=hash_token("2"), role="admin", created_by="x"
    )
    revoke_token(session, first.id)
    assert [t.name for t in list_tokens(session)] == [second.name]
    assert {t.name for t in list_tokens(session, include_revoked=True)} == {"a", "b"}
    with pytest.raises(LedgerError):
        create_token(session, name="c", token_hash=hash_token("3"), role="owner", created_by="x")
