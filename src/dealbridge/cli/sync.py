"""``dealbridge sync OPPORTUNITY_ID``: sync one deal now (a manual trigger).

Reads the opportunity's AccountId and SystemModstamp (one Salesforce call), so a deal that has
not changed since its last sync joins that workflow instead of running again. With a worker
running, the deal is queued for it; on SQLite with no worker, this command runs the deal itself
and waits for it (``runtime_cli`` says why).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from dbos import DBOSClient, WorkflowHandleAsync

from dealbridge.cli.runtime_cli import (
    actor,
    console,
    dbos_client,
    load_settings,
    local_runtime,
    needs_local_runtime,
    print_json,
    reporting,
    trigger_facts,
)
from dealbridge.settings import Settings
from dealbridge.sync.triggers import (
    enqueue_with_client,
    opportunity_id18,
    sync_now,
    trigger_info,
    wait_for_outcome,
    workflow_id_for,
)

WAIT_SECONDS = 600.0


def sync(
    opportunity_id: Annotated[str, typer.Argument(help="Opportunity id (15 or 18 characters).")],
    wait: Annotated[bool, typer.Option(help="Wait for the outcome and print it.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = WAIT_SECONDS,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sync one opportunity to NetSuite now."""
    settings = load_settings()
    with reporting():
        identifier = opportunity_id18(opportunity_id)
        if needs_local_runtime(settings):
            outcome = _run_here(settings, identifier, timeout)
        else:
            outcome = _queue_for_worker(settings, identifier, wait, timeout)
    _show(outcome, as_json)


def _run_here(settings: Settings, opportunity_id: str, timeout: float) -> dict[str, Any]:
    """No worker on this SQLite data directory: run the deal in this process."""

    async def run() -> dict[str, Any]:
        workflow_id = await sync_now(opportunity_id, actor=actor())
        return await wait_for_outcome(workflow_id, timeout)

    with local_runtime(settings):
        return asyncio.run(run())


def _queue_for_worker(
    settings: Settings, opportunity_id: str, wait: bool, timeout: float
) -> dict[str, Any]:
    account_id, stamp = trigger_facts(settings, opportunity_id)
    workflow_id = workflow_id_for(opportunity_id, stamp)
    info = trigger_info(
        "manual", account_id=account_id, system_modstamp=stamp, trigger_ref=f"by:{actor()}"
    )
    with dbos_client(settings) as client:
        enqueue_with_client(client, workflow_id, opportunity_id, info)
        if not wait:
            return {"workflow_id": workflow_id, "status": "queued"}
        return _result(client, workflow_id, timeout)


def _result(client: DBOSClient, workflow_id: str, timeout: float) -> dict[str, Any]:
    async def result() -> dict[str, Any]:
        handle: WorkflowHandleAsync[dict[str, Any]]
        handle = await client.retrieve_workflow_async(workflow_id)
        outcome: dict[str, Any] = await asyncio.wait_for(handle.get_result(), timeout)
        return outcome

    return asyncio.run(result())


def _show(outcome: dict[str, Any], as_json: bool) -> None:
    """Print the outcome; exit 1 unless the deal synced (or is queued)."""
    status = outcome["status"]
    if as_json:
        print_json(outcome)
    else:
        _describe(outcome)
    if status not in ("synced", "unchanged", "queued"):
        raise typer.Exit(1)


def _describe(outcome: dict[str, Any]) -> None:
    status = outcome["status"]
    colour = {"synced": "green", "unchanged": "green", "queued": "cyan"}.get(status, "red")
    console.print(f"{outcome['workflow_id']}: [{colour}]{status}[/{colour}]", highlight=False)
    if outcome.get("records_written") is not None:
        console.print(
            f"records written {outcome['records_written']}, "
            f"unchanged {outcome['records_unchanged']}; "
            f"write-back {outcome['write_back']['status']}"
        )
    if outcome.get("error"):
        console.print(f"[red]{outcome['error']['user_message']}[/red]", highlight=False)
        console.print(f"see: dealbridge errors show {outcome.get('error_id')}")
