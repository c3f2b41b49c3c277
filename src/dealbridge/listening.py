"""The listening socket every dealbridge server starts with: the service and both emulators.

Why one helper: each server binds before it announces itself, so ``--port 0`` has become a real
port that nobody can race for. Why ``IPPROTO_TCP`` is named explicitly: asyncio turns Nagle's
algorithm off (``TCP_NODELAY``) only on connections whose socket says ``proto == IPPROTO_TCP``;
a socket made with the default ``proto=0`` hands that 0 to every accepted connection, and then a
response written as headers and body separately (uvicorn's h11 does) held its body back until
the client acknowledged the headers — 40 ms of delayed ACK on every request of a kept-alive
connection. Measured on the emulators: 44 ms per request before, about 1 ms after.

A top-level module on purpose: the emulators may not import the product's ``core`` (they must
stand alone as fakes of the real services), and this is plumbing, not product.
"""

from __future__ import annotations

import socket

BACKLOG = 2048


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (``port`` 0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def public_host(host: str) -> str:
    """How a local client reaches a server listening on ``host`` (wildcards mean loopback)."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - mapping the wildcard to loopback, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
