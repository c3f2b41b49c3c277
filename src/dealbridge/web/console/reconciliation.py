"""``/reconciliation``: the latest reconciliation report and the trend of its counts.

Reports are stored by ``sync.reconcile_ledger.save_report`` as audit entries (action
``reconcile.report``, the report document as the detail). This page reads them back with the
request's own ledger session; when no reconciliation has run yet it says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dealbridge.db.audit import list_audit
from dealbridge.sync.reconcile_ledger import REPORT_ACTION
from dealbridge.sync.reconcile_report import CATEGORIES
from dealbridge.web.console.charts import Bar, bar_chart
from dealbridge.web.console.common import MAX_PER_PAGE, LedgerSession, Viewer
from dealbridge.web.pages import render

TREND_REPORTS = 30

router = APIRouter(include_in_schema=False)


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation_page(request: Request, who: Viewer, session: LedgerSession) -> Response:
    """Summary, items (first ``MAX_PER_PAGE``) and trend of the stored reports."""
    entries = list_audit(session, limit=TREND_REPORTS, action=REPORT_ACTION)
    reports = [dict(entry.detail) for entry in entries]
    latest = reports[0] if reports else None
    items: list[dict[str, Any]] = list((latest or {}).get("items") or [])
    values = {
        "latest": latest,
        "categories": CATEGORIES,
        "summary": (latest or {}).get("summary") or {},
        "items": items[:MAX_PER_PAGE],
        "items_hidden": max(0, len(items) - MAX_PER_PAGE)
        + int((latest or {}).get("items_truncated") or 0),
        "trend": trend_chart(list(reversed(reports))),
        "reported_by": entries[0].actor if entries else None,
    }
    return render(request, "console/reconciliation.html", values)


def trend_chart(reports: list[dict[str, Any]]) -> Any:
    """One bar per stored report, oldest first: the number of findings of each."""
    bars = []
    for report in reports:
        summary = report.get("summary") or {}
        found = sum(int(summary.get(category) or 0) for category in CATEGORIES)
        generated = str(report.get("generated_at") or "?")
        details = ", ".join(f"{summary.get(c, 0)} {c}" for c in CATEGORIES)
        bars.append(Bar(float(found), generated[:10], f"{generated}: {found} findings ({details})"))
    return bar_chart("reconcile-trend", bars, caption="Reconciliation findings per report")
