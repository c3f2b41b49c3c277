"""The operations console: server-rendered pages for people (issue 6).

``routers`` is what ``create_web_app(routers=[...])`` takes. One module per page group —
``dashboard``, ``runs``, ``errors``, ``flows``, ``connections``, ``reconciliation``, ``audit`` —
each declaring the least role of every route (viewer reads, operator acts, admin audits).
Templates are under ``web/templates/console``; the only script is ``web/static/console.js``.
"""

from __future__ import annotations

from fastapi import APIRouter

from dealbridge.web.console import (
    audit,
    connections,
    dashboard,
    errors,
    flows,
    reconciliation,
    runs,
)
from dealbridge.web.console.formatting import install_filters
from dealbridge.web.pages import templates

install_filters(templates.env)

routers: list[APIRouter] = [
    dashboard.router,
    runs.router,
    errors.router,
    flows.router,
    connections.router,
    reconciliation.router,
    audit.router,
]

__all__ = ["routers"]
