"""``dealbridge replay RUN_ID [--dry-run]``: a past deal through the current flow.

Shows, per record, what the current flow would send compared with what the run planned (``create``
/ ``update`` with each field's old and new value / ``unchanged`` / ``removed``) and whether the
workflow would write it now or skip it (the ledger's hash). Without ``--dry-run`` it then runs the
deal through the normal workflow (trigger ``replay``) and waits for the outcome; that workflow
reads the deal from Salesforce as it is now, so when the opportunity changed since the run a note
says the preview may differ from what gets written (``dealbridge.sync.replay``).

Exit status: 0 when shown (and, without ``--dry-run``, synced or unchanged), 1 otherwise.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.table import Table

from dealbridge.cli.reconcile import flow_engine, work_queue
from dealbridge.cli.runtime_cli import (
    console,
    error_console,
    ledger,
    load_settings,
    reporting,
    trigger_facts,
)
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile import CallCounter
from dealbridge.sync.reconcile_ledger import RunOutcome, wait_for_runs
from dealbridge.sync.replay import ReplayResult, enqueue_replay, replay_run

WAIT_SECONDS = 600.0
_SUCCESS = ("synced", "unchanged")


def replay(
    run_id: Annotated[str, typer.Argument(help="The run to replay (dealbridge runs list).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the differences; write nothing.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the outcome.")] = (
        WAIT_SECONDS
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay a run: show what the current flow changes; unless --dry-run, write it."""
    settings = load_settings()
    outcome: RunOutcome | None = None
    with reporting(), ledger(settings) as store:
        result = _compare(settings, store, run_id)
        if not dry_run:
            result.current_modstamp = trigger_facts(settings, result.run.opportunity_id)[1]
        if not as_json:
            _show(result)
        if not dry_run and result.ok:
            outcome = _write(settings, store, result, timeout)
    if as_json:
        document = result.to_json()
        document["outcome"] = _outcome_json(outcome)
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    elif outcome is not None:
        reason = f" — {outcome.reason}" if outcome.reason else ""
        console.print(f"{outcome.workflow_id}: {outcome.status}{reason}", highlight=False)
    if not dry_run and not result.ok:
        error_console.print("the current flow refuses this deal; nothing was written")
    if not dry_run and (outcome is None or outcome.status not in _SUCCESS):
        raise typer.Exit(1)


def _compare(settings: Settings, store: Ledger, run_id: str) -> ReplayResult:
    engine = flow_engine(settings)

    async def run() -> ReplayResult:
        async with NetSuiteClient(settings.netsuite, on_call=CallCounter()) as netsuite:
            return await replay_run(store, run_id, engine, netsuite)

    return asyncio.run(run())


def _write(settings: Settings, store: Ledger, result: ReplayResult, timeout: float) -> RunOutcome:
    with work_queue(settings) as enqueue:

        async def run() -> RunOutcome:
            workflow_id = await enqueue_replay(result, enqueue)
            outcomes = await wait_for_runs(store, [workflow_id], timeout=timeout)
            return outcomes[workflow_id]

        with error_console.status("replaying…"):
            return asyncio.run(run())


def _show(result: ReplayResult) -> None:
    console.print(
        f"run {result.run.run_id} (opportunity {result.run.opportunity_id}): planned with "
        f"{result.flow_then or 'no stored plan'}, now {result.flow_now}; {result.counts()}",
        highlight=False,
    )
    for violation in result.violations:
        console.print(f"[red]{violation.severity}[/red] {violation.message}", highlight=False)
    table = Table("record", "then → now", "workflow now", "changes")
    for record in result.records:
        changes = "\n".join(
            f"{change.path}: {change.before!r} → {change.after!r}" for change in record.changes
        )
        table.add_row(str(record.key), record.action, record.write or "", changes)
    console.print(table)
    if result.stale:
        error_console.print(
            "note: the opportunity changed in Salesforce since this run; the workflow reads it "
            "as it is now, so it may write more than shown",
            highlight=False,
        )


def _outcome_json(outcome: RunOutcome | None) -> dict[str, str | None] | None:
    if outcome is None:
        return None
    return {"workflow_id": outcome.workflow_id, "status": outcome.status, "reason": outcome.reason}
