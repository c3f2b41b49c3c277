"""``/connections``: each system's latest check, and a button to check it again now.

A check is one cheap authenticated call (``sync.connection_check``). Its outcome is written to
the audit log (action ``connection.test``) rather than kept in memory: the dashboard and every
web node then show the same "last check, last error", it survives a restart, and who tested
what, when, is on record. The error text was already stripped of configured secrets by the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dealbridge.db.audit import audit, list_audit
from dealbridge.sync.connection_check import SYSTEMS, check_netsuite, check_salesforce
from dealbridge.web.console.common import LedgerSession, OperatorRole, Viewer, release
from dealbridge.web.context import web_context
from dealbridge.web.pages import render

TEST_ACTION = "connection.test"
TARGET = "connection"
# Recent entries scanned for each system's latest check.
HISTORY_SCAN = 50
LABELS = {"salesforce": "Salesforce", "netsuite": "NetSuite"}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class LastCheck:
    """One system's most recent check, or ``None`` fields when it was never checked."""

    system: str
    ok: bool | None = None
    latency_ms: float | None = None
    checked_at: datetime | None = None
    error: str | None = None
    by: str | None = None

    @property
    def label(self) -> str:
        """The system's name for people."""
        return LABELS.get(self.system, self.system)


def latest_checks(session: Session) -> list[LastCheck]:
    """The newest check of each system, in ``SYSTEMS`` order."""
    found: dict[str, LastCheck] = {}
    for entry in list_audit(session, limit=HISTORY_SCAN, action=TEST_ACTION):
        system = str(entry.target_id)
        if system in found or system not in SYSTEMS:
            continue
        detail: dict[str, Any] = entry.detail
        latency = detail.get("latency_ms")
        found[system] = LastCheck(
            system=system,
            ok=bool(detail.get("ok")),
            latency_ms=float(latency) if isinstance(latency, int | float) else None,
            checked_at=entry.at,
            error=detail.get("error") if isinstance(detail.get("error"), str) else None,
            by=entry.actor,
        )
    return [found.get(system, LastCheck(system)) for system in SYSTEMS]


@router.get("/connections", response_class=HTMLResponse)
def connections_page(
    request: Request, who: Viewer, session: LedgerSession, tested: str | None = None
) -> Response:
    """The latest check of each system; after a test, its outcome as a notice or an alert."""
    checks = latest_checks(session)
    result = next((check for check in checks if check.system == tested), None)
    page = {"checks": checks, "result": result, "can_act": who.has_role("operator")}
    return render(request, "console/connections.html", page)


@router.post("/connections/{system}/test")
async def test_connection(
    request: Request, system: str, who: OperatorRole, session: LedgerSession
) -> Response:
    """Check one system now, record the outcome, and show it."""
    settings = web_context(request).settings
    if system == "salesforce":
        release(session)  # no ledger lock held while waiting on the network
        status = await check_salesforce(settings.salesforce)
    elif system == "netsuite":
        release(session)
        status = await check_netsuite(settings.netsuite)
    else:
        context = {"title": "Not found", "detail": f"There is no connection called {system!r}."}
        return render(request, "message.html", context, status_code=404)
    detail = status.as_dict()
    audit(session, who.actor, TEST_ACTION, target_type=TARGET, target_id=system, detail=detail)
    return RedirectResponse(f"/connections?tested={system}", status_code=303)
