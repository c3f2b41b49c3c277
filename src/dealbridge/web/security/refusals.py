"""How the app answers a request that is not allowed: one place for every refusal.

Anonymous: a person at the console is sent to the login page and brought back afterwards (303 to
``/login?next=…``); a program (``/api/…`` or any ``Authorization`` header) gets a 401 problem
with ``WWW-Authenticate: Bearer``. Too low a role: 403, as a page or a problem. Invalid input:
422 naming each field and what is wrong with it, but never the value — FastAPI's default answer
echoes the input, which for a login form is the password.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import RedirectResponse, Response

from dealbridge.web.problems import message_page, problem_response, wants_problem_json
from dealbridge.web.security.redirects import login_url
from dealbridge.web.security.roles import AuthenticationRequiredError, PermissionDeniedError


def install_refusals(app: FastAPI) -> None:
    """Register the handlers for ``AuthenticationRequiredError`` and ``PermissionDeniedError``."""
    app.add_exception_handler(AuthenticationRequiredError, _authentication_required)
    app.add_exception_handler(PermissionDeniedError, _permission_denied)
    app.add_exception_handler(RequestValidationError, _invalid_request)


async def _authentication_required(request: Request, exc: Exception) -> Response:
    if wants_problem_json(request.scope):
        detail = str(exc) or "authentication required"
        return problem_response(401, detail, headers={"WWW-Authenticate": "Bearer"})
    return RedirectResponse(login_url(request.url.path, request.url.query), status_code=303)


async def _permission_denied(request: Request, exc: Exception) -> Response:
    if wants_problem_json(request.scope):
        return problem_response(403, str(exc))
    from dealbridge.web.pages import render  # late: pages imports the CSRF helpers

    context = {"title": "Not allowed", "detail": f"{str(exc).capitalize()}."}
    return render(request, "message.html", context, status_code=403)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    fields = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in errors
    ]
    if wants_problem_json(request.scope):
        return problem_response(422, "the request is invalid", extra={"errors": fields})
    names = ", ".join(str(field["loc"][-1]) for field in fields if field["loc"]) or "the form"
    return message_page(422, f"Please check {names}: a value is missing or too long.")
