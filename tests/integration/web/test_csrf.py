"""CSRF: every state-changing browser request needs the session's token."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.web_client import PASSWORDS, csrf_from, page_csrf, signed_in, token_for


def test_form_without_token_is_refused(app: FastAPI) -> None:
    with signed_in(app, "otto") as client:
        response = client.post("/examples/retry", data={"note": "x"})
        assert response.status_code == 403
        assert "did not come from this site" in response.text


def test_wrong_or_foreign_token_is_refused(app: FastAPI) -> None:
    with signed_in(app, "otto") as otto, signed_in(app, "ada") as ada:
        foreign = page_csrf(ada)
        assert otto.post("/examples/retry", data={"csrf_token": foreign}).status_code == 403
        assert otto.post("/examples/retry", data={"csrf_token": "x" * 43}).status_code == 403
        assert otto.post("/examples/retry", data={"csrf_token": ""}).status_code == 403
        assert otto.post("/examples/retry", data={"csrf_token": page_csrf(otto)}).status_code == 303


def test_header_token_for_htmx(app: FastAPI) -> None:
    with signed_in(app, "otto") as client:
        token = page_csrf(client)
        assert client.post("/examples/retry", headers={"X-CSRF-Token": token}).status_code == 303
        assert client.post("/examples/retry", headers={"X-CSRF-Token": "nope"}).status_code == 403


def test_multipart_form_token(app: FastAPI) -> None:
    with signed_in(app, "otto") as client:
        response = client.post(
            "/examples/retry",
            data={"csrf_token": page_csrf(client)},
            files={"attachment": ("a.txt", b"hello", "text/plain")},
        )
        assert response.status_code == 303


def test_malformed_multipart_is_refused_not_crashed(app: FastAPI) -> None:
    with signed_in(app, "otto") as client:
        response = client.post(
            "/examples/retry",
            content=b"--xx\r\nbroken",
            headers={"content-type": "multipart/form-data; boundary=xx"},
        )
        assert response.status_code == 403


def test_api_post_with_session_cookie_needs_the_token(app: FastAPI) -> None:
    with signed_in(app, "otto") as client:
        refused = client.post("/api/v1/examples/retry", json={})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        accepted = client.post(
            "/api/v1/examples/retry", json={}, headers={"X-CSRF-Token": page_csrf(client)}
        )
        assert accepted.status_code == 200


def test_bearer_requests_are_exempt(client: TestClient, ledger: sessionmaker[Session]) -> None:
    auth = {"Authorization": f"Bearer {token_for(ledger, 'operator')}"}
    assert client.post("/api/v1/examples/retry", headers=auth).status_code == 200


def test_anonymous_api_post_is_401_not_403(client: TestClient) -> None:
    assert client.post("/api/v1/examples/retry").status_code == 401


def test_login_form_needs_the_token_too(client: TestClient) -> None:
    form = {"username": "vera", "password": PASSWORDS["vera"]}
    assert client.post("/login", data=form).status_code == 403  # no session at all
    client.get("/login")
    assert client.post("/login", data=form).status_code == 403  # session, but no token
    page = client.get("/login")
    assert (
        client.post("/login", data={**form, "csrf_token": csrf_from(page.text)}).status_code == 303
    )


def test_hooks_are_exempt(client: TestClient) -> None:
    assert client.post("/hooks/example", content=b"<xml/>").status_code == 204


def test_safe_methods_need_no_token(app: FastAPI) -> None:
    with signed_in(app, "otto") as client:
        assert client.get("/examples/page").status_code == 200
        assert client.head("/examples/page").status_code in (200, 405)
