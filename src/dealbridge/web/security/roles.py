"""Who is asking, and may they: roles as FastAPI dependencies for console and API alike.

Roles are ordered admin > operator > viewer: a viewer reads, an operator also acts on deals
(retry, resolve, edit-and-retry), an admin also manages users and tokens. A route declares the
least role it needs with ``Depends(require_role("operator"))`` and receives the ``Principal``.

Two ways in, never mixed: a request with an ``Authorization`` header is judged by that header
alone (``Bearer dbt_…``; anything else is refused, the session cookie is not consulted, so a bad
token cannot fall back to a browser's session); a request without one is judged by its session
cookie, and the user row is re-read every time (disabled users and changed passwords take effect
at once, and the role is never taken from the cookie).

This module does not use ``from __future__ import annotations``: FastAPI reads the signature of
``RoleGuard.__call__`` at runtime, and an instance has no globals to resolve string annotations.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from dealbridge.db import users
from dealbridge.db.models import ROLES
from dealbridge.errors import ConfigError, DealbridgeError
from dealbridge.web.context import ledger_session
from dealbridge.web.security.session_cookie import request_session
from dealbridge.web.security.sessions import password_fingerprint, same_secret
from dealbridge.web.security.tokens import authenticate_token

# Declares the bearer scheme in the OpenAPI document; the header itself is read below, so a
# malformed one gets our 401 problem rather than FastAPI's 403.
BEARER = HTTPBearer(auto_error=False, bearerFormat="dbt_…", description="An API token")
# The ledger lists roles strongest first: admin > operator > viewer.
ROLE_RANK = {role: rank for rank, role in enumerate(reversed(ROLES), start=1)}


@dataclass(frozen=True)
class Principal:
    """The user or API token behind a request.

    Attributes:
        kind: ``"user"`` (console session) or ``"token"`` (API bearer token).
        id: The user's or the token's id.
        name: The username, or the token's name.
        role: ``admin``, ``operator`` or ``viewer``.
    """

    kind: Literal["user", "token"]
    id: int
    name: str
    role: str

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return self.name if self.kind == "user" else f"token:{self.name}"

    def has_role(self, minimum: str) -> bool:
        """Whether this principal's role is ``minimum`` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum]


class AuthenticationRequiredError(DealbridgeError):
    """No valid session or token: console pages redirect to login, the API answers 401."""

    default_failure_type = "auth"


class PermissionDeniedError(DealbridgeError):
    """Signed in, but the role is too low: 403."""

    default_failure_type = "auth"


def resolve_principal(request: Request, session: Session) -> Principal | None:
    """The principal of ``request``; ``AuthenticationRequiredError`` for a bad bearer token."""
    header = request.headers.get("authorization")
    if header is not None:
        return _token_principal(session, header)
    return _session_principal(request, session)


def _token_principal(session: Session, header: str) -> Principal:
    scheme, _, value = header.partition(" ")
    token = authenticate_token(session, value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise AuthenticationRequiredError("the API token is missing, unknown or revoked")
    return Principal(kind="token", id=token.id, name=token.name, role=token.role)


def _session_principal(request: Request, session: Session) -> Principal | None:
    browser = request_session(request.scope)
    state = browser.state
    if state is None or state.user_id is None:
        return None
    user = users.get_user_by_id(session, state.user_id)
    fingerprint = password_fingerprint(user.password_hash) if user else ""
    if user is None or user.disabled or not same_secret(fingerprint, state.fingerprint or ""):
        browser.sign_out()
        return None
    return Principal(kind="user", id=user.id, name=user.username, role=user.role)


class RoleGuard:
    """The dependency ``require_role`` returns; the route guard check looks for it."""

    def __init__(self, role: str) -> None:
        if role not in ROLE_RANK:
            raise ConfigError(f"unknown role {role!r}; expected one of {', '.join(ROLE_RANK)}")
        self.role = role

    def __call__(
        self,
        request: Request,
        session: Annotated[Session, Depends(ledger_session)],
        _documented: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    ) -> Principal:
        """Resolve the principal and check the role; raises to refuse."""
        principal = resolve_principal(request, session)
        if principal is None:
            raise AuthenticationRequiredError("sign in first")
        request.state.principal = principal  # the refusal page still shows who is signed in
        if not principal.has_role(self.role):
            raise PermissionDeniedError(
                f"your role ({principal.role}) cannot do this; it needs {self.role}"
            )
        return principal


_GUARDS = {role: RoleGuard(role) for role in ROLE_RANK}


def require_role(role: str) -> RoleGuard:
    """The dependency admitting ``role`` and above, e.g. ``Depends(require_role("operator"))``.

    One shared instance per role, so FastAPI resolves the principal once per request even when
    a router and its route both ask.
    """
    guard = _GUARDS.get(role)
    if guard is None:
        raise ConfigError(f"unknown role {role!r}; expected one of {', '.join(ROLE_RANK)}")
    return guard


def allow_anonymous() -> None:
    """Marks a route as deliberately public (login page, health, webhooks); does nothing else."""


def optional_principal(
    request: Request, session: Annotated[Session, Depends(ledger_session)]
) -> Principal | None:
    """The principal if there is a valid one, else ``None`` (pages that greet visitors)."""
    try:
        return resolve_principal(request, session)
    except AuthenticationRequiredError:
        return None
