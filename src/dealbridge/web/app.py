"""The web application: console, API and health endpoints behind one security setup.

``create_web_app`` builds a FastAPI app whose every request passes, outermost first:
security headers → body size cap → session cookie → CSRF check → the route, whose
``require_role`` dependency resolves the caller. Routers from other modules are added with the
``routers`` argument (they take precedence over the built-in fallbacks such as ``/``) or with
``app.include_router`` before serving; either way each route must declare ``require_role(...)``
or ``allow_anonymous`` (``security/coverage.py``) or the app refuses to start.

Swagger UI and ReDoc are off (they load scripts from a CDN, which the Content-Security-Policy
forbids); the OpenAPI document is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from dealbridge.db.session import engine_for, make_session_factory
from dealbridge.db.timestamps import utc_now
from dealbridge.settings import Settings
from dealbridge.web import health
from dealbridge.web.context import WebContext
from dealbridge.web.pages import STATIC_DIR
from dealbridge.web.security import login
from dealbridge.web.security.authentication import LoginPolicy
from dealbridge.web.security.coverage import check_routes_guarded
from dealbridge.web.security.csrf import CsrfMiddleware
from dealbridge.web.security.headers import BodyLimitMiddleware, SecurityHeadersMiddleware
from dealbridge.web.security.passwords import Passwords
from dealbridge.web.security.refusals import install_refusals
from dealbridge.web.security.secret import session_secret
from dealbridge.web.security.session_cookie import SessionMiddleware
from dealbridge.web.security.sessions import SessionCodec

# Inbound notifications: authenticated by their own shared secret, no session cookie, their own
# body limit (``webhook_max_bytes``).
HOOKS_PREFIX = "/hooks/"
DEFAULT_CSRF_EXEMPT = (HOOKS_PREFIX,)


def create_web_app(
    settings: Settings,
    *,
    runtime: Any = None,
    routers: Sequence[APIRouter] = (),
    csrf_exempt_prefixes: Sequence[str] = DEFAULT_CSRF_EXEMPT,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """Build the web app.

    Args:
        settings: All settings (``web`` for the server, ``database_url`` for the ledger).
        runtime: The sync runtime when this process runs one; ``/readyz`` asks its
            ``is_ready()``, routes reach it as ``web_context(request).runtime``.
        routers: Routers to serve (console pages, API endpoints, hooks), included first.
        csrf_exempt_prefixes: Path prefixes whose unsafe requests skip the CSRF check.
        clock: The current time; tests pass a fake one.

    Raises:
        ConfigError: A route declares neither ``require_role`` nor ``allow_anonymous``.
    """
    context = build_context(settings, runtime=runtime, clock=clock)
    app = FastAPI(
        title="dealbridge",
        summary="Closed Won deals from Salesforce CPQ into NetSuite, exactly once.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_lifespan,
    )
    app.state.dealbridge = context
    install_refusals(app)
    for router in (*routers, health.router, login.router, login.api_router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_middleware(app, settings, context, csrf_exempt_prefixes)
    check_routes_guarded(app)
    return app


def build_context(
    settings: Settings, *, runtime: Any = None, clock: Callable[[], datetime] = utc_now
) -> WebContext:
    """The shared services of one app: ledger sessions, session codec, hasher, throttle."""
    web = settings.web
    codec = SessionCodec(
        secret=session_secret(settings),
        idle=timedelta(minutes=web.session_idle_minutes),
        max_age=timedelta(hours=web.session_max_hours),
        clock=clock,
    )
    return WebContext(
        settings=settings,
        ledger=make_session_factory(engine_for(settings.resolved_database_url())),
        codec=codec,
        passwords=Passwords(),
        ip_failures=LoginPolicy.from_settings(web).address_counter(),
        runtime=runtime,
        clock=clock,
    )


def _add_middleware(
    app: FastAPI, settings: Settings, context: WebContext, exempt: Sequence[str]
) -> None:
    """Innermost first: Starlette wraps each new middleware around the previous ones."""
    app.add_middleware(CsrfMiddleware, exempt_prefixes=tuple(exempt))
    app.add_middleware(
        SessionMiddleware, codec=context.codec, secure_cookies=settings.web.secure_cookies
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.web.max_body_bytes,
        prefix_limits={HOOKS_PREFIX: settings.webhook_max_bytes},
    )
    app.add_middleware(SecurityHeadersMiddleware)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At startup, check routers included after ``create_web_app`` too."""
    check_routes_guarded(app)
    yield
