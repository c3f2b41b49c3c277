"""The session of one request, and the ASGI middleware that reads and writes its cookie.

Why plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``): it must add a header to every
response, streaming ones included, without buffering them, and must see the session before the
CSRF check and the route run.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealbridge.web.security.sessions import COOKIE_NAME, SCOPE_KEY, SessionCodec, SessionState


class RequestSession:
    """The session of the request being served; routes change it, the middleware saves it.

    Args:
        codec: Signs and revokes sessions.
        state: The live session the cookie carried, if any.
        had_cookie: Whether the request carried a session cookie at all (even a dead one).
    """

    def __init__(self, codec: SessionCodec, state: SessionState | None, had_cookie: bool) -> None:
        self._codec = codec
        self._state = state
        self._had_cookie = had_cookie
        self._dirty = False

    @property
    def state(self) -> SessionState | None:
        """The live session, or ``None`` for a visitor without one."""
        return self._state

    @property
    def user_id(self) -> int | None:
        """The signed-in user's id, or ``None``."""
        return self._state.user_id if self._state else None

    def csrf_token(self) -> str:
        """This session's CSRF token, starting an anonymous session if there is none."""
        state = self._state
        if state is None:
            state = self._codec.new()
            self._replace(state)
        return state.csrf

    def sign_in(self, user_id: int, fingerprint: str) -> None:
        """Start a new session for the user (new id and CSRF token: no session fixation)."""
        if self._state is not None:
            self._codec.revoke(self._state)
        fresh = self._codec.new()
        self._replace(
            SessionState(
                sid=fresh.sid,
                csrf=fresh.csrf,
                issued_at=fresh.issued_at,
                seen_at=fresh.seen_at,
                user_id=user_id,
                fingerprint=fingerprint,
            )
        )

    def sign_out(self) -> None:
        """End the session here and in the browser."""
        if self._state is not None:
            self._codec.revoke(self._state)
        self._state = None
        self._dirty = True

    def touch(self) -> None:
        """Slide the idle expiry of a signed-in session forward."""
        if self._state is not None and self._state.user_id is not None:
            touched = self._codec.touched(self._state)
            if touched is not None:
                self._replace(touched)

    def cookie_header(self, *, secure: bool) -> bytes | None:
        """The ``Set-Cookie`` value to send, or ``None`` when the browser's cookie is right."""
        flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        if self._state is not None and self._dirty:
            return f"{COOKIE_NAME}={self._codec.encode(self._state)}{flags}".encode("latin-1")
        if self._state is None and (self._dirty or self._had_cookie):
            return f'{COOKIE_NAME}=""; Max-Age=0{flags}'.encode("latin-1")
        return None

    def _replace(self, state: SessionState) -> None:
        self._state = state
        self._dirty = True


class SessionMiddleware:
    """Puts a ``RequestSession`` in the scope and the resulting cookie on the response.

    Args:
        app: The wrapped application.
        codec: Signs, verifies and expires sessions.
        secure_cookies: Always mark the cookie ``Secure`` (TLS ends at a proxy).
    """

    def __init__(self, app: ASGIApp, codec: SessionCodec, *, secure_cookies: bool) -> None:
        self.app = app
        self.codec = codec
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with its session."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = HTTPConnection(scope).cookies.get(COOKIE_NAME)
        state = self.codec.decode(cookie) if cookie else None
        session = RequestSession(self.codec, state, had_cookie=cookie is not None)
        session.touch()
        scope[SCOPE_KEY] = session
        secure = self.secure_cookies or scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = session.cookie_header(secure=secure)
                if header is not None:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"set-cookie", header)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def request_session(scope: Scope) -> RequestSession:
    """The session the middleware attached to this request's scope."""
    session = scope.get(SCOPE_KEY)
    if not isinstance(session, RequestSession):
        raise RuntimeError("SessionMiddleware is not installed")  # a wiring bug, not input
    return session
