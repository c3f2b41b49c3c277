"""``/flows``: the shipped flow, readable; ``/flows/preview``: what syncing a deal would do now.

The preview is the one ``dealbridge flows preview`` makes (``mapping.preview``): it reads the deal
from Salesforce and the current records from NetSuite, plans with the flow, and diffs — writing
nothing anywhere, so viewers may run it. A deal that breaks rules still previews, with its
violations listed; a deal that cannot be read shows why in an alert.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dealbridge.errors import ConfigError, DealbridgeError, NotFoundError, ValidationError
from dealbridge.mapping.preview import load_preview_flow, preview_opportunity
from dealbridge.web.console.common import LedgerSession, Viewer, blank_to_none, release
from dealbridge.web.console.flow_view import flow_view
from dealbridge.web.context import web_context
from dealbridge.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/flows", response_class=HTMLResponse)
def flow_page(request: Request, who: Viewer) -> Response:
    """The flow the sync runs, rendered as tables."""
    settings = web_context(request).settings
    try:
        view = flow_view(load_preview_flow(settings))
    except DealbridgeError as exc:
        return render(request, "console/flow.html", {"flow": None, "problem": exc.user_message})
    return render(request, "console/flow.html", {"flow": view, "problem": None})


@router.get("/flows/preview", response_class=HTMLResponse)
async def preview_page(
    request: Request, who: Viewer, session: LedgerSession, opportunity: str | None = None
) -> Response:
    """The form; with an opportunity id, its plan and field diff against NetSuite."""
    release(session)  # the preview waits on both systems: hold no ledger lock meanwhile
    identifier = blank_to_none(opportunity)
    values: dict[str, object] = {"opportunity": identifier or "", "result": None, "problem": None}
    if identifier is None:
        return render(request, "console/preview.html", values)
    if len(identifier) > 18:
        values["problem"] = f"{identifier[:40]!r} is not a Salesforce Opportunity id."
        return render(request, "console/preview.html", values, status_code=400)
    try:
        values["result"] = await preview_opportunity(
            identifier, settings=web_context(request).settings
        )
    except DealbridgeError as exc:
        values["problem"] = exc.user_message
        return render(request, "console/preview.html", values, status_code=_status(exc))
    return render(request, "console/preview.html", values)


def _status(error: DealbridgeError) -> int:
    """400 for a bad id, 404 for an unknown deal, 503 unconfigured, 502 a system unreadable."""
    if isinstance(error, ValidationError):
        return 400
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConfigError):
        return 503
    return 502
