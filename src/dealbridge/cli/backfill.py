"""``dealbridge backfill --since DATE [--until DATE] [--dry-run]``: bring won history across.

Queues every won deal closed in the window through the normal workflow
(``dealbridge.sync.backfill``), with a Rich progress bar (rate and time left) for the deals
queued and the deals finished, then a summary: synced, unchanged, skipped (already handled),
failed with reasons. With a worker running, the deals are queued for it; otherwise this command
runs them itself and must stay up until they finish (``runtime_cli`` says why). Killed, it
resumes where it stopped when run again with the same window; ``--from-start`` forgets the
cursor. ``--dry-run`` plans every deal and diffs it against NetSuite instead, writing nothing.

Exit status: 0 when every deal synced (or was unchanged or skipped), 1 when some failed (each
is an open error: ``dealbridge errors list``), 75 when the Salesforce usage guard paused it
(run it again later), 1 on an error.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from types import TracebackType
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dealbridge.cli.reconcile import DATE_FORMATS, flow_engine, work_queue
from dealbridge.cli.runtime_cli import console, error_console, ledger, load_settings, reporting
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.settings import Settings
from dealbridge.sync.backfill import (
    PAGE_SIZE,
    BackfillSummary,
    DryRunSummary,
    dry_run_backfill,
    run_backfill,
)
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile import CallCounter, Enqueue
from dealbridge.sync.reconcile_fetch import Window

PAUSED_EXIT = 75  # EX_TEMPFAIL: try again later
FAILED_EXIT = 1


def backfill(
    since: Annotated[
        datetime, typer.Option(formats=DATE_FORMATS, help="First CloseDate (YYYY-MM-DD).")
    ],
    until: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Last CloseDate.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
    ] = False,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Forget where an earlier run stopped.")
    ] = False,
    page_size: Annotated[int, typer.Option(min=1, max=2000, help="Deals per page.")] = PAGE_SIZE,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for the queued deals (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sync the won deals closed in a window, resumably, through the normal workflow."""
    settings = load_settings()
    window = Window(since.date(), until.date() if until else None)
    with reporting():
        if dry_run:
            planned = _dry_run(settings, window, page_size)
            _show(planned.to_json(), as_json, _describe_dry_run, planned)
            return
        summary = _run(settings, window, page_size, from_start, timeout, quiet=as_json)
    _show(summary.to_json(), as_json, _describe, summary)
    if summary.paused:
        raise typer.Exit(PAUSED_EXIT)
    if summary.failures:
        raise typer.Exit(FAILED_EXIT)


def _run(
    settings: Settings,
    window: Window,
    page_size: int,
    from_start: bool,
    timeout: float | None,
    *,
    quiet: bool,
) -> BackfillSummary:
    async def run(enqueue: Enqueue, store: Ledger, progress: BarProgress) -> BackfillSummary:
        async with SalesforceClient(settings.salesforce, on_call=CallCounter()) as salesforce:
            return await run_backfill(
                salesforce,
                store,
                enqueue,
                window,
                progress=progress,
                page_size=page_size,
                from_start=from_start,
                wait_seconds=timeout,
            )

    with ledger(settings) as store, work_queue(settings) as enqueue, BarProgress(quiet) as bar:
        return asyncio.run(run(enqueue, store, bar))


def _dry_run(settings: Settings, window: Window, page_size: int) -> DryRunSummary:
    engine = flow_engine(settings)
    counter = CallCounter()

    async def run(progress: BarProgress) -> DryRunSummary:
        async with (
            SalesforceClient(settings.salesforce, on_call=counter) as salesforce,
            NetSuiteClient(settings.netsuite, on_call=counter) as netsuite,
        ):
            return await dry_run_backfill(
                salesforce,
                netsuite,
                engine,
                window,
                multi_currency=settings.sync.multi_currency,
                progress=progress,
                page_size=page_size,
            )

    with BarProgress(quiet=False, finishing=False) as bar:
        return asyncio.run(run(bar))


class BarProgress:
    """``BackfillProgress`` as Rich bars on stderr: deals queued, deals finished.

    Args:
        quiet: Draw nothing (``--json``: stdout carries one document, stderr stays calm).
        finishing: Show the second bar (outcomes); a dry run has none.
    """

    def __init__(self, quiet: bool, *, finishing: bool = True) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=error_console,
            disable=quiet,
        )
        self._finishing = finishing
        self._listed: TaskID | None = None
        self._finished: TaskID | None = None

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def started(self, total: int) -> None:
        """Create the bars once the number of deals is known."""
        self._listed = self._progress.add_task("queued  ", total=total, rate="")
        if self._finishing:
            self._finished = self._progress.add_task("finished", total=None, rate="")

    def listed(self, count: int) -> None:
        """More deals queued or skipped."""
        if self._listed is not None:
            self._progress.advance(self._listed, count)
            self._rate(self._listed)
            if self._finished is not None:
                done = self._progress.tasks[self._listed].completed
                self._progress.update(self._finished, total=done)

    def finished(self, count: int) -> None:
        """Deals with an outcome so far."""
        if self._finished is not None:
            self._progress.update(self._finished, completed=count)
            self._rate(self._finished)

    def _rate(self, task_id: TaskID) -> None:
        speed = self._progress.tasks[task_id].speed
        self._progress.update(task_id, rate=f"{speed:.1f}/s" if speed else "")


def _show(data: dict[str, Any], as_json: bool, describe: Any, summary: Any) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        describe(summary)


def _describe(summary: BackfillSummary) -> None:
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "none"
    console.print(
        f"{summary.job}: {summary.total} deal(s) in the window; queued {summary.queued}, "
        f"skipped {summary.skipped} (already handled); outcomes: {outcomes}",
        highlight=False,
    )
    for failure in summary.failures:
        console.print(f"[red]failed[/red] {failure['opportunity']}: {failure['reason']}")
    if summary.unfinished:
        console.print(f"{summary.unfinished} deal(s) still running; they finish in the worker")
    if summary.paused:
        console.print(f"[yellow]paused[/yellow]: {summary.paused}", highlight=False)
    elif summary.cursor:
        console.print(f"cursor at {summary.cursor}", highlight=False)


def _describe_dry_run(summary: DryRunSummary) -> None:
    console.print(
        f"dry run: {summary.total} deal(s); deals {dict(summary.deals)}; "
        f"records {dict(summary.records)}; nothing was written",
        highlight=False,
    )
    for blocked in summary.blocked:
        console.print(f"[yellow]blocked[/yellow] {blocked['opportunity']}: {blocked['reason']}")
