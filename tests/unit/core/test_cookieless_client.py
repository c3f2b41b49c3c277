"""The connectors' httpx client keeps no cookie a server sets."""

from __future__ import annotations

import httpx
import pytest

from dealbridge.core.http_transport import CookielessClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _setting_cookies(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    return httpx.MockTransport(answer)


async def test_a_cookie_set_by_a_server_is_not_kept_nor_sent_back() -> None:
    seen: list[httpx.Request] = []
    async with CookielessClient(transport=_setting_cookies(seen), base_url="https://x.test") as c:
        first = await c.get("/a")
        await c.get("/b")

    assert first.headers["set-cookie"].startswith("session=")  # the answer itself is intact
    assert not c.cookies
    assert all("cookie" not in request.headers for request in seen)


async def test_plain_httpx_would_have_kept_it() -> None:
    """The control: what ``CookielessClient`` exists to avoid is httpx's default."""
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=_setting_cookies(seen), base_url="https://x.test") as c:
        await c.get("/a")
        await c.get("/b")

    assert seen[1].headers["cookie"] == "session=abc"


def test_there_is_nothing_to_set() -> None:
    client = CookielessClient()
    with pytest.raises(AttributeError, match="keeps no cookies"):
        client.cookies = {"a": "b"}
