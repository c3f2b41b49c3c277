"""``/healthz`` (the process answers) and ``/readyz`` (it can do its job), both public.

Why two: an orchestrator restarts a process whose liveness fails, but only stops routing to one
whose readiness fails — a database outage must not cause a restart loop. Neither answer names
the database or the failure's text: a connection error can contain the URL and its password.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dealbridge.web.context import RuntimeProbe, web_context
from dealbridge.web.security.roles import allow_anonymous

_log = structlog.get_logger("dealbridge.web.health")

router = APIRouter(tags=["health"], dependencies=[Depends(allow_anonymous)])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: the ledger answers and, if this process runs it, the sync runtime is ready."""
    context = web_context(request)
    checks = {"database": _database_check(request)}
    if context.runtime is not None:
        checks["runtime"] = "ok" if runtime_ready(context.runtime) else "not ready"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def _database_check(request: Request) -> str:
    try:
        with web_context(request).ledger() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        _log.warning("readyz_database_failed", error=type(exc).__name__)
        return "unreachable"
    return "ok"


def runtime_ready(runtime: Any) -> bool:
    """Whether ``runtime`` says it is ready; one without ``is_ready()`` counts as ready."""
    if not isinstance(runtime, RuntimeProbe):
        return True
    try:
        return bool(runtime.is_ready())
    except Exception as exc:
        _log.warning("readyz_runtime_failed", error=type(exc).__name__)
        return False
