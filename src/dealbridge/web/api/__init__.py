"""The REST API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``) and ``/metrics``.

``routers`` is what ``create_web_app(settings, routers=[...])`` takes; every route declares its
role (viewer reads; operator retries, resolves, edits and syncs). Errors are problem+json
(``failures``); actions go through ``sync.operator`` on the request's transaction
(``operations``).
"""

from __future__ import annotations

from fastapi import APIRouter

from dealbridge.web.api import deals, errors, metrics, runs, status

routers: list[APIRouter] = [
    runs.router,
    errors.router,
    deals.router,
    status.router,
    metrics.router,
]

__all__ = ["routers"]
