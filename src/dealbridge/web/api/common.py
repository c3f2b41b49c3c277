"""What every ``/api/v1`` router shares: its prefix, route class, guards and bounds.

Each router guards all its routes at once (``dependencies=[Depends(require_role(...))]``) and
routes that need more ask for ``OperatorRole`` themselves; the app refuses to start if any route
has no guard at all (``security/coverage.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from dealbridge.web.api.failures import GUARDED, ProblemRoute, problem_responses
from dealbridge.web.context import ledger_session
from dealbridge.web.security.roles import Principal, require_role

API_PREFIX = "/api/v1"
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 1_000_000
# Error ids are 32-bit in PostgreSQL; a larger number is refused as invalid, not sent to it.
MAX_ERROR_ID = 2_147_483_647
SALESFORCE_ID_PATTERN = r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$"

ViewerRole = Annotated[Principal, Depends(require_role("viewer"))]
OperatorRole = Annotated[Principal, Depends(require_role("operator"))]
LedgerSession = Annotated[Session, Depends(ledger_session)]


def api_router(tag: str, *, role: str = "viewer") -> APIRouter:
    """A router under ``/api/v1`` whose routes need at least ``role`` and answer problems."""
    return APIRouter(
        prefix=API_PREFIX,
        tags=[tag],
        route_class=ProblemRoute,
        dependencies=[Depends(require_role(role))],
        responses=problem_responses(*GUARDED),
    )
