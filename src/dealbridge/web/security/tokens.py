"""API tokens: issued once, stored as SHA-256, refused once revoked.

A token is ``dbt_`` + 32 random bytes (URL-safe base64). The prefix lets secret scanners and
people recognise a leaked dealbridge token. Only its SHA-256 is stored (``dealbridge.db.users``):
the value carries 256 bits of entropy, so a fast hash is as safe as a slow one and lets a request
find its token through an index. Looking a token up by its hash is not a timing oracle: the time
an index lookup takes reveals something about the hash, which says nothing usable about the token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dealbridge.db import users
from dealbridge.db.audit import audit
from dealbridge.db.models import ApiToken
from dealbridge.errors import ConfigError

TOKEN_PREFIX = "dbt_"  # noqa: S105 - a public prefix, not a secret
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^dbt_[A-Za-z0-9_-]{43}$")
MAX_TOKEN_NAME = 100


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the stored row and the value, which is shown once and forgotten."""

    row: ApiToken
    value: str


def new_token_value() -> str:
    """A fresh random token value."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has a token's shape (checked before touching the database)."""
    return bool(_TOKEN_SHAPE.match(value))


def issue_token(session: Session, *, name: str, role: str, actor: str) -> IssuedToken:
    """Create a token for ``role`` and audit it; the caller shows ``value`` once."""
    if not name.strip() or len(name) > MAX_TOKEN_NAME:
        raise ConfigError(f"a token name needs 1 to {MAX_TOKEN_NAME} characters")
    value = new_token_value()
    row = users.create_token(
        session, name=name, token_hash=users.hash_token(value), role=role, created_by=actor
    )
    audit(
        session,
        actor,
        "token.created",
        target_type="api_token",
        target_id=row.id,
        detail={"name": name, "role": role},
    )
    return IssuedToken(row=row, value=value)


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    """Revoke a token and audit it; requests bearing it are refused from now on."""
    row = users.revoke_token(session, token_id)
    audit(
        session,
        actor,
        "token.revoked",
        target_type="api_token",
        target_id=row.id,
        detail={"name": row.name},
    )
    return row


def authenticate_token(session: Session, value: str) -> ApiToken | None:
    """The active token with this value, noting its use; ``None`` when unknown or revoked."""
    if not looks_like_token(value):
        return None
    return users.find_active_token(session, users.hash_token(value), touch=True)
