"""Server-rendered pages: one Jinja2 environment and a ``render`` that every page goes through.

Why ``render`` and not ``TemplateResponse`` directly: it adds what ``base.html`` needs on every
page — the CSRF token for forms and scripts, and the signed-in principal for the header — so no
page can forget them. Templates live in ``web/templates`` and extend ``base.html``; autoescaping
is on for every template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from dealbridge.web.security.csrf import FIELD_NAME, csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with ``context`` plus ``csrf_token``, ``csrf_field`` and ``principal``.

    Args:
        request: The request being answered.
        template: A path under ``web/templates``, e.g. ``"login.html"``.
        context: The page's own variables.
        status_code: The HTTP status.
    """
    values = {
        "csrf_token": csrf_token(request),
        "csrf_field": FIELD_NAME,
        "principal": getattr(request.state, "principal", None),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, values, status_code=status_code)
