"""Login, logout, the account page and ``/api/v1/whoami``.

The login form posts username, password, ``next`` and the CSRF token (checked by the CSRF
middleware before this code runs). Success starts a new session (new id and CSRF token) and
redirects to ``next`` if it is a path on this site. Every failure gets the same words, so the page
does not reveal whether a username exists or is locked; a throttled address gets 429.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dealbridge.web.context import WebContext, ledger_session, web_context
from dealbridge.web.pages import render
from dealbridge.web.security.authentication import (
    Authenticator,
    LoginAttempt,
    LoginPolicy,
    logout_audit,
)
from dealbridge.web.security.passwords import MAX_PASSWORD_LENGTH
from dealbridge.web.security.redirects import safe_next
from dealbridge.web.security.roles import (
    Principal,
    allow_anonymous,
    optional_principal,
    require_role,
)
from dealbridge.web.security.session_cookie import request_session
from dealbridge.web.security.sessions import password_fingerprint

_log = structlog.get_logger("dealbridge.web.login")

FAILED = (
    "Sign-in failed. Check your username and password. After {attempts} failed attempts, "
    "sign-in is paused for {minutes} minutes."
)
THROTTLED = "Too many failed sign-ins from your network. Try again in {minutes} minutes."

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["session"])

PrincipalDep = Annotated[Principal, Depends(require_role("viewer"))]
LedgerDep = Annotated[Session, Depends(ledger_session)]


class WhoAmI(BaseModel):
    """The caller, as the API sees it."""

    kind: str
    name: str
    role: str


@router.get("/login", dependencies=[Depends(allow_anonymous)], response_class=HTMLResponse)
def login_page(
    request: Request,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    next: str = "/",
) -> Response:
    """The login form; someone already signed in goes straight on."""
    target = safe_next(next)
    if principal is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", {"next": target, "username": "", "error": None})


@router.post("/login", dependencies=[Depends(allow_anonymous)], response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: LedgerDep,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the credentials; on success start a session and redirect."""
    context = web_context(request)
    attempt = LoginAttempt(username.strip(), password, _address(request), context.clock())
    result = _authenticator(context).attempt(session, attempt)
    _log.info("login", username=attempt.username, address=attempt.address, outcome=result.outcome)
    if result.user is not None:
        fingerprint = password_fingerprint(result.user.password_hash)
        request_session(request.scope).sign_in(result.user.id, fingerprint)
        return RedirectResponse(safe_next(next), status_code=303)
    return _failure_page(request, context, attempt.username, safe_next(next), result.outcome)


@router.post("/logout", dependencies=[Depends(allow_anonymous)])
def logout(
    request: Request,
    session: LedgerDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Response:
    """End the session (POST with the CSRF token, so another site cannot sign you out)."""
    if principal is not None and principal.kind == "user":
        logout_audit(session, principal.name, _address(request))
        _log.info("logout", username=principal.name)
    request_session(request.scope).sign_out()
    return RedirectResponse("/login", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, principal: PrincipalDep) -> Response:
    """Who is signed in, with which role."""
    return render(request, "account.html", {"principal": principal})


@router.get("/", dependencies=[Depends(require_role("viewer"))])
def home() -> Response:
    """Until a dashboard claims ``/`` (routers passed to ``create_web_app`` come first)."""
    return RedirectResponse("/account", status_code=303)


@api_router.get("/whoami", response_model=WhoAmI)
def whoami(principal: PrincipalDep) -> WhoAmI:
    """The caller's identity and role (any valid session or token)."""
    return WhoAmI(kind=principal.kind, name=principal.name, role=principal.role)


def _authenticator(context: WebContext) -> Authenticator:
    policy = LoginPolicy.from_settings(context.settings.web)
    return Authenticator(context.passwords, policy, context.ip_failures)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _failure_page(
    request: Request, context: WebContext, username: str, target: str, outcome: str
) -> Response:
    web = context.settings.web
    if outcome == "throttled":
        error, status = THROTTLED.format(minutes=web.lockout_minutes), 429
    else:
        error, status = (
            FAILED.format(attempts=web.lockout_attempts, minutes=web.lockout_minutes),
            401,
        )
    page = {"next": target, "username": username, "error": error}
    return render(request, "login.html", page, status_code=status)
