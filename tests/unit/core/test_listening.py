"""The servers' listening socket: accepted connections get TCP_NODELAY from asyncio."""

from __future__ import annotations

import asyncio
import socket

import pytest

from dealbridge.listening import bind_listener, public_host


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of the connection asyncio accepts on ``listener``, as uvicorn would."""

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def test_accepted_connections_have_nagle_off() -> None:
    # Regression: proto=0 sockets kept Nagle on, and every kept-alive response waited ~40 ms
    # for a delayed ACK before its body left.
    assert _accepted_nodelay(bind_listener("127.0.0.1", 0)) != 0


def test_port_zero_becomes_a_real_port_before_anyone_connects() -> None:
    sock = bind_listener("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_a_port_in_use_is_refused_and_the_socket_closed() -> None:
    first = bind_listener("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="in use"):
            bind_listener("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()


@pytest.mark.parametrize(
    ("host", "expected"),
    [("0.0.0.0", "127.0.0.1"),  # noqa: S104 - a wildcard mapped, not bound ("", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]"),
     ("10.0.0.5", "10.0.0.5")],
)  # fmt: skip
def test_public_host_maps_wildcards_to_loopback(host: str, expected: str) -> None:
    assert public_host(host) == expected
