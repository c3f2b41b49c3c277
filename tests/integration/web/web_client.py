"""Helpers for driving the web app as a browser or an API client would."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.session import session_scope
from dealbridge.web.pages import render
from dealbridge.web.security import Principal, allow_anonymous, require_role
from dealbridge.web.security.tokens import issue_token

PASSWORDS = {
    "ada": "ada-admin-password-1",
    "otto": "otto-operator-pw-2",
    "vera": "vera-viewer-pw-3",
}
ROLES = {"ada": "admin", "otto": "operator", "vera": "viewer"}
SESSION_SECRET = "session-secret-" + "q" * 40
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def example_router() -> APIRouter:
    """Protected routes standing in for the console and API built later."""
    router = APIRouter()

    @router.post("/api/v1/examples/retry")
    def api_retry(who: Principal = Depends(require_role("operator"))) -> dict[str, Any]:  # noqa: B008
        return {"retried": True, "by": who.actor}

    @router.post("/api/v1/examples/admin")
    def api_admin(who: Principal = Depends(require_role("admin"))) -> dict[str, Any]:  # noqa: B008
        return {"admin": True, "by": who.actor}

    @router.post("/api/v1/examples/size")
    async def api_size(
        request: Request,
        who: Principal = Depends(require_role("viewer")),  # noqa: B008
    ) -> dict[str, int]:
        return {"size": len(await request.body())}

    @router.get("/api/v1/examples/echo")
    def api_echo(count: int, who: Principal = Depends(require_role("viewer"))) -> dict[str, int]:  # noqa: B008
        return {"count": count}

    @router.get("/examples/page", response_class=HTMLResponse)
    def page(
        request: Request,
        who: Principal = Depends(require_role("viewer")),  # noqa: B008
    ) -> Response:
        return render(request, "message.html", {"title": "Example", "detail": "for " + who.name})

    @router.post("/examples/retry")
    def console_retry(who: Principal = Depends(require_role("operator"))) -> Response:  # noqa: B008
        return RedirectResponse("/examples/page?retried=1", status_code=303)

    @router.post("/hooks/example", dependencies=[Depends(allow_anonymous)], status_code=204)
    def hook() -> None:
        return None

    return router


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str | None = None, next_: str = "/") -> Any:
    page = client.get("/login", params={"next": next_})
    form = {
        "username": username,
        "password": PASSWORDS.get(username, "") if password is None else password,
        "next": next_,
        "csrf_token": csrf_from(page.text),
    }
    return client.post("/login", data=form)


def signed_in(app: FastAPI, username: str) -> TestClient:
    """A new client (own cookie jar) signed in as ``username``; close it after use."""
    client = TestClient(app, follow_redirects=False)
    response = login(client, username)
    assert response.status_code == 303, response.text
    return client


def page_csrf(client: TestClient) -> str:
    """The CSRF token of the signed-in session, read from a page as a browser would."""
    return csrf_from(client.get("/account").text)


def token_for(ledger: sessionmaker[Session], role: str, name: str | None = None) -> str:
    with session_scope(ledger) as session:
        return issue_token(session, name=name or f"{role}-token", role=role, actor="ada").value
