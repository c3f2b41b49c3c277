"""How the demo looks in a terminal (Rich): live progress while deals sync, then a summary.

Only renderables are built here; ``demo`` decides when to show them and on which console, so
``--json`` runs never write any of this to stdout.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dealbridge.cli.demo_progress import FAILED, RECORD_TYPES, SYNCED, WAITING, Snapshot
from dealbridge.cli.demo_report import DemoReport


@dataclass(frozen=True)
class ConsoleInfo:
    """Where to look next: the console URL and the admin login the demo created."""

    url: str
    username: str | None = None
    password: str | None = None
    salesforce_url: str | None = None
    keeps_running: bool = True


def progress_view(report: DemoReport, *, watching: bool = False) -> RenderableType:
    """Deals closed / synced / failed / waiting, and NetSuite records by type."""
    snapshot, closed = report.snapshot, report.closed.all
    counts = Table.grid(padding=(0, 3))
    for _ in range(4):
        counts.add_column(justify="right")
    counts.add_row(
        Text(f"closed {len(closed)}", style="bold"),
        Text(f"synced {snapshot.count(SYNCED, closed)}", style="green"),
        Text(f"failed {snapshot.count(FAILED, closed)}", style="red"),
        Text(f"waiting {snapshot.count(WAITING, closed)}", style="yellow"),
    )
    title = "dealbridge demo — syncing" if not watching else "dealbridge demo — watching"
    parts: list[RenderableType] = [counts, records_table(snapshot)]
    extra = len(snapshot.states) - len(set(closed) & set(snapshot.states))
    if watching and extra > 0:
        parts.append(Text(f"{extra} more deal(s) closed since; synced as they came", "cyan"))
    parts.append(Text(f"{report.seconds:.1f} s", style="dim"))
    return Panel(Group(*parts), title=title, expand=False)


def records_table(snapshot: Snapshot) -> Table:
    """NetSuite records by type (what the NetSuite emulator holds now)."""
    table = Table(title="NetSuite records", show_edge=False, title_justify="left")
    table.add_column("type")
    table.add_column("count", justify="right")
    for record_type in RECORD_TYPES:
        table.add_row(record_type, str(snapshot.records.get(record_type, 0)))
    return table


def summary_view(report: DemoReport, console: ConsoleInfo) -> RenderableType:
    """The end-of-batch summary: outcome, records, open errors and where to go next."""
    data = report.as_json()
    verdict = (
        Text("every sound deal synced; every flawed deal has an open error", "bold green")
        if report.passed
        else Text("; ".join(report.problems()) or "not finished", "bold red")
    )
    headline = Text(
        f"{data['deals_synced']} of {data['deals_closed']} deals synced, "
        f"{data['deals_failed']} failed, {data['duplicates']} duplicate NetSuite records, "
        f"{data['seconds']} s"
    )
    parts: list[RenderableType] = [headline, verdict, records_table(report.snapshot)]
    if report.snapshot.errors:
        parts.append(errors_table(report))
    parts.append(console_lines(console))
    return Panel(Group(*parts), title="dealbridge demo — summary", expand=False)


def errors_table(report: DemoReport) -> Table:
    """Open errors with their class and reason (what the console's error list shows)."""
    table = Table(title="Open errors", show_edge=False, title_justify="left")
    table.add_column("opportunity")
    table.add_column("flaw")
    table.add_column("class")
    table.add_column("reason", overflow="fold", max_width=80)
    for error in report.snapshot.errors:
        flaw = report.closed.flawed.get(error.opportunity, "")
        table.add_row(error.opportunity, flaw, error.failure_class, error.message)
    return table


def console_lines(console: ConsoleInfo) -> Text:
    """The console URL, the admin login, where Salesforce is, and how to stop."""
    text = Text()
    text.append("Console: ", style="bold")
    text.append(console.url)
    if console.username and console.password:
        text.append(f"   login: {console.username} / {console.password}")
    if console.salesforce_url:
        text.append("\nSalesforce emulator: ", style="bold")
        text.append(f"{console.salesforce_url} (REST API; control API under /__emulator__)")
    if console.keeps_running:
        text.append(
            "\nClose more deals in the Salesforce emulator and watch them sync. Ctrl-C stops.",
            style="dim",
        )
    return text
