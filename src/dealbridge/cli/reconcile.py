"""``dealbridge reconcile``: does NetSuite hold what the won deals need? Optionally repair it.

Reads both systems in bulk (``dealbridge.sync.reconcile``), prints the report as a table, CSV,
one JSON document or a self-contained HTML page (``--output`` writes it to a file), and keeps it
in the ledger for the console. ``--repair`` then re-syncs the deals of missing, drifted and
mis-valued records through the normal workflow — with a worker running it queues them for the
worker, otherwise this command runs them itself (``runtime_cli`` says why) — waits for them,
reconciles again and shows the summary after. Orphans, duplicates and blocked deals are left to
a person.

Exit status: 0 when nothing was found (after a repair: nothing left), 3 when there are findings,
1 on an error.

Also home of what the three history commands share: the flow engine, and ``work_queue``, which
hands out a way to queue deals whichever process runs them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dealbridge.cli.runtime_cli import (
    actor,
    console,
    dbos_client,
    error_console,
    ledger,
    load_settings,
    local_runtime,
    needs_local_runtime,
    reporting,
)
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import load_flow
from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile import (
    CallCounter,
    Enqueue,
    Reconciliation,
    plan_repairs,
    reconcile,
    repair,
)
from dealbridge.sync.reconcile_fetch import Window
from dealbridge.sync.reconcile_ledger import RunOutcome, save_report, wait_for_runs
from dealbridge.sync.reconcile_report import Report, to_csv, to_html
from dealbridge.sync.runtime import DEFAULT_FLOW
from dealbridge.sync.triggers import enqueue_with_client, start_on_queue

FINDINGS_EXIT = 3
WAIT_SECONDS = 1800.0
DATE_FORMATS = ["%Y-%m-%d"]


class Format(StrEnum):
    """Output formats."""

    table = "table"
    csv = "csv"
    json = "json"
    html = "html"


def reconcile_command(
    since: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Deals closed on or after.")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Deals closed on or before.")
    ] = None,
    output_format: Annotated[Format, typer.Option("--format", help="Report format.")] = (
        Format.table
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    do_repair: Annotated[
        bool, typer.Option("--repair", help="Re-sync missing, drifted and mis-valued deals.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for repairs.")] = WAIT_SECONDS,
) -> None:
    """Compare NetSuite with what the won deals need; report, and optionally repair."""
    settings = load_settings()
    window = Window(since.date() if since else None, until.date() if until else None)
    with reporting(), ledger(settings) as store:
        result = run_reconcile(settings, window, store)
        save_report(store, result.report, actor())
        emit(result.report, output_format, output)
        report = result.report
        if do_repair and report.repairable():
            outcomes = repair_now(settings, store, result, timeout)
            report = run_reconcile(settings, window, store).report
            save_report(store, report, actor())
            show_repair(outcomes, report)
    if report.items:
        raise typer.Exit(FINDINGS_EXIT)


def flow_engine(settings: Settings) -> FlowEngine:
    """The sync's flow (``sync.flow_path``, else the shipped one), compiled."""
    return FlowEngine(load_flow(Path(settings.sync.flow_path or DEFAULT_FLOW)))


def run_reconcile(settings: Settings, window: Window, store: Ledger) -> Reconciliation:
    """One reconciliation with clients of this command's own."""
    engine = flow_engine(settings)
    counter = CallCounter()

    async def run() -> Reconciliation:
        async with (
            SalesforceClient(settings.salesforce, on_call=counter) as salesforce,
            NetSuiteClient(settings.netsuite, on_call=counter) as netsuite,
        ):
            return await reconcile(
                salesforce,
                netsuite,
                engine,
                window=window,
                multi_currency=settings.sync.multi_currency,
                ledger=store,
                counter=counter,
            )

    with error_console.status("reconciling…"):
        return asyncio.run(run())


@contextmanager
def work_queue(settings: Settings) -> Iterator[Enqueue]:
    """A way to queue deals: a runtime of this command's own, or a running worker's queue."""
    if needs_local_runtime(settings):
        with local_runtime(settings):
            yield start_on_queue
        return
    with dbos_client(settings) as client:

        async def enqueue(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
            await asyncio.to_thread(enqueue_with_client, client, workflow_id, opportunity_id, info)

        yield enqueue


def repair_now(
    settings: Settings, store: Ledger, result: Reconciliation, timeout: float
) -> dict[str, RunOutcome]:
    """Queue the repairs and wait for their outcomes."""
    repairs = plan_repairs(result)
    reference = result.report.generated_at.replace(":", "").replace("-", "")
    with work_queue(settings) as enqueue:

        async def run() -> dict[str, RunOutcome]:
            queued = await repair(repairs, store, enqueue, reference=reference)
            return await wait_for_runs(store, queued, timeout=timeout)

        with error_console.status(f"repairing {len(repairs)} deal(s)…"):
            return asyncio.run(run())


def emit(report: Report, output_format: Format, output: Path | None) -> None:
    """The report in ``output_format``, on stdout or into ``output``."""
    if output_format is Format.table:
        target = Console(file=output.open("w", encoding="utf-8")) if output else console
        print_report(report, target)
        return
    text = {
        Format.csv: to_csv,
        Format.html: to_html,
        Format.json: _json,
    }[output_format](report)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=not text.endswith("\n"))


def print_report(report: Report, target: Console) -> None:
    """Summary, money per currency, then every finding."""
    summary = Table(title=f"Reconciliation {report.generated_at}", show_header=False)
    for category, count in report.summary().items():
        summary.add_row(category, f"[{'red' if count else 'green'}]{count}[/]")
    summary.add_row("checked", ", ".join(f"{k} {v}" for k, v in report.checked.items()))
    summary.add_row("API calls", ", ".join(f"{k} {v}" for k, v in report.calls.items()))
    target.print(summary)
    money = Table("currency", "Salesforce", "planned", "NetSuite", "difference", "rounding")
    for currency, row in report.totals.items():
        money.add_row(currency, *(str(row.get(name, "")) for name in money_columns()))
    target.print(money)
    if report.items:
        findings = Table("category", "record", "deals", "what")
        for item in report.items:
            record = f"{item.record_type or ''} {item.external_id or item.netsuite_id or ''}"
            details = "".join(
                f"\n  {d.field}: {d.expected!r} → {d.actual!r}" for d in item.differences
            )
            findings.add_row(
                item.category, record.strip(), " ".join(item.opportunities), item.message + details
            )
        target.print(findings)


def money_columns() -> tuple[str, ...]:
    """The per-currency figures, in table order."""
    return ("salesforce", "planned", "netsuite", "difference", "rounding")


def show_repair(outcomes: dict[str, RunOutcome], after: Report) -> None:
    """What the repair runs did, and what is left (on stderr: stdout holds the report)."""
    for outcome in outcomes.values():
        reason = f" — {outcome.reason}" if outcome.reason else ""
        text = f"repair {outcome.workflow_id}: {outcome.status}{reason}"
        error_console.print(text, highlight=False)
    left = ", ".join(f"{k} {v}" for k, v in after.summary().items() if v) or "nothing"
    error_console.print(f"after the repair: {left}", highlight=False)


def _json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
