"""Managing console users: add and disable, each audited, with the password hashed here.

Used by ``dealbridge users …`` and, later, the console's admin pages, so both enforce the same
username and password rules and write the same audit entries.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from dealbridge.db import users
from dealbridge.db.audit import audit
from dealbridge.db.models import User
from dealbridge.errors import ConfigError
from dealbridge.web.security.passwords import Passwords

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")


def check_username(username: str) -> None:
    """Usernames are 1-150 plain characters: they appear in logs, URLs and the audit log."""
    if not USERNAME_PATTERN.match(username):
        raise ConfigError(
            "a username has 1 to 150 characters: letters, digits and . _ @ - "
            "(starting with a letter or digit)"
        )


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    actor: str,
    passwords: Passwords,
) -> User:
    """Create a user with an argon2id hash of ``password`` and audit it."""
    check_username(username)
    user = users.create_user(session, username, passwords.hash(password), role)
    audit(
        session, actor, "user.added", target_type="user", target_id=username, detail={"role": role}
    )
    return user


def disable_user(session: Session, username: str, *, actor: str) -> User:
    """Stop a user from signing in; their open sessions end at their next request."""
    user = users.update_user(session, username, disabled=True)
    audit(session, actor, "user.disabled", target_type="user", target_id=username)
    return user
