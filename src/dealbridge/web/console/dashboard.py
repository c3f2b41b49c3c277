"""``/``: is the integration healthy? Deals per hour, success, latency, errors, queue, limits.

The page and ``/dashboard/fragment`` render the same partial template; ``console.js`` fetches
the fragment every ``REFRESH_SECONDS`` and swaps it in, so the figures stay current without a
page reload and without any script library.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from dealbridge.web.console.charts import Bar, bar_chart
from dealbridge.web.console.common import LedgerSession, Viewer
from dealbridge.web.console.connections import latest_checks
from dealbridge.web.console.figures import Figures, read_figures
from dealbridge.web.console.services import ConsoleServices, console_services
from dealbridge.web.context import web_context
from dealbridge.web.pages import render

REFRESH_SECONDS = 15
FRAGMENT_PATH = "/dashboard/fragment"

router = APIRouter(include_in_schema=False)
Services = Annotated[ConsoleServices, Depends(console_services)]


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, who: Viewer, session: LedgerSession, services: Services
) -> Response:
    """The dashboard page."""
    page = {
        **_values(request, session, services),
        "refresh_path": FRAGMENT_PATH,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "console/dashboard.html", page)


@router.get(FRAGMENT_PATH, response_class=HTMLResponse)
def dashboard_fragment(
    request: Request, who: Viewer, session: LedgerSession, services: Services
) -> Response:
    """The dashboard's figures alone, for the auto-refresh."""
    return render(request, "console/dashboard_figures.html", _values(request, session, services))


def _values(request: Request, session: Session, services: ConsoleServices) -> dict[str, Any]:
    context = web_context(request)
    now = context.clock()
    figures = read_figures(session, context.settings, now)
    return {
        "figures": figures,
        "chart": synced_chart(figures),
        "queue_depth": services.read_queue_depth(),
        "checks": latest_checks(session),
        "now": now,
    }


def synced_chart(figures: Figures) -> Any:
    """Deals synced per hour over the last 24 hours, failures named in each tooltip."""
    bars = []
    for hour in figures.hours:
        synced = hour.counts.get("synced", 0) + hour.counts.get("unchanged", 0)
        failed = hour.counts.get("failed", 0) + hour.counts.get("invalid", 0)
        title = f"{hour.hour:%Y-%m-%d %H}:00 UTC: {synced} synced, {failed} failed"
        bars.append(Bar(float(synced), f"{hour.hour:%H}:00", title))
    return bar_chart("synced-per-hour", bars, caption="Deals synced per hour (UTC), last 24 hours")
