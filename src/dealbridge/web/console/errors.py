"""``/errors``: failed deals, and the three ways to deal with one — retry, resolve, edit and retry.

Every action goes through ``sync.operator.Operator``, which writes the audit entry in the same
transaction as the change; this module only parses the form, reports the outcome and redirects
(303, post/redirect/get) to the error's page with a notice. Edit and retry is checked before
anything is stored: the text must be JSON, ``check_override_payload`` must accept it, and the
record must be one of the failed run's plan; otherwise the page comes back with 400, the
problem named and the text as typed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dealbridge.db import open_errors, runs
from dealbridge.db.ledger_errors import InvalidTransitionError, NotInLedgerError
from dealbridge.db.models import SyncError
from dealbridge.errors import FAILURE_TYPES, DealbridgeError, ValidationError
from dealbridge.sync.operator import MAX_OVERRIDE_BYTES, check_override_payload
from dealbridge.web.api.operations import QueueUnavailableError
from dealbridge.web.console.common import (
    DEFAULT_PER_PAGE,
    LedgerSession,
    OperatorRole,
    Pager,
    Viewer,
    blank_to_none,
    notice_text,
    release,
)
from dealbridge.web.console.runs import plan_operations
from dealbridge.web.console.services import ConsoleServices, console_services
from dealbridge.web.pages import render
from dealbridge.web.security.roles import Principal

TABS = ("open", "retrying", "resolved")
MAX_NOTE = 2000
MAX_BULK = 200
# The form's text may be pretty-printed JSON a little larger than the payload it holds.
MAX_PAYLOAD_TEXT = 2 * MAX_OVERRIDE_BYTES

router = APIRouter(include_in_schema=False)
Services = Annotated[ConsoleServices, Depends(console_services)]


@router.get("/errors", response_class=HTMLResponse)
def error_list(
    request: Request,
    who: Viewer,
    session: LedgerSession,
    state: str = "open",
    failure_class: Annotated[str | None, Query(alias="class")] = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    notice: str | None = None,
    count: int | None = None,
) -> Response:
    """One tab of errors (open, retrying or resolved), optionally of one class."""
    problems = []
    if state not in TABS:
        problems.append(f"Unknown state {state!r}: showing open errors.")
        state = "open"
    failure_class = blank_to_none(failure_class)
    if failure_class is not None and failure_class not in FAILURE_TYPES:
        problems.append(f"Unknown class {failure_class!r}: showing every class.")
        failure_class = None
    filters = open_errors.ErrorFilter(state=state, failure_type=failure_class)
    params = {"state": state, "class": failure_class}
    pager = Pager.of(page, per_page, open_errors.count_errors(session, filters), params)
    rows = open_errors.list_errors(session, filters, limit=pager.per_page, offset=pager.offset)
    tab_counts = {
        tab: open_errors.count_errors(
            session, open_errors.ErrorFilter(state=tab, failure_type=failure_class)
        )
        for tab in TABS
    }
    values = {
        "errors": rows,
        "pager": pager,
        "state": state,
        "failure_class": failure_class,
        "classes": FAILURE_TYPES,
        "tab_counts": tab_counts,
        "problems": problems,
        "notice": _bulk_notice(notice, count),
        "can_act": who.has_role("operator"),
    }
    return render(request, "console/errors.html", values)


@router.get("/errors/{error_id}", response_class=HTMLResponse)
def error_detail(
    request: Request,
    error_id: int,
    who: Viewer,
    session: LedgerSession,
    record: str | None = None,
    notice: str | None = None,
) -> Response:
    """One error with what is needed to fix it, and (for operators) the actions."""
    error = open_errors.get_error(session, error_id)
    if error is None:
        return _not_found(request, error_id)
    values = _detail_values(session, error, who, record)
    values["notice"] = notice_text(notice)
    return render(request, "console/error.html", values)


@router.post("/errors/bulk-retry")
def bulk_retry(
    request: Request,
    who: OperatorRole,
    session: LedgerSession,
    services: Services,
    error_id: Annotated[list[int], Form(max_length=MAX_BULK)] = [],  # noqa: B006 - FastAPI copies it
) -> Response:
    """Retry every selected error; resolved ones are skipped and counted as not retried."""
    selected = list(dict.fromkeys(error_id))[:MAX_BULK]
    if not selected:
        return RedirectResponse("/errors?notice=nothing-selected", status_code=303)
    release(session)
    operator = services.make_operator()
    queued = 0
    for identifier in selected:
        try:
            operator.retry_error(identifier, who.actor)
        except (NotInLedgerError, InvalidTransitionError):
            continue
        except QueueUnavailableError:  # the rest would fail alike; this one is open again
            return RedirectResponse(f"/errors?notice=bulk-stopped&count={queued}", status_code=303)
        queued += 1
    return RedirectResponse(f"/errors?notice=bulk-retried&count={queued}", status_code=303)


@router.post("/errors/{error_id}/retry")
def retry(
    request: Request, error_id: int, who: OperatorRole, session: LedgerSession, services: Services
) -> Response:
    """Sync the error's deal again, as it is now in Salesforce."""
    release(session)
    try:
        services.make_operator().retry_error(error_id, who.actor)
    except NotInLedgerError:
        return _not_found(request, error_id)
    except InvalidTransitionError as exc:
        return _refused(request, session, error_id, who, exc, 409)
    except QueueUnavailableError as exc:
        return _refused(request, session, error_id, who, _not_queued(exc), 503)
    return RedirectResponse(f"/errors/{error_id}?notice=retried", status_code=303)


