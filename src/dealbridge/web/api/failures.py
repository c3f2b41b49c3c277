"""How the API answers a domain error: one problem+json status per kind of failure.

Why a route class rather than app-wide exception handlers: the app (``web/app.py``) owns the
handlers for refusals, and other routers (the console) answer the same errors with pages. Every
API route is made with ``ProblemRoute``, which turns what the ledger, the operator and the
connectors raise into an RFC 7807 answer:

- the run, error or opportunity does not exist → 404;
- FastAPI could not read the body → its status (400), as a problem too;
- the change breaks a lifecycle (retrying or editing a resolved error) → 409;
- a value breaks a rule → 422, naming the field (``errors[].loc``) as request validation does;
- Salesforce or NetSuite failed → 502; the service lacks configuration or DBOS → 503.

Authentication and role refusals are not touched here: they reach the app's own handlers. The
answer never contains the request, and a 5xx answer names the failure's class, not its text — a
configuration message can quote a URL, and URLs can hold credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from dealbridge.db.ledger_errors import InvalidTransitionError, NotInLedgerError
from dealbridge.errors import (
    ConfigError,
    ConnectorError,
    DealbridgeError,
    NotFoundError,
    ValidationError,
)
from dealbridge.web.problems import PROBLEM_JSON, problem_response
from dealbridge.web.security.roles import AuthenticationRequiredError, PermissionDeniedError

_log = structlog.get_logger("dealbridge.web.api")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

# Request validation (refusals.py) names fields as ["body", name] / ["query", name]; a domain
# ValidationError about a request field is answered the same way.
BODY = "body"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
}

_DESCRIPTIONS = {
    400: "The body could not be read (not JSON, not UTF-8)",
    401: "No valid API token (or console session)",
    403: "The token's role is too low for this",
    404: "No such run, error or opportunity",
    409: "The error's state does not allow this",
    422: "Invalid request; `errors` names each field",
    502: "Salesforce or NetSuite failed",
    503: "This process cannot do this now (not configured, or DBOS unreachable)",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem answers a route can give."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


# What every authenticated API route can answer besides its success.
GUARDED = (400, 401, 403, 422)


class BearerRequiredError(DealbridgeError):
    """A machine endpoint outside ``/api/`` was called without a bearer token (401)."""

    default_failure_type = "auth"


def problem_for(error: DealbridgeError) -> Response:
    """The problem answer for a domain error (see the module docstring)."""
    if isinstance(error, BearerRequiredError):
        return problem_response(401, error.message, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(error, NotInLedgerError | NotFoundError):
        return problem_response(404, error.user_message)
    if isinstance(error, InvalidTransitionError):
        return problem_response(409, error.user_message)
    if isinstance(error, ValidationError):
        field = {"loc": [BODY, error.field_path], "msg": error.user_message, "type": error.rule}
        return problem_response(422, error.user_message, extra={"errors": [field]})
    if isinstance(error, ConnectorError):
        _log.warning("api_remote_failed", system=error.system, error=type(error).__name__)
        return problem_response(502, f"{error.system} could not be reached or refused the call")
    _log.warning("api_unavailable", error=type(error).__name__)
    if isinstance(error, ConfigError):
        return problem_response(503, "this process is not set up for this action")
    return problem_response(503, "the action could not be completed; try again later")


class ProblemRoute(APIRoute):
    """An API route whose domain errors become problem answers (``problem_for``)."""

    def get_route_handler(self) -> Handler:
        """The usual handler, wrapped to translate what it raises."""
        handler: Handler = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handler(request)
            except (AuthenticationRequiredError, PermissionDeniedError):
                raise  # the app's refusal handlers answer these
            except DealbridgeError as error:
                return problem_for(error)
            except HTTPException as error:  # e.g. FastAPI's "error parsing the body"
                detail = error.detail if isinstance(error.detail, str) else "invalid request"
                headers = dict(error.headers) if error.headers else None
                return problem_response(error.status_code, detail, headers=headers)

        return translated
