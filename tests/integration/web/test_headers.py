"""Security headers on every answer, the body cap, and what the app does not serve."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.web.web_client import page_csrf, signed_in

EXPECTED = {
    "content-security-policy": "default-src 'self'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/examples/page", 303),
        ("GET", "/api/v1/whoami", 401),
        ("GET", "/no/such/page", 404),
        ("POST", "/examples/retry", 403),
        ("GET", "/healthz", 200),
        ("GET", "/static/dealbridge.css", 200),
        ("GET", "/api/v1/openapi.json", 200),
    ],
)
def test_every_answer_is_hardened(client: TestClient, method: str, path: str, status: int) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name


def test_dynamic_pages_are_not_cached_but_static_files_may_be(client: TestClient) -> None:
    assert client.get("/login").headers["cache-control"] == "no-store"
    assert client.get("/api/v1/whoami").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/dealbridge.css").headers.get("cache-control", "")


def test_no_third_party_assets(client: TestClient) -> None:
    page = client.get("/login").text
    assert "http://" not in page
    assert "https://" not in page
    assert 'href="/static/dealbridge.css"' in page  # relative: no Host header in links


def test_swagger_ui_is_off(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_declared_oversized_body_is_refused(app: FastAPI) -> None:
    with signed_in(app, "vera") as client:
        response = client.post(
            "/api/v1/examples/size", content=b"x" * 5000, headers={"X-CSRF-Token": "irrelevant"}
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["x-frame-options"] == "DENY"


def test_streamed_oversized_body_is_refused(app: FastAPI) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    with signed_in(app, "vera") as client:
        response = client.post(
            "/api/v1/examples/size", content=chunks(), headers={"X-CSRF-Token": page_csrf(client)}
        )
        assert response.status_code == 413


def test_body_within_the_cap_reaches_the_route(app: FastAPI) -> None:
    with signed_in(app, "vera") as client:
        response = client.post(
            "/api/v1/examples/size",
            content=b"z" * 4000,
            headers={"X-CSRF-Token": page_csrf(client)},
        )
        assert response.json() == {"size": 4000}


def test_hooks_have_their_own_body_limit(client: TestClient) -> None:
    assert client.post("/hooks/example", content=b"x" * 5000).status_code == 204
