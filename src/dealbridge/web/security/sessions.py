"""Console sessions: a signed, HttpOnly, SameSite=Lax cookie with idle and absolute expiry.

The cookie holds the session's facts (id, CSRF token, times, user id, a fingerprint of the
user's password hash) signed with HMAC-SHA256 (itsdangerous) under ``web.session_secret``; it
is not encrypted, so it holds nothing secret. Why a signed cookie rather than a server-side
table: any web node can check it without a database round trip, and the user row is still read
on every request, so a disabled user or a changed password (the fingerprint no longer matches)
ends the session at once everywhere. Logout revokes the session id in this process; another web
node honours a copied cookie only until its idle expiry.

The cookie is a browser-session cookie (no ``Max-Age``); the server enforces both expiries from
the times inside it. ``Secure`` is set when the request came over HTTPS or ``web.secure_cookies``
says so.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from dealbridge.db.timestamps import utc_now

COOKIE_NAME = "dealbridge_session"
SCOPE_KEY = "dealbridge.session"
# Refresh "last seen" at most this often, so not every response carries a Set-Cookie.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_REVOKED = 50_000

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SessionState:
    """What one browser's session knows. ``user_id`` is ``None`` before login."""

    sid: str
    csrf: str
    issued_at: datetime
    seen_at: datetime
    user_id: int | None = None
    fingerprint: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """Compact plain data for the cookie."""
        return {
            "s": self.sid,
            "c": self.csrf,
            "i": self.issued_at.timestamp(),
            "t": self.seen_at.timestamp(),
            "u": self.user_id,
            "f": self.fingerprint,
        }

    @classmethod
    def from_wire(cls, data: Any) -> SessionState | None:
        """The state in a verified cookie, or ``None`` if its shape is wrong."""
        try:
            return cls(
                sid=str(data["s"]),
                csrf=str(data["c"]),
                issued_at=datetime.fromtimestamp(float(data["i"]), tz=utc_now().tzinfo),
                seen_at=datetime.fromtimestamp(float(data["t"]), tz=utc_now().tzinfo),
                user_id=None if data["u"] is None else int(data["u"]),
                fingerprint=None if data["f"] is None else str(data["f"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            return None


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash: changes when the password changes, reveals nothing."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def same_secret(left: str, right: str) -> bool:
    """Constant-time string equality, for tokens and fingerprints."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


@dataclass
class SessionCodec:
    """Signs, verifies, expires and revokes sessions.

    Args:
        secret: The signing key (``security.secret.session_secret``).
        idle: A session unused this long is over.
        max_age: A session this old is over, however active.
        clock: The current time; tests pass a fake one instead of sleeping.
    """

    secret: bytes
    idle: timedelta
    max_age: timedelta
    clock: Clock = utc_now
    _revoked: dict[str, datetime] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._serializer = URLSafeSerializer(
            self.secret,
            salt="dealbridge.session.v1",
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def new(self) -> SessionState:
        """A fresh anonymous session (a new id and CSRF token)."""
        now = self.clock()
        return SessionState(
            sid=secrets.token_urlsafe(18),
            csrf=secrets.token_urlsafe(32),
            issued_at=now,
            seen_at=now,
        )

    def encode(self, state: SessionState) -> str:
        """The cookie value for ``state``."""
        return str(self._serializer.dumps(state.to_wire()))

    def decode(self, cookie: str) -> SessionState | None:
        """The live session in ``cookie``; ``None`` if forged, malformed, expired or revoked."""
        try:
            state = SessionState.from_wire(self._serializer.loads(cookie))
        except BadSignature:
            return None
        if state is None or not self._alive(state):
            return None
        return state

    def revoke(self, state: SessionState) -> None:
        """Refuse this session id from now on (in this process; see the module docstring)."""
        with self._lock:
            if len(self._revoked) >= MAX_REVOKED:
                self._prune()
            self._revoked[state.sid] = state.issued_at + self.max_age

    def touched(self, state: SessionState) -> SessionState | None:
        """``state`` with a new "last seen" when the old one is stale enough to refresh."""
        now = self.clock()
        return replace(state, seen_at=now) if now - state.seen_at >= TOUCH_INTERVAL else None

    def _alive(self, state: SessionState) -> bool:
        now = self.clock()
        if now - state.seen_at > self.idle or now - state.issued_at > self.max_age:
            return False
        with self._lock:
            return state.sid not in self._revoked

    def _prune(self) -> None:
        now = self.clock()
        for sid, until in list(self._revoked.items()):
            if until < now:
                del self._revoked[sid]
        while len(self._revoked) >= MAX_REVOKED:  # still full: forget the oldest entries
            del self._revoked[next(iter(self._revoked))]
