"""Response hardening and request bounds: security headers on every answer, a body size cap.

The headers (issue 6, DESIGN §8): a Content-Security-Policy allowing only this origin (no inline
script, no CDN — the console serves its own CSS and scripts), no framing (clickjacking), no MIME
sniffing, and a same-origin referrer so console URLs (opportunity ids) do not leak to other sites.
Dynamic answers are also ``Cache-Control: no-store``: a shared or back-button cache must not keep
a page that shows deal data.

The cap: a request body larger than ``web.max_body_bytes`` is refused with 413 before any route
sees it, whether it announces its length or streams chunks. The body is read into memory (it is
bounded), which also lets the CSRF check read a form and hand the same bytes on.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealbridge.web.problems import refusal

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
        b"object-src 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
STATIC_PREFIX = "/static/"


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` (and ``no-store`` on dynamic answers) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, decorating its response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(STATIC_PREFIX)

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _hardened(list(message.get("headers", [])), cacheable)
            await send(message)

        await self.app(scope, receive, send_hardened)


def _hardened(headers: list[tuple[bytes, bytes]], cacheable: bool) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    if not cacheable and b"cache-control" not in present:
        extra.append((b"cache-control", b"no-store"))
    return headers + extra


class BodyTooLargeError(Exception):
    """Raised inside the cap when a streamed body passes the limit."""


class BodyLimitMiddleware:
    """Reads each request body up to ``max_bytes`` and refuses larger ones with 413.

    Args:
        app: The wrapped application.
        max_bytes: The largest body accepted.
        prefix_limits: Other limits for paths under a prefix (the Outbound Message listener
            has its own, ``webhook_max_bytes``).
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, prefix_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix_limits = dict(prefix_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the body (bounded), then serve the request from the buffer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(str(scope.get("path", "")))
        try:
            _check_declared(scope, limit)
            messages = await read_body(receive, limit)
        except BodyTooLargeError:
            detail = f"The request body is larger than {limit} bytes."
            await refusal(scope, 413, detail)(scope, receive, send)
            return
        await self.app(scope, replay(messages, receive), send)

    def _limit(self, path: str) -> int:
        for prefix, limit in self.prefix_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes


def _check_declared(scope: Scope, limit: int) -> None:
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLargeError(declared)


async def read_body(receive: Receive, max_bytes: int) -> list[Message]:
    """Every ``http.request`` message of the body; ``BodyTooLargeError`` past ``max_bytes``."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client went away; let the app see it
        size += len(message.get("body", b""))
        if size > max_bytes:
            raise BodyTooLargeError(size)
        if not message.get("more_body", False):
            return messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then waits on the real one."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def body_bytes(messages: list[Message]) -> bytes:
    """The body carried by ``messages``."""
    return b"".join(message.get("body", b"") for message in messages)
