"""The same security over a real uvicorn server and real HTTP (cookies, redirects, streaming)."""

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.web.security.sessions import COOKIE_NAME
from tests.integration.web.web_client import PASSWORDS, csrf_from, token_for


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    """Uvicorn on a socket bound first: requests queue in the backlog until it serves them."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def test_browser_flow_over_http(server_url: str) -> None:
    with httpx.Client(base_url=server_url, follow_redirects=False, timeout=30) as browser:
        anonymous = browser.get("/examples/page")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/login?next=%2Fexamples%2Fpage"
        page = browser.get(anonymous.headers["location"])
        assert page.headers["x-frame-options"] == "DENY"
        form = {
            "username": "otto",
            "password": PASSWORDS["otto"],
            "next": "/examples/page",
            "csrf_token": csrf_from(page.text),
        }
        signed_in = browser.post("/login", data=form)
        assert signed_in.status_code == 303
        assert "HttpOnly" in signed_in.headers["set-cookie"]
        assert browser.get("/examples/page").status_code == 200
        token = csrf_from(browser.get("/account").text)
        assert browser.post("/examples/retry").status_code == 403
        assert browser.post("/examples/retry", data={"csrf_token": token}).status_code == 303
        assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
        assert browser.get("/api/v1/whoami").status_code == 401
        assert COOKIE_NAME not in browser.cookies


def test_api_over_http(server_url: str, ledger: sessionmaker[Session]) -> None:
    viewer = {"Authorization": f"Bearer {token_for(ledger, 'viewer')}"}
    with httpx.Client(base_url=server_url, timeout=30) as api:
        assert api.get("/api/v1/whoami").status_code == 401
        assert api.get("/api/v1/whoami", headers=viewer).json()["role"] == "viewer"
        refused = api.post("/api/v1/examples/retry", headers=viewer)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert api.get("/healthz").json() == {"status": "ok"}
        assert api.get("/readyz").status_code == 200


def test_body_cap_over_http(server_url: str, ledger: sessionmaker[Session]) -> None:
    viewer = {"Authorization": f"Bearer {token_for(ledger, 'viewer')}"}

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1000

    with httpx.Client(base_url=server_url, timeout=30) as api:
        streamed = api.post("/api/v1/examples/size", content=chunks(), headers=viewer)
        assert streamed.status_code == 413
        small = api.post("/api/v1/examples/size", content=b"y" * 100, headers=viewer)
        assert small.json() == {"size": 100}
