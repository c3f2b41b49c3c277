"""The emulator's HTTP app: SuiteTalk REST under ``/services/rest``, test hooks beside it.

Layers, outside in: :class:`~.faults.GovernanceMiddleware` (concurrency pool, latency, faults),
the routes, then for everything but the token endpoint the :func:`authenticate` dependency.
Every error under ``/services/rest`` leaves in NetSuite's RFC 7807 shape (contracts §5); the
token endpoint speaks OAuth's own error shape (RFC 6749 §5.2).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dealbridge.connectors.netsuite.emulator import record_routes
from dealbridge.connectors.netsuite.emulator.config import EmulatorOptions
from dealbridge.connectors.netsuite.emulator.control import router as control_router
from dealbridge.connectors.netsuite.emulator.faults import GovernanceMiddleware
from dealbridge.connectors.netsuite.emulator.oauth2 import OAuthError, parse_form
from dealbridge.connectors.netsuite.emulator.paging import PageRequest, page_body, page_url
from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.state import EmulatorState, state_of
from dealbridge.connectors.netsuite.emulator.suiteql_engine import execute_suiteql
from dealbridge.connectors.netsuite.emulator.wire import (
    COLLECTION,
    DEFAULT_MAX_BODY_BYTES,
    base_url,
    problem_response,
    read_body,
    read_json,
    received_request,
    resource_response,
)
from dealbridge.connectors.netsuite.models import (
    GOVERNANCE_PATH,
    INVALID_CONTENT,
    REST_PREFIX,
    SUITEQL_MAX_PAGE,
    SUITEQL_MAX_ROWS,
    SUITEQL_PATH,
    TOKEN_PATH,
    USER_ERROR,
)

State = Annotated[EmulatorState, Depends(state_of)]
# Codes for routing errors: what NetSuite sends for an unknown URL or method is UNCONFIRMED.
# They are deliberately not NONEXISTENT_ID, which a client reads as "no such record".
INVALID_URL = "INVALID_URL"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


async def authenticate(request: Request, state: State) -> None:
    """Let TBA-signed or bearer-token requests through; anything else gets 401 (§7)."""
    state.authenticator.authenticate(received_request(request))


token_router = APIRouter()
rest_router = APIRouter(dependencies=[Depends(authenticate)])


@token_router.post(TOKEN_PATH)
async def issue_token(request: Request, state: State) -> JSONResponse:
    """``POST auth/oauth2/v1/token``: a bearer token for a valid client assertion (§7.2)."""
    try:
        form = parse_form(await read_body(request), request.headers.get("content-type", ""))
        state.assertions.verify(form, token_url=f"{base_url(request)}{TOKEN_PATH}")
    except OAuthError as refusal:
        return JSONResponse(refusal.body(), status_code=refusal.status, headers=_NO_STORE)
    lifetime = state.governor.settings.token_lifetime_seconds
    token = state.tokens.issue(lifetime)
    # Whether NetSuite sends expires_in as a string or a number is UNCONFIRMED (§7.2); RFC 6749
    # §5.1 makes it a number, so an int, rounded down so a client never overestimates it.
    payload = {"access_token": token, "expires_in": int(lifetime), "token_type": "Bearer"}
    return JSONResponse(payload, headers=_NO_STORE)


@rest_router.post(SUITEQL_PATH)
async def run_suiteql(request: Request, state: State) -> JSONResponse:
    """``POST query/v1/suiteql?limit&offset`` with ``{"q": …}`` (§4).

    ``Prefer: transient`` is in Oracle's example and every client sends it; what NetSuite does
    without it is UNCONFIRMED, so it is not required here.
    """
    params = request.query_params
    page = PageRequest.parse(params.get("limit"), params.get("offset"), SUITEQL_MAX_PAGE)
    query = _query_text(await read_json(request))
    rows = execute_suiteql(query, state.records.rows, columns_for=state.records.columns)
    if len(rows) > SUITEQL_MAX_ROWS:
        # §4: at most 100,000 rows per query; MuleSoft says NetSuite errors past it.
        raise NetSuiteProblem(
            400,
            USER_ERROR,
            f"The query returns more than {SUITEQL_MAX_ROWS} rows. Narrow it, or page by key "
            "with WHERE id > :last ORDER BY id.",
        )
    items = [{"links": [], **row} for row in rows[page.offset : page.offset + page.limit]]
    url = f"{base_url(request)}{SUITEQL_PATH}"
    body = page_body(page, len(rows), items, lambda offset: page_url(url, params, page, offset))
    return resource_response(body, COLLECTION)


def _query_text(body: object) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("q"), str) or not body["q"].strip():
        raise NetSuiteProblem(
            400,
            INVALID_CONTENT,
            'The request body must be a JSON object with a "q" string.',
            error_path="q",
        )
    query: str = body["q"]
    return query


@rest_router.get(GOVERNANCE_PATH)
async def governance_limits(state: State) -> JSONResponse:
    """``GET system/v1/governanceLimits`` (Oracle help article_0625010817, contracts §6).

    No integration has its own allocation here, so the whole pool is unallocated.
    """
    limit = state.governor.settings.concurrency_limit
    return resource_response(
        {
            "accountConcurrencyLimit": limit,
            "accountUnallocatedConcurrencyLimit": limit,
            "integrationLimitType": "accountLimit",
        }
    )


async def _problem_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, NetSuiteProblem):  # pragma: no cover - registered for that type
        raise exc
    return problem_response(exc)


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    """Routing errors in NetSuite's shape under ``/services/rest``, FastAPI's elsewhere."""
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    if not request.url.path.startswith(REST_PREFIX + "/"):
        return await http_exception_handler(request, exc)
    if exc.status_code == 404:
        problem = NetSuiteProblem(
            404, INVALID_URL, f"The URL {request.url.path} does not name a resource."
        )
    elif exc.status_code == 405:
        problem = NetSuiteProblem(
            405,
            record_routes.METHOD_NOT_ALLOWED,
            f"The {request.method} method is not supported here.",
            headers=dict(exc.headers or {}),
        )
    else:
        problem = NetSuiteProblem(
            exc.status_code, USER_ERROR, str(exc.detail), headers=dict(exc.headers or {})
        )
    return problem_response(problem)


def create_app(
    options: EmulatorOptions, state: EmulatorState, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> FastAPI:
    """The ASGI app of one emulator.

    Args:
        options: How the emulator was started (``state`` was built from them).
        state: Records, credentials, sessions and governance of this instance.
        max_body_bytes: Request bodies above this get 413 (NetSuite's own cap is 104 MB).
    """
    app = FastAPI(
        title=f"NetSuite emulator ({options.account})",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.emulator = state
    app.state.max_body_bytes = max_body_bytes
    app.add_exception_handler(NetSuiteProblem, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.include_router(token_router, prefix=REST_PREFIX)
    app.include_router(
        record_routes.router, prefix=REST_PREFIX, dependencies=[Depends(authenticate)]
    )
    app.include_router(rest_router, prefix=REST_PREFIX)
    app.include_router(control_router)
    app.add_middleware(GovernanceMiddleware, governor=state.governor)
    return app
