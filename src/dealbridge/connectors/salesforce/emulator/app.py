"""The emulator's HTTP app: REST under ``/services/data``, OAuth, and the test hooks beside it.

Every REST call goes through one pipeline, in Salesforce's order as far as a client can tell:
API version (404/410), latency, session (401 ``INVALID_SESSION_ID``), the daily allocation (403
``REQUEST_LIMIT_EXCEEDED``; a counted call otherwise), injected faults, then the resource's
handler (``dispatch.router``). Each answer carries ``Sforce-Limit-Info`` — every one except the
unauthenticated version list (contracts §1.7). Errors are JSON arrays (§1.8); a bug in the
emulator leaves as Salesforce's 500 ``UNKNOWN_EXCEPTION``, logged to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Importing the routes_* modules registers their handlers on dispatch.router.
from dealbridge.connectors.salesforce.emulator import (  # noqa: F401
    routes_collections,
    routes_composite,
    routes_org,
    routes_query,
    routes_sobjects,
)
from dealbridge.connectors.salesforce.emulator.auth import bearer_token
from dealbridge.connectors.salesforce.emulator.control import router as control_router
from dealbridge.connectors.salesforce.emulator.dispatch import RestCall, RestReply, router
from dealbridge.connectors.salesforce.emulator.limits import UNKNOWN_EXCEPTION
from dealbridge.connectors.salesforce.emulator.routes_oauth import router as oauth_router
from dealbridge.connectors.salesforce.emulator.state import SalesforceEmulatorState, state_of
from dealbridge.connectors.salesforce.emulator.wire import (
    SalesforceApiError,
    parse_version,
    versions_body,
)
from dealbridge.connectors.salesforce.models import (
    DATA_PATH,
    INVALID_SESSION_ID,
    error_array,
)

_log = logging.getLogger(__name__)
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
SESSION_EXPIRED = "Session expired or invalid"  # §2
MAX_BODY_BYTES = 50 * 1024 * 1024


async def list_versions() -> JSONResponse:
    """``GET /services/data/``: no session needed, no ``Sforce-Limit-Info`` (§1.1, §1.7)."""
    return JSONResponse(versions_body())


async def rest_call(request: Request, rest: str) -> Response:
    """Any REST resource under ``/services/data/vNN.0/``; HEAD is GET without the body."""
    state = state_of(request)
    version_segment, _, path = rest.partition("/")
    try:
        version = parse_version(version_segment)
        latency = state.governor.latency_seconds()
        if latency > 0:
            await asyncio.sleep(latency)
        _authenticate(request, state)
        state.governor.count_call()
        state.governor.inject_fault(request.method)
        call = RestCall(
            method="GET" if request.method == "HEAD" else request.method,
            path="/" + path,
            api_version=version,
            params=dict(request.query_params),
            headers={name.lower(): value for name, value in request.headers.items()},
            state=state,
            raw_body=await _read_body(request),
        )
        reply = router.dispatch(call)
    except SalesforceApiError as error:
        reply = RestReply(error.status, error.body(), error.headers)
    return _response(reply, state)


async def _read_body(request: Request) -> bytes:
    """The body, refused past :data:`MAX_BODY_BYTES` before it is all read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> SalesforceApiError:
    # Salesforce caps REST bodies (documented figures vary by resource); the status and code it
    # answers with are UNCONFIRMED, 413 is HTTP's own.
    return SalesforceApiError(
        413, "REQUEST_TOO_LARGE", f"The request body exceeds {MAX_BODY_BYTES} bytes."
    )


def _authenticate(request: Request, state: SalesforceEmulatorState) -> None:
    """A live session or 401 — whose body must be an array (simple-salesforce reads [0], §2.1)."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None or not state.tokens.check(token):
        state.governor.stats.auth_failures["no session" if token is None else "session"] += 1
        raise SalesforceApiError(401, INVALID_SESSION_ID, SESSION_EXPIRED)


def _response(reply: RestReply, state: SalesforceEmulatorState) -> Response:
    headers = {**reply.headers, **state.governor.limit_header()}
    if reply.body is None:
        return Response(status_code=reply.status, headers=headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=headers)


class StatsMiddleware:
    """Counts responses by status and turns an emulator crash into Salesforce's 500."""

    def __init__(self, app: ASGIApp, state: SalesforceEmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; record its status unless it is a control-API call."""
        if scope["type"] != "http" or not scope.get("path", "").startswith("/services/"):
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception:
            if status:
                raise
            _log.exception("emulator error on %s %s", scope.get("method"), scope.get("path"))
            body = error_array(UNKNOWN_EXCEPTION, "An unexpected error occurred in the emulator.")
            await JSONResponse(body, status_code=500)(scope, receive, recording_send)
        finally:
            if status:
                self.state.governor.stats.by_status[status[0]] += 1


def _report_sender_crash(task: asyncio.Task[None]) -> None:
    """A dead sender would silently stop Outbound Messages: say so on stderr."""
    if not task.cancelled() and task.exception() is not None:
        _log.error("the Outbound Message sender stopped", exc_info=task.exception())


def create_app(state: SalesforceEmulatorState) -> FastAPI:
    """The ASGI app of one emulator; its lifespan runs the Outbound Message sender."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(state.sender.run(), name="outbound-sender")
        task.add_done_callback(_report_sender_crash)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="Salesforce emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    app.state.emulator = state
    app.add_api_route(DATA_PATH, list_versions, methods=["GET"])
    app.add_api_route(DATA_PATH + "/", list_versions, methods=["GET"])
    app.add_api_route(DATA_PATH + "/{rest:path}", rest_call, methods=_METHODS)
    app.include_router(oauth_router)
    app.include_router(control_router)
    app.add_middleware(StatsMiddleware, state=state)
    return app
