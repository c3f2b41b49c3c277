"""Console users and API tokens: storage only.

Passwords are hashed and verified by the web layer (argon2); this module accepts and returns
hashes and never sees a password. API tokens are random secrets, so a plain SHA-256 is enough to
store them (``hash_token``): a slow hash protects guessable passwords, not 256-bit tokens, and a
fast one lets every API request look its token up by an index.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import LedgerError, NotInLedgerError
from dealbridge.db.models import ROLES, ApiToken, User
from dealbridge.db.timestamps import ensure_aware, utc_now


def hash_token(token: str) -> str:
    """SHA-256 hex of an API token: what ``api_tokens.token_hash`` holds."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(session: Session, username: str, password_hash: str, role: str) -> User:
    """Add a user; a taken username raises ``LedgerError``."""
    _check_role(role)
    user = User(username=username, password_hash=password_hash, role=role, created_at=utc_now())
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise LedgerError(f"user {username!r} already exists") from exc
    return user


def get_user(session: Session, username: str) -> User | None:
    """The user with this username, or ``None``."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def get_user_by_id(session: Session, user_id: int) -> User | None:
    """The user with this id, or ``None``."""
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    """Every user, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def update_user(
    session: Session,
    username: str,
    *,
    password_hash: str | None = None,
    role: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Change a user's password hash, role or disabled flag (what is given)."""
    user = _require_user(session, username)
    if role is not None:
        _check_role(role)
        user.role = role
    user.password_hash = password_hash or user.password_hash
    user.disabled = user.disabled if disabled is None else disabled
    session.flush()
    return user


def is_locked(user: User, at: datetime | None = None) -> bool:
    """Whether the user is locked out at ``at`` (default now)."""
    now = ensure_aware(at or utc_now(), "at")
    return user.locked_until is not None and user.locked_until > now


def record_failed_login(
    session: Session,
    username: str,
    *,
    max_failures: int,
    lock_for: timedelta,
    at: datetime | None = None,
) -> User | None:
    """Count a failed login; at ``max_failures`` in a row, lock the user for ``lock_for``.

    Returns ``None`` for an unknown username (the caller answers the same either way).
    """
    user = get_user(session, username)
    if user is None:
        return None
    now = ensure_aware(at or utc_now(), "at")
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until = now + lock_for
        user.failed_logins = 0
    session.flush()
    return user


def record_successful_login(session: Session, username: str, at: datetime | None = None) -> User:
    """Reset the failure count and lock, and note the login time."""
    user = _require_user(session, username)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = ensure_aware(at or utc_now(), "at")
    session.flush()
    return user


def create_token(
    session: Session, *, name: str, token_hash: str, role: str, created_by: str
) -> ApiToken:
    """Store a new API token by its hash (see ``hash_token``)."""
    _check_role(role)
    token = ApiToken(
        name=name, token_hash=token_hash, role=role, created_by=created_by, created_at=utc_now()
    )
    session.add(token)
    session.flush()
    return token


def find_active_token(
    session: Session, token_hash: str, *, touch: bool = True, at: datetime | None = None
) -> ApiToken | None:
    """The unrevoked token with this hash, noting its use; ``None`` if unknown or revoked."""
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).one_or_none()
    if token is not None and touch:
        token.last_used_at = ensure_aware(at or utc_now(), "at")
        session.flush()
    return token


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[ApiToken]:
    """API tokens, newest first."""
    query = select(ApiToken)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, token_id: int, at: datetime | None = None) -> ApiToken:
    """Revoke a token; revoking it again keeps the first revocation time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotInLedgerError(f"no API token with id {token_id}")
    token.revoked_at = token.revoked_at or ensure_aware(at or utc_now(), "at")
    session.flush()
    return token


def _require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotInLedgerError(f"no user {username!r}")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise LedgerError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
