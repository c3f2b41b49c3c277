"""Error answers: RFC 7807 problem JSON for the API and machines, a short page for people.

Why one module: the security middleware, the auth dependencies and the API all refuse requests,
and each refusal must look the same and must never echo the request back (it may hold secrets).
"""

from __future__ import annotations

from html import escape
from http import HTTPStatus
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"


def wants_problem_json(scope: Scope) -> bool:
    """Whether the caller is a program: an ``/api/`` path or an ``Authorization`` header."""
    path = str(scope.get("path", ""))
    headers = dict(scope.get("headers") or [])
    return path.startswith(API_PREFIX) or b"authorization" in headers


def problem_response(
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """An RFC 7807 answer: ``{"type", "title", "status", "detail"}`` plus ``extra`` members."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def message_page(status: int, detail: str) -> HTMLResponse:
    """A minimal standalone page; used where templates may not be available (middleware)."""
    title = escape(HTTPStatus(status).phrase)
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title} · dealbridge</title>"
        '<link rel="stylesheet" href="/static/dealbridge.css"></head>'
        f'<body><main class="narrow"><h1>{title}</h1><p>{escape(detail)}</p>'
        '<p><a href="/">Back to the console</a></p></main></body></html>'
    )
    return HTMLResponse(html, status_code=status)


def refusal(scope: Scope, status: int, detail: str) -> Response:
    """The right kind of refusal for this caller."""
    if wants_problem_json(scope):
        return problem_response(status, detail)
    return message_page(status, detail)
