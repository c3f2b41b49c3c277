"""``/audit``: who did what, when — every console, API and CLI action (admins only).

Entries are written by the actions themselves (``db.audit``); this page only lists them, newest
first, filterable by actor and action. The detail column shows the entry's facts as stored;
nothing secret is ever put there (passwords and token values are never audited).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from dealbridge.db.audit import list_audit
from dealbridge.db.models import AuditEntry
from dealbridge.sync.reconcile_ledger import REPORT_ACTION
from dealbridge.web.console.common import (
    DEFAULT_PER_PAGE,
    Admin,
    LedgerSession,
    Pager,
    blank_to_none,
)
from dealbridge.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    who: Admin,
    session: LedgerSession,
    actor: str | None = None,
    action: str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Response:
    """The audit log, newest first."""
    actor, action = blank_to_none(actor), blank_to_none(action)
    count = select(func.count()).select_from(AuditEntry)
    if actor is not None:
        count = count.where(AuditEntry.actor == actor)
    if action is not None:
        count = count.where(AuditEntry.action == action)
    total = int(session.scalar(count) or 0)
    pager = Pager.of(page, per_page, total, {"actor": actor, "action": action})
    entries = list_audit(
        session, limit=pager.per_page, offset=pager.offset, actor=actor, action=action
    )
    values = {
        "entries": entries,
        "pager": pager,
        "actor": actor or "",
        "action": action or "",
        "report_action": REPORT_ACTION,
    }
    return render(request, "console/audit.html", values)
