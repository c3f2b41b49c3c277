"""``dealbridge runs list | show``: the run history, as a table or as JSON."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from dealbridge.cli.runtime_cli import console, fail, ledger, load_settings, print_json
from dealbridge.db import api_calls, runs
from dealbridge.db.models import Run

runs_app = typer.Typer(help="Runs: one per deal workflow.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@runs_app.command("list")
def list_runs(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    opportunity: Annotated[str | None, typer.Option(help="Only this opportunity.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The latest runs, newest first."""
    settings = load_settings()
    filters = runs.RunFilter(status=status, opportunity=opportunity)
    with ledger(settings) as store, store.session() as session:
        rows = [run_summary(run) for run in runs.list_runs(session, filters, limit=limit)]
    if as_json:
        print_json(rows)
        return
    console.print(_table(rows))


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id (from runs list).")],
    as_json: JsonOption = False,
) -> None:
    """One run in full: timings, API calls, plan summary, error."""
    settings = load_settings()
    with ledger(settings) as store, store.session() as session:
        run = runs.get_run(session, run_id) or _by_prefix(session, run_id)
        if run is None:
            fail(f"no run with id {run_id}")
        detail = run_detail(run, [call.path for call in api_calls.calls_for_run(session, run_id)])
    if as_json:
        print_json(detail)
        return
    for key, value in detail.items():
        console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


def _by_prefix(session: Session, prefix: str) -> Run | None:
    """The one run whose id starts with ``prefix`` (the list shows 8 characters)."""
    query = select(Run).where(Run.id.startswith(prefix, autoescape=True)).limit(2)
    found = list(session.scalars(query))
    return found[0] if len(found) == 1 else None


def run_summary(run: Run) -> dict[str, Any]:
    """A run as the list shows it."""
    calls = run.api_calls or {}
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "opportunity_id": run.opportunity_id,
        "trigger": run.trigger,
        "status": run.status,
        "received_at": run.received_at,
        "latency_ms": run.latency_ms,
        "records_written": run.records_written,
        "records_unchanged": run.records_unchanged,
        "calls": {system: data.get("total", 0) for system, data in calls.items()},
        "error_id": run.error_id,
    }


def run_detail(run: Run, call_paths: list[str]) -> dict[str, Any]:
    """A run in full, with the plan reduced to its operations' keys and violations."""
    plan = run.plan or {}
    return {
        **run_summary(run),
        "account_id": run.account_id,
        "system_modstamp": run.system_modstamp,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "step_timings": run.step_timings,
        "api_calls": run.api_calls,
        "operations": [f"{op['type']}/{op['external_id']}" for op in plan.get("operations", [])],
        "violations": plan.get("violations", []),
        "call_log": call_paths,
    }


def _table(rows: list[dict[str, Any]]) -> Table:
    columns = ("run", "received", "opportunity", "trigger", "status", "ms", "written")
    table = Table(*columns, "unchanged", "calls")
    for row in rows:
        calls = ", ".join(f"{system} {count}" for system, count in sorted(row["calls"].items()))
        table.add_row(
            row["id"][:8],
            row["received_at"].strftime("%Y-%m-%d %H:%M:%S"),
            row["opportunity_id"],
            row["trigger"],
            row["status"],
            str(row["latency_ms"] if row["latency_ms"] is not None else ""),
            str(row["records_written"]),
            str(row["records_unchanged"]),
            calls,
        )
    return table
