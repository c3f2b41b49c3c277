"""Roles for console sessions and API tokens on example routes: viewer < operator < admin."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import users
from dealbridge.db.session import session_scope
from dealbridge.web.security.tokens import revoke_token
from tests.integration.web.web_client import page_csrf, signed_in, token_for
from tests.support.alert_receivers import FakeClock

ALLOWED = {
    "vera": {"/api/v1/examples/retry": 403, "/api/v1/examples/admin": 403},
    "otto": {"/api/v1/examples/retry": 200, "/api/v1/examples/admin": 403},
    "ada": {"/api/v1/examples/retry": 200, "/api/v1/examples/admin": 200},
}


@pytest.mark.parametrize("username", ["vera", "otto", "ada"])
def test_session_roles_on_api_posts(app: FastAPI, username: str) -> None:
    with signed_in(app, username) as client:
        token = page_csrf(client)
        for path, status in ALLOWED[username].items():
            response = client.post(path, headers={"X-CSRF-Token": token})
            assert response.status_code == status, path
            if status == 403:
                assert response.headers["content-type"] == "application/problem+json"
                assert "needs" in response.json()["detail"]
            else:
                assert response.json()["by"] == username


@pytest.mark.parametrize(("username", "status"), [("vera", 403), ("otto", 303), ("ada", 303)])
def test_session_roles_on_console_forms(app: FastAPI, username: str, status: int) -> None:
    with signed_in(app, username) as client:
        response = client.post("/examples/retry", data={"csrf_token": page_csrf(client)})
        assert response.status_code == status
        if status == 403:
            assert "text/html" in response.headers["content-type"]
            assert "needs operator" in response.text
            assert "vera" in response.text  # the page still shows who is signed in


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_token_roles(client: TestClient, ledger: sessionmaker[Session], role: str) -> None:
    auth = {"Authorization": f"Bearer {token_for(ledger, role)}"}
    assert client.get("/api/v1/whoami", headers=auth).json() == {
        "kind": "token",
        "name": f"{role}-token",
        "role": role,
    }
    retry = client.post("/api/v1/examples/retry", headers=auth)  # no CSRF token needed
    admin = client.post("/api/v1/examples/admin", headers=auth)
    assert retry.status_code == (403 if role == "viewer" else 200)
    assert admin.status_code == (200 if role == "admin" else 403)
    if role != "viewer":
        assert retry.json()["by"] == f"token:{role}-token"


def test_token_use_is_recorded(
    client: TestClient, ledger: sessionmaker[Session], clock: FakeClock
) -> None:
    value = token_for(ledger, "viewer")
    client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {value}"})
    with session_scope(ledger) as session:
        [token] = users.list_tokens(session)
        assert token.last_used_at is not None


def test_revoked_token_is_refused(client: TestClient, ledger: sessionmaker[Session]) -> None:
    value = token_for(ledger, "admin")
    auth = {"Authorization": f"Bearer {value}"}
    assert client.get("/api/v1/whoami", headers=auth).status_code == 200
    with session_scope(ledger) as session:
        [token] = users.list_tokens(session)
        revoke_token(session, token.id, actor="ada")
    response = client.get("/api/v1/whoami", headers=auth)
    assert response.status_code == 401
    assert value not in response.text


@pytest.mark.parametrize(
    "header",
    [
        "Bearer dbt_" + "A" * 43,  # well formed, unknown
        "Bearer not-a-token",
        "Bearer ",
        "Basic dmVyYTp2ZXJh",
        "dbt_" + "A" * 43,
    ],
)
def test_bad_authorization_headers_get_401(client: TestClient, header: str) -> None:
    response = client.get("/api/v1/whoami", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_bad_token_never_falls_back_to_the_session(app: FastAPI) -> None:
    with signed_in(app, "ada") as client:
        assert client.get("/api/v1/whoami").status_code == 200
        bad = {"Authorization": "Bearer dbt_" + "B" * 43}
        assert client.get("/api/v1/whoami", headers=bad).status_code == 401
        assert client.post("/api/v1/examples/admin", headers=bad).status_code == 401
        assert client.get("/examples/page", headers=bad).status_code == 401  # JSON, not redirect


def test_viewer_token_reads_console_pages(
    client: TestClient, ledger: sessionmaker[Session]
) -> None:
    auth = {"Authorization": f"Bearer {token_for(ledger, 'viewer')}"}
    assert client.get("/examples/page", headers=auth).status_code == 200


def test_invalid_api_input_is_described_without_echoing_it(
    client: TestClient, ledger: sessionmaker[Session]
) -> None:
    auth = {"Authorization": f"Bearer {token_for(ledger, 'viewer')}"}
    response = client.get("/api/v1/examples/echo", params={"count": "secret-value"}, headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "count"]
    assert "secret-value" not in response.text
