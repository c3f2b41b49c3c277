"""Fail closed: every route must say who may call it, or the app refuses to start.

Why: a page or endpoint added later without ``require_role`` would be public by accident. Each
``APIRoute`` must depend (directly, or through its router) on a ``RoleGuard`` or on
``allow_anonymous``; ``create_web_app`` checks after building the app and again at startup, so a
router included later is checked too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from dealbridge.errors import ConfigError
from dealbridge.web.security.roles import RoleGuard, allow_anonymous


def unguarded_routes(app: FastAPI) -> list[str]:
    """``METHOD path`` of every API route that declares neither a role nor public access."""
    missing: list[str] = []
    for route in _api_routes(app):
        if not _guarded(getattr(route, "dependant", None)):
            methods = sorted(getattr(route, "methods", None) or ())
            missing.extend(f"{method} {getattr(route, 'path', '?')}" for method in methods)
    return missing


def check_routes_guarded(app: FastAPI) -> None:
    """Raise ``ConfigError`` naming each unguarded route."""
    missing = unguarded_routes(app)
    if missing:
        raise ConfigError(
            "routes without require_role(...) or allow_anonymous: " + ", ".join(missing)
        )


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route with the dependencies it runs with, included routers' ones too.

    FastAPI 0.16x keeps included routers as lazy groups whose effective routes (with the
    dependencies given to ``include_router``) only ``iter_route_contexts`` reveals; older
    versions copy each route into ``app.routes``.
    """
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    contexts = iterate(app.routes) if iterate is not None else app.routes
    for context in contexts:
        if isinstance(getattr(context, "original_route", context), APIRoute):
            yield context


def _guarded(dependant: Dependant | None) -> bool:
    if dependant is None:
        return False
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleGuard) or dependency.call is allow_anonymous:
            return True
        if _guarded(dependency):
            return True
    return False
