"""``dealbridge errors list | show | retry | resolve | edit``: deals that failed, and fixing them.

A retry is a new workflow on the ``deals`` queue (``sync.operator``): with a worker running it is
queued for the worker; on SQLite with no worker this command runs it and waits for the outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dealbridge.cli.runtime_cli import (
    actor,
    client_operator,
    console,
    dbos_client,
    fail,
    ledger,
    load_settings,
    local_runtime,
    needs_local_runtime,
    print_json,
    reporting,
)
from dealbridge.db import open_errors
from dealbridge.db.models import SyncError
from dealbridge.settings import Settings
from dealbridge.sync.operator import Operator, runtime_operator
from dealbridge.sync.triggers import wait_for_outcome

errors_app = typer.Typer(help="Open errors: failed deals and what to do about them.",
                         no_args_is_help=True)  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ErrorId = Annotated[int, typer.Argument(help="Error id (from errors list).")]
STATES = ("open", "retrying", "resolved", "all")
WAIT_SECONDS = 600.0


@errors_app.command("list")
def list_errors(
    state: Annotated[str, typer.Option(help="open, retrying, resolved or all.")] = "open",
    failure_class: Annotated[
        str | None, typer.Option("--class", help="Only this failure class, e.g. validation.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Errors, most recently seen first."""
    if state not in STATES:
        fail(f"--state must be one of {', '.join(STATES)}")
    filters = open_errors.ErrorFilter(
        state=None if state == "all" else state, failure_type=failure_class
    )
    with ledger(load_settings()) as store, store.session() as session:
        rows = [error_summary(e) for e in open_errors.list_errors(session, filters, limit=limit)]
    if as_json:
        print_json(rows)
        return
    console.print(_table(rows))


@errors_app.command("show")
def show_error(error_id: ErrorId, as_json: JsonOption = False) -> None:
    """One error with everything needed to fix it."""
    with ledger(load_settings()) as store, store.session() as session:
        error = open_errors.get_error(session, error_id)
        if error is None:
            fail(f"no error with id {error_id}")
        detail = error_detail(error)
    if as_json:
        print_json(detail)
        return
    for key, value in detail.items():
        if value not in (None, [], {}):
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


@errors_app.command("retry")
def retry(error_id: ErrorId, as_json: JsonOption = False) -> None:
    """Sync the error's deal again (as it is now in Salesforce)."""
    _act(lambda operator: operator.retry_error(error_id, actor()), as_json)


@errors_app.command("edit")
def edit(
    error_id: ErrorId,
    record: Annotated[str, typer.Argument(help="The record, e.g. customer/SFACC-001….")],
    payload_file: Annotated[Path, typer.Argument(help="JSON file: the payload to send.")],
    as_json: JsonOption = False,
) -> None:
    """Replace one record's mapped payload for the next write, then retry."""
    try:
        payload = json.loads(payload_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read {payload_file}: {exc}")
    _act(lambda operator: operator.edit_and_retry(error_id, record, payload, actor()), as_json)


@errors_app.command("resolve")
def resolve(
    error_id: ErrorId,
    note: Annotated[str, typer.Option(help="Why it is closed (kept in the audit log).")],
) -> None:
    """Close the error by hand (e.g. fixed directly in NetSuite)."""
    settings = load_settings()
    with reporting(), ledger(settings) as store:
        Operator(store, _no_enqueue).resolve_error(error_id, actor(), note)
    console.print(f"error {error_id} resolved")


def _act(action: Callable[[Operator], str], as_json: bool) -> None:
    settings = load_settings()
    with reporting():
        if needs_local_runtime(settings):
            outcome = _here(settings, action)
        else:
            outcome = _by_worker(settings, action)
    if as_json:
        print_json(outcome)
    else:
        console.print(f"{outcome['workflow_id']}: {outcome['status']}", highlight=False)


def _here(settings: Settings, action: Callable[[Operator], str]) -> dict[str, Any]:
    with local_runtime(settings):
        workflow_id = action(runtime_operator())
        return asyncio.run(wait_for_outcome(workflow_id, WAIT_SECONDS))


def _by_worker(settings: Settings, action: Callable[[Operator], str]) -> dict[str, Any]:
    with ledger(settings) as store, dbos_client(settings) as client:
        workflow_id = action(client_operator(store, client))
    return {"workflow_id": workflow_id, "status": "queued"}


def _no_enqueue(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
    raise AssertionError("resolving never enqueues")  # pragma: no cover


def error_summary(error: SyncError) -> dict[str, Any]:
    """An error as the list shows it."""
    return {
        "id": error.id,
        "state": error.state,
        "class": error.failure_type,
        "opportunity_id": error.opportunity_id,
        "record": "/".join(p for p in (error.record_type, error.external_id) if p) or None,
        "field": error.field_path,
        "message": error.user_message,
        "occurrences": error.occurrences,
        "last_seen_at": error.last_seen_at,
    }


def error_detail(error: SyncError) -> dict[str, Any]:
    """An error in full."""
    return {
        **error_summary(error),
        "account_id": error.account_id,
        "run_id": error.run_id,
        "workflow_id": error.workflow_id,
        "technical_message": error.message,
        "remote_code": error.remote_code,
        "remote_status": error.remote_status,
        "request_id": error.request_id,
        "violations": error.violations,
        "override": error.override,
        "first_seen_at": error.first_seen_at,
        "resolved_at": error.resolved_at,
        "resolved_by": error.resolved_by,
        "resolution_note": error.resolution_note,
        "context": {k: v for k, v in error.context.items() if k != "violations"},
    }


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table("id", "state", "class", "opportunity", "record", "field", "message", "seen")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["state"],
            row["class"],
            row["opportunity_id"],
            row["record"] or "",
            row["field"] or "",
            (row["message"] or "")[:80],
            str(row["occurrences"]),
        )
    return table
