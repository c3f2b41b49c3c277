"""Cross-site request forgery protection for every state-changing request a browser can send.

The pattern: each session carries a random token inside its signed, HttpOnly cookie; pages embed
the same token in their forms (``csrf_token`` field) or send it as the ``X-CSRF-Token`` header
(scripts read it from ``<meta name="csrf-token">`` in ``templates/base.html``). A POST, PUT,
PATCH or DELETE is served only when the two match (constant-time). Another site can make a
browser send the cookie, but cannot read the page, so it cannot know the token.

Why middleware rather than a dependency on each route: a route someone adds later is protected
without anyone remembering to. Exempt are requests a cross-site form cannot forge: those with an
``Authorization`` header (API tokens; browsers never add one cross-site without a CORS preflight,
which this app never grants), API requests carrying no session cookie (nothing for a forger to
ride on; they are refused as anonymous), and the path prefixes the app names (the Outbound
Message listener, authenticated by its own shared secret). ``/login`` is never exempt: a forged
login would sign the victim into an attacker's account.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealbridge.web.problems import API_PREFIX, refusal
from dealbridge.web.security.headers import read_body, replay
from dealbridge.web.security.session_cookie import request_session
from dealbridge.web.security.sessions import COOKIE_NAME, same_secret

FIELD_NAME = "csrf_token"
HEADER_NAME = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REFUSED = "The form expired or did not come from this site. Reload the page and try again."
# A body past this was already refused by the body cap; this only bounds the read here.
_UNBOUNDED = 1 << 62


def csrf_token(request: Request) -> str:
    """The token to embed in a form of this page (starts an anonymous session if needed)."""
    return request_session(request.scope).csrf_token()


class CsrfMiddleware:
    """Refuses state-changing browser requests whose CSRF token is missing or wrong (403).

    Args:
        app: The wrapped application.
        exempt_prefixes: Path prefixes served without the check (see the module docstring).
    """

    def __init__(self, app: ASGIApp, exempt_prefixes: Sequence[str] = ()) -> None:
        self.app = app
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the token of an unsafe request, then serve it from the same body."""
        if scope["type"] != "http" or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        messages = await read_body(receive, _UNBOUNDED)
        sent = await submitted_token(scope, messages)
        expected = request_session(scope).state
        if sent is None or expected is None or not same_secret(sent, expected.csrf):
            await refusal(scope, 403, REFUSED)(scope, receive, send)
            return
        await self.app(scope, replay(messages, receive), send)

    def _exempt(self, scope: Scope) -> bool:
        if scope["method"] in SAFE_METHODS:
            return True
        path = str(scope["path"])
        if path.startswith(self.exempt_prefixes):
            return True
        headers = Headers(scope=scope)
        if "authorization" in headers:
            return True
        return path.startswith(API_PREFIX) and COOKIE_NAME not in Request(scope).cookies


async def submitted_token(scope: Scope, messages: list[Message]) -> str | None:
    """The token the request sent: the header, else the form field."""
    headers = Headers(scope=scope)
    header = headers.get(HEADER_NAME)
    if header:
        return header
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        return None
    return await _form_field(scope, messages)


async def _form_field(scope: Scope, messages: list[Message]) -> str | None:
    async def no_more() -> Message:
        return {"type": "http.disconnect"}

    request = Request(scope, receive=replay(messages, no_more))
    try:
        async with request.form(max_files=100, max_fields=1000) as form:
            value = form.get(FIELD_NAME)
    except (HTTPException, MultiPartException):
        return None  # a malformed form carries no valid token
    return value if isinstance(value, str) else None
