"""``/reconciliation``: the latest reconciliation report and the trend of its findings.

Every reconciliation (the nightly schedule and each ``dealbridge reconcile``) stores its report
in the ledger (``db.reconcile_reports``); this page reads the newest ones back with the request's
own session. When no reconciliation has run yet it says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dealbridge.db.reconcile_reports import StoredReport, latest_reports
from dealbridge.sync.reconcile_report import CATEGORIES
from dealbridge.web.console.charts import Bar, bar_chart
from dealbridge.web.console.common import MAX_PER_PAGE, LedgerSession, Viewer
from dealbridge.web.pages import render

TREND_REPORTS = 30

router = APIRouter(include_in_schema=False)


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation_page(request: Request, who: Viewer, session: LedgerSession) -> Response:
    """Summary, findings (the first ``MAX_PER_PAGE``) and trend of the stored reports."""
    reports = latest_reports(session, TREND_REPORTS)
    latest = reports[0] if reports else None
    items = latest.items if latest is not None else []
    hidden = max(0, len(items) - MAX_PER_PAGE) + (latest.items_truncated if latest else 0)
    values = {
        "latest": latest,
        "categories": CATEGORIES,
        "items": items[:MAX_PER_PAGE],
        "items_hidden": hidden,
        "trend": trend_chart(list(reversed(reports))),
    }
    return render(request, "console/reconciliation.html", values)


def trend_chart(reports: list[StoredReport]) -> Any:
    """One bar per stored report, oldest first: how many findings each had."""
    bars = []
    for report in reports:
        details = ", ".join(f"{report.summary.get(c, 0)} {c}" for c in CATEGORIES)
        generated = f"{report.generated_at:%Y-%m-%d %H:%M} UTC"
        title = f"{generated}: {report.findings} findings ({details})"
        bars.append(Bar(float(report.findings), f"{report.generated_at:%m-%d}", title))
    return bar_chart("reconcile-trend", bars, caption="Reconciliation findings per report")
