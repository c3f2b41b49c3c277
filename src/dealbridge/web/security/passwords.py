"""Password hashing with argon2id: the only place a console password is ever handled.

Why argon2id: it is memory-hard (guessing on GPUs is expensive) and is the first choice of RFC 9106
and OWASP. The parameters are OWASP's first argon2id configuration (19 MiB, 2 passes, 1 lane,
about 0.1 s on one core) rather than argon2-cffi's 64 MiB x 4 lanes (0.4 s on two cores): the
console runs on small machines, and every login attempt, including an attacker's, pays the cost.
At most ``MAX_CONCURRENT`` verifications run at once, so a burst of logins cannot exhaust memory.
When the parameters change, a hash made with the old ones still verifies and is replaced at the
next successful login (``PasswordCheck.new_hash``), so stored hashes follow the policy.

Why a dummy hash: a login for an unknown or disabled user still runs one full verification, so the
response time does not tell an attacker which usernames exist.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dealbridge.errors import ConfigError

MIN_PASSWORD_LENGTH = 10
MAX_CONCURRENT = 4
# Bounded so a megabyte "password" cannot be used to burn CPU (DESIGN §8: every input bounded).
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class PasswordCheck:
    """The result of a verification.

    Attributes:
        ok: Whether the password matched.
        new_hash: A fresh hash to store when the old one used outdated parameters.
    """

    ok: bool
    new_hash: str | None = None


class Passwords:
    """Hashes and verifies passwords; one instance per process is enough (it is thread-safe).

    Args:
        hasher: The argon2 hasher; tests pass cheaper parameters to exercise rehashing.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or default_hasher()
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self._dummy_hash = self._hasher.hash("dealbridge: no such user")

    def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` (salted; two calls give different strings)."""
        check_password_policy(password)
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> PasswordCheck:
        """Whether ``password`` matches ``stored_hash``; ``None`` costs the same and fails."""
        if len(password) > MAX_PASSWORD_LENGTH:
            return PasswordCheck(ok=False)
        with self._slots:
            try:
                self._hasher.verify(stored_hash or self._dummy_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return PasswordCheck(ok=False)
            if stored_hash is None:
                return PasswordCheck(ok=False)
            if self._hasher.check_needs_rehash(stored_hash):
                return PasswordCheck(ok=True, new_hash=self._hasher.hash(password))
        return PasswordCheck(ok=True)


def default_hasher() -> PasswordHasher:
    """argon2id with the parameters the module docstring gives."""
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.ID)


def check_password_policy(password: str) -> None:
    """Refuse passwords too short to resist guessing or too long to hash cheaply."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ConfigError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")