@router.post("/errors/{error_id}/resolve")
def resolve(
    request: Request,
    error_id: int,
    who: OperatorRole,
    session: LedgerSession,
    services: Services,
    reason: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Close the error by hand, with the reason kept in the audit log."""
    note = reason.strip()
    if not note:
        problem = ValidationError(
            "Say why the error is resolved (the reason is kept in the audit log).",
            record="resolve",
            field_path="reason",
            rule="required",
        )
        return _refused(request, session, error_id, who, problem, 400)
    release(session)
    try:
        services.make_operator().resolve_error(error_id, who.actor, note)
    except NotInLedgerError:
        return _not_found(request, error_id)
    return RedirectResponse(f"/errors/{error_id}?notice=resolved", status_code=303)


@router.post("/errors/{error_id}/edit-and-retry")
def edit_and_retry(
    request: Request,
    error_id: int,
    who: OperatorRole,
    session: LedgerSession,
    services: Services,
    record_key: Annotated[str, Form(max_length=600)],
    payload: Annotated[str, Form(max_length=MAX_PAYLOAD_TEXT)],
) -> Response:
    """Replace the mapped payload of one record of the failed run, then retry the deal."""
    try:
        document = _parse_payload(payload)
        check_override_payload(document)
    except ValidationError as exc:
        return _refused(request, session, error_id, who, exc, 400, record_key, payload)
    release(session)
    try:
        services.make_operator().edit_and_retry(error_id, record_key, document, who.actor)
    except NotInLedgerError:
        return _not_found(request, error_id)
    except (ValidationError, InvalidTransitionError) as exc:
        status = 400 if isinstance(exc, ValidationError) else 409
        return _refused(request, session, error_id, who, exc, status, record_key, payload)
    except QueueUnavailableError as exc:
        problem = _not_queued(exc)
        return _refused(request, session, error_id, who, problem, 503, record_key, payload)
    return RedirectResponse(f"/errors/{error_id}?notice=edited", status_code=303)


def _parse_payload(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"the edited payload is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}",
            record="override",
            field_path="payload",
            rule="json",
        ) from None


def _detail_values(
    session: Any,
    error: SyncError,
    who: Principal,
    record: str | None,
    typed: str | None = None,
) -> dict[str, Any]:
    """What ``console/error.html`` shows; ``typed`` keeps the payload text as submitted."""
    run = runs.get_run(session, error.run_id) if error.run_id else None
    operations = plan_operations(run)
    options = [f"{op['type']}/{op['external_id']}" for op in operations]
    selected = _selected(error, options, record)
    payload_text = typed if typed is not None else _payload_text(error, operations, selected)
    return {
        "error": error,
        "run": run,
        "record_options": options,
        "selected_record": selected,
        "payload_text": payload_text,
        "can_act": who.has_role("operator") and error.state != "resolved",
        "problem": None,
        "notice": None,
    }


def _selected(error: SyncError, options: list[str], record: str | None) -> str | None:
    if record in options:
        return record
    own = f"{error.record_type}/{error.external_id}"
    if error.record_type and error.external_id and own in options:
        return own
    return options[0] if options else None


def _payload_text(error: SyncError, operations: list[dict[str, Any]], selected: str | None) -> str:
    """The pending edit of the selected record if there is one, else its mapped payload."""
    override = error.override or {}
    if selected and f"{override.get('record_type')}/{override.get('external_id')}" == selected:
        return json.dumps(override.get("payload"), indent=2, sort_keys=True, ensure_ascii=False)
    for op in operations:
        if f"{op['type']}/{op['external_id']}" == selected:
            return json.dumps(op.get("payload"), indent=2, sort_keys=True, ensure_ascii=False)
    return "{}"


def _refused(
    request: Request,
    session: Any,
    error_id: int,
    who: Principal,
    problem: DealbridgeError,
    status: int,
    record: str | None = None,
    typed: str | None = None,
) -> Response:
    """The error's page again, with the problem as an alert and the form as it was sent."""
    error = open_errors.get_error(session, error_id)
    if error is None:
        return _not_found(request, error_id)
    values = _detail_values(session, error, who, record, typed)
    values["problem"] = problem.user_message
    return render(request, "console/error.html", values, status_code=status)


def _not_found(request: Request, error_id: int) -> Response:
    detail = f"There is no error with id {error_id}."
    return render(request, "message.html", {"title": "Not found", "detail": detail}, 404)


def _not_queued(exc: QueueUnavailableError) -> QueueUnavailableError:
    """What the person reads when the queue refused: nothing was lost, and what to do."""
    return QueueUnavailableError(
        f"{exc.message.rstrip('.')}: nothing was queued and the error is open again. "
        "Try again in a moment; if it keeps failing, check the workers' database."
    )


def _bulk_notice(code: str | None, count: int | None) -> str | None:
    if code == "bulk-retried" and count is not None:
        noun = "retry" if count == 1 else "retries"
        return f"{count} {noun} queued. Errors that were already resolved were skipped."
    if code == "bulk-stopped" and count is not None:
        noun = "retry" if count == 1 else "retries"
        return (
            f"{count} {noun} queued, then the queue could not be reached: the other selected "
            "errors are still open. Try again in a moment."
        )
    return notice_text(code)
