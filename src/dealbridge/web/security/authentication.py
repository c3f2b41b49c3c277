"""One login attempt: throttling, lockout, verification, rehashing and the audit trail.

The rules (issue 6, DESIGN §8):
- An address with too many recent failures is refused before anything else (``throttle``).
- A user with ``lockout_attempts`` failures in a row is locked for ``lockout_minutes``; while
  locked, even the right password is refused.
- Unknown, disabled and locked users cost one full argon2 verification like everyone else, and
  every failure gets the same answer, so neither timing nor wording reveals which usernames exist.
- A successful login whose hash used outdated parameters stores a fresh hash.
- Every outcome is written to the audit log in the request's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from dealbridge.db import users
from dealbridge.db.audit import audit
from dealbridge.db.models import User
from dealbridge.settings import WebSettings
from dealbridge.web.security.passwords import Passwords
from dealbridge.web.security.throttle import FailureCounter

# Failures allowed per address = this many times the per-user limit (a typo-prone office
# behind one NAT address must not lock itself out before any single user would be).
ADDRESS_FAILURE_FACTOR = 4
MAX_ACTOR_LENGTH = 150

Outcome = Literal["ok", "failed", "locked", "throttled"]


@dataclass(frozen=True)
class LoginPolicy:
    """The lockout rules from ``web`` settings."""

    max_failures: int
    lock_for: timedelta

    @classmethod
    def from_settings(cls, web: WebSettings) -> LoginPolicy:
        """The policy ``web.lockout_attempts`` and ``web.lockout_minutes`` describe."""
        return cls(
            max_failures=web.lockout_attempts, lock_for=timedelta(minutes=web.lockout_minutes)
        )

    def address_counter(self) -> FailureCounter:
        """The per-address counter matching this policy."""
        return FailureCounter(self.max_failures * ADDRESS_FAILURE_FACTOR, self.lock_for)


@dataclass(frozen=True)
class LoginAttempt:
    """What was tried, from where, and when."""

    username: str
    password: str
    address: str
    at: datetime

    def __repr__(self) -> str:
        return f"LoginAttempt(username={self.username!r}, address={self.address!r})"


@dataclass(frozen=True)
class LoginResult:
    """How an attempt ended; ``user`` is set only when it succeeded."""

    outcome: Outcome
    user: User | None = None


@dataclass(frozen=True)
class Authenticator:
    """Runs login attempts against the ledger.

    Args:
        passwords: The argon2 hasher.
        policy: The lockout rules.
        addresses: The per-address failure counter.
    """

    passwords: Passwords
    policy: LoginPolicy
    addresses: FailureCounter

    def attempt(self, session: Session, attempt: LoginAttempt) -> LoginResult:
        """Try to sign ``attempt.username`` in; see the module docstring for the rules."""
        if self.addresses.blocked(attempt.address, attempt.at):
            self._audit(session, attempt, "login.failed", reason="address_throttled")
            return LoginResult("throttled")
        user = users.get_user(session, attempt.username)
        if user is not None and users.is_locked(user, attempt.at):
            self.passwords.verify(None, attempt.password)
            self._audit(session, attempt, "login.locked", reason="locked")
            return LoginResult("locked")
        stored = user.password_hash if user is not None and not user.disabled else None
        check = self.passwords.verify(stored, attempt.password)
        if user is None or stored is None or not check.ok:
            return self._failed(session, attempt, user)
        return self._succeeded(session, attempt, user, check.new_hash)

    def _failed(self, session: Session, attempt: LoginAttempt, user: User | None) -> LoginResult:
        self.addresses.record(attempt.address, attempt.at)
        if user is None or user.disabled:
            reason = "unknown_user" if user is None else "disabled"
            self._audit(session, attempt, "login.failed", reason=reason)
            return LoginResult("failed")
        users.record_failed_login(
            session,
            user.username,
            max_failures=self.policy.max_failures,
            lock_for=self.policy.lock_for,
            at=attempt.at,
        )
        self._audit(session, attempt, "login.failed", reason="bad_password")
        if users.is_locked(user, attempt.at):
            self._audit(session, attempt, "login.locked", reason="too_many_failures")
            return LoginResult("locked")
        return LoginResult("failed")

    def _succeeded(
        self, session: Session, attempt: LoginAttempt, user: User, new_hash: str | None
    ) -> LoginResult:
        if new_hash is not None:
            users.update_user(session, user.username, password_hash=new_hash)
        users.record_successful_login(session, user.username, at=attempt.at)
        self._audit(session, attempt, "login.ok", rehashed=new_hash is not None)
        return LoginResult("ok", user)

    @staticmethod
    def _audit(session: Session, attempt: LoginAttempt, action: str, **detail: object) -> None:
        actor = attempt.username[:MAX_ACTOR_LENGTH] or "(blank)"
        audit(
            session,
            actor,
            action,
            target_type="user",
            target_id=actor,
            detail={"address": attempt.address, **detail},
            at=attempt.at,
        )


def logout_audit(session: Session, username: str, address: str) -> None:
    """Record a logout."""
    audit(
        session,
        username,
        "logout",
        target_type="user",
        target_id=username,
        detail={"address": address},
    )
