"""The aiohttp-backed transport speaks HTTP as httpx would and fails with httpx's exceptions.

Real sockets on 127.0.0.1: a tiny asyncio server per case answers, stays silent, or hangs up.
The TLS cases (an untrusted certificate, a CA bundle) run against the emulators in
``tests/contract``.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from dealbridge.connectors.netsuite.errors import error_from_exception, was_request_sent
from dealbridge.core import http_transport
from dealbridge.core.http_transport import AiohttpTransport

pytestmark = pytest.mark.anyio
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A server on a free port running ``handler`` per connection, closing what it leaves open."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Head and body of one request (Content-Length framed)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


def no_content(connections: list[int]) -> Handler:
    """Answers 204 to every request of a kept-alive connection; one entry per connection."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    return answer


def client(base: str, **options: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, transport=AiohttpTransport(), **options)  # type: ignore[arg-type]


async def test_a_request_goes_out_as_httpx_built_it_and_the_answer_comes_back() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        payload = gzip.compress(b'{"id": "42"}')
        writer.write(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            b"Content-Encoding: gzip\r\nX-Multi: a\r\nX-Multi: b\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
        )
        await writer.drain()
        writer.close()

    async with serving(answer) as base, client(base, headers={"X-Custom": "yes"}) as http:
        response = await http.put("/record/v1/customer/eid:A?replace=x", json={"a": 1})

    assert response.status_code == 201
    assert response.json() == {"id": "42"}  # decoded by httpx from gzip
    assert response.headers.get_list("x-multi") == ["a", "b"]
    head, body = seen[0]
    assert head.startswith(b"PUT /record/v1/customer/eid:A?replace=x HTTP/1.1\r\n")
    assert b"\r\nx-custom: yes\r\n" in head.lower()
    assert b"\r\ncontent-type: application/json\r\n" in head.lower()
    assert head.lower().count(b"\r\nuser-agent:") == 1
    assert body == b'{"a":1}' or body == b'{"a": 1}'


async def test_a_body_above_a_mebibyte_arrives_whole() -> None:
    """Large bodies are streamed (aiohttp's advice), with the length httpx declared."""
    seen: list[tuple[bytes, bytes]] = []
    body = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MiB, not a multiple of any chunk size

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async with serving(answer) as base, client(base) as http:
        response = await http.post("/composite", content=body)

    assert response.status_code == 204
    head, received = seen[0]
    assert f"content-length: {len(body)}\r\n".encode() in head.lower()
    assert received == body


def test_the_whole_exchange_is_bounded_only_when_every_phase_is() -> None:
    bounded = httpx.Request("GET", "http://x.test/", extensions={"timeout": httpx.Timeout(
        5.0, connect=2.0).as_dict()})  # fmt: skip
    unbounded = httpx.Request("GET", "http://x.test/", extensions={"timeout": httpx.Timeout(
        5.0, read=None).as_dict()})  # fmt: skip

    assert http_transport._timeout(bounded).total == 17.0  # pool 5 + connect 2 + write 5 + read 5
    assert http_transport._timeout(unbounded).total is None
    assert http_transport._timeout(unbounded).sock_read is None


async def test_kept_alive_connections_carry_several_requests() -> None:
    connections: list[int] = []

    async with serving(no_content(connections)) as base, client(base) as http:
        for _ in range(3):
            assert (await http.get("/")).status_code == 204
    assert len(connections) == 1


async def test_a_refused_connection_is_a_connect_error_never_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: refused
        async with client(f"http://127.0.0.1:{port}") as http:
            with pytest.raises(httpx.ConnectError) as raised:
                await http.get("/")
    assert not was_request_sent(error_from_exception(raised.value, "GET /"))


async def test_a_silent_server_is_a_read_timeout_that_may_have_been_seen() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with serving(never_answer) as base, client(base, timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout) as raised:
            await http.get("/")
    assert was_request_sent(error_from_exception(raised.value, "GET /"))


async def test_a_server_that_stops_reading_cannot_hold_a_request_forever() -> None:
    """A body the peer never reads (a stuck proxy): the request ends within its phases' sum.

    Regression: aiohttp bounds connecting and each read, not writing, so a body larger than
    the socket buffers waited for the peer forever.
    """

    async def stop_reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(30)

    body = b"x" * (64 * 1024 * 1024)  # far beyond what the kernel buffers on both ends
    async with serving(stop_reading) as base, client(base, timeout=0.3) as http:
        with pytest.raises(httpx.TimeoutException) as raised:
            await asyncio.wait_for(http.post("/", content=body), timeout=10)
    assert isinstance(raised.value, httpx.WriteTimeout)
    assert was_request_sent(error_from_exception(raised.value, "POST /"))


async def test_a_server_hanging_up_is_a_protocol_error() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with serving(hang_up) as base, client(base) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")


async def test_a_non_http_url_is_an_unsupported_protocol() -> None:
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.UnsupportedProtocol):
            await transport.handle_async_request(httpx.Request("GET", "ftp://example.test/x"))
    finally:
        await transport.aclose()


async def test_closing_the_client_closes_the_session() -> None:
    transport = AiohttpTransport()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async with serving(answer) as base:
        async with httpx.AsyncClient(base_url=base, transport=transport) as http:
            await http.get("/")
        assert transport._session is None


async def test_an_idle_connection_is_let_go_before_a_server_would_close_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: a pool keeping connections 15 s reused ones uvicorn had closed after 5 s.

    Each such request failed as a RemoteProtocolError and waited out the connector's retry
    (seen as Salesforce calls the emulator never received, in the economy benchmark).
    """
    assert http_transport._KEEPALIVE_SECONDS < uvicorn.Config("app:app").timeout_keep_alive
    monkeypatch.setattr(http_transport, "_KEEPALIVE_SECONDS", 0.2)
    connections: list[int] = []

    async with serving(no_content(connections)) as base, client(base) as http:
        await http.get("/")
        await http.get("/")  # at once: the same connection
        await asyncio.sleep(0.5)
        await http.get("/")  # after the keep-alive: a new one
    assert len(connections) == 2


def test_certificates_are_verified_against_the_trust_store_httpx_used() -> None:
    default = AiohttpTransport()._ssl
    assert default.verify_mode == ssl.CERT_REQUIRED
    assert default.check_hostname
    assert default.get_ca_certs() == httpx.create_ssl_context().get_ca_certs()
    bundle = ssl.create_default_context()
    assert AiohttpTransport(verify=bundle)._ssl is bundle
