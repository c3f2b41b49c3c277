"""``dealbridge flows …``: check flow files, export their JSON Schema, preview a deal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
from pydantic import ValidationError as SettingsError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dealbridge.core.calls import CallRecord
from dealbridge.core.logs import configure_logging
from dealbridge.core.records import Violation
from dealbridge.errors import ConfigError, DealbridgeError
from dealbridge.mapping.flow_problems import FlowFileError
from dealbridge.mapping.flow_schema import flow_schema_json
from dealbridge.mapping.loader import load_flow, shipped_flow_paths
from dealbridge.mapping.preview import OperationPreview, PreviewResult, preview_opportunity
from dealbridge.settings import Settings

flows_app = typer.Typer(
    help="Check flow files, export their schema, preview a deal.", no_args_is_help=True
)
# Exit code when no preview could be made (settings, flow file, a system unreachable); a deal
# with violations is a preview like any other and exits 0.
PREVIEW_FAILED = 2
_ACTION_STYLE = {"create": "green", "update": "yellow", "unchanged": "dim"}


@flows_app.command("check")
def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Flow files (default: every shipped flow).", show_default=False),
    ] = None,
    hooks: Annotated[
        bool, typer.Option("--hooks", help="Also import the flows' hooks (runs their code).")
    ] = False,
) -> None:
    """Validate flow files: schema, expressions, lookup tables; exit 1 on any problem."""
    paths = files or shipped_flow_paths()
    if not paths:
        typer.echo("no flow files to check")
        return
    failed = [path for path in paths if not _check_one(path, hooks)]
    if failed:
        raise typer.Exit(1)


def _check_one(path: Path, hooks: bool) -> bool:
    """Print ``OK …`` or every problem of one file; True when it loaded."""
    try:
        flow = load_flow(path, check_hooks=hooks)
    except FlowFileError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        return False
    except ConfigError as error:
        typer.echo(f"{path}: {error}", err=True)
        return False
    records, lookups = len(flow.spec.records), len(flow.spec.lookups)
    typer.echo(f"OK {_shown(path)} ({records} records, {lookups} lookups)")
    return True


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it is below it (shorter to read)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


@flows_app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print (or write) the JSON Schema of flow files: pretty, keys sorted."""
    text = flow_schema_json()
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


@flows_app.command("preview")
def preview(
    opportunity: Annotated[
        str, typer.Option("--opportunity", help="Opportunity id (15 or 18 characters).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    flow: Annotated[
        Path | None, typer.Option("--flow", help="Flow file (default: the sync's flow).")
    ] = None,
) -> None:
    """Show what a sync of one deal would write, diffed against NetSuite; writes nothing.

    Exit 0 even with violations (they are part of the preview); 2 when no preview can be made.
    """
    result = _preview_result(opportunity, flow)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str))
        return
    print_preview(result, Console(highlight=False))


def _preview_result(opportunity: str, flow: Path | None) -> PreviewResult:
    """Run the preview; a problem with settings, the flow or either system exits 2."""
    try:
        settings = Settings()
        configure_logging(settings.log_level, settings.log_format)
        call = preview_opportunity(opportunity, settings=settings, flow_path=flow, on_call=_debug)
        return asyncio.run(call)
    except FlowFileError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
    except DealbridgeError as error:
        typer.echo(f"error: {error.message}", err=True)
    except SettingsError as error:
        typer.echo(f"error: the settings are invalid: {error}", err=True)
    raise typer.Exit(PREVIEW_FAILED)


def _debug(record: CallRecord) -> None:
    """API calls at debug level: a preview's output is the plan, not its calls."""
    structlog.get_logger("dealbridge.calls").debug("api_call", **record.as_dict())


def print_preview(result: PreviewResult, console: Console) -> None:
    """The preview for people: violations, then one table per record."""
    plan = result.plan
    console.print(Text(f"Opportunity {result.opportunity} · flow {plan.flow} v{plan.flow_version}"))
    if not result.triggered:
        console.print("[yellow]The flow's trigger does not hold (not won?); shown as if it did.")
    _print_violations(result.violations, console)
    counts = result.counts()
    console.print(
        f"{len(result.operations)} records: {counts['create']} to create, "
        f"{counts['update']} to update, {counts['unchanged']} unchanged"
    )
    for operation in result.operations:
        _print_operation(operation, console)
    if not plan.ok:
        console.print("[red]The deal has errors: a sync would write nothing to NetSuite.")


def _print_violations(violations: list[Violation], console: Console) -> None:
    if not violations:
        console.print("[green]No violations.")
        return
    table = Table(title="Violations", title_justify="left")
    for header in ("", "Salesforce", "NetSuite", "Rule", "Message"):
        table.add_column(header, overflow="fold")
    for violation in violations:
        colour = "red" if violation.severity == "error" else "yellow"
        table.add_row(
            Text(violation.severity, style=colour),
            Text(f"{violation.source.sobject} {violation.source.record_id}"),
            Text(f"{violation.record}.{violation.field_path}"),
            Text(violation.rule),
            Text(violation.message),
        )
    console.print(table)


def _print_operation(preview: OperationPreview, console: Console) -> None:
    """One record: its action, then each field it sets (create) or changes (before → after)."""
    action, key = preview.diff.action, preview.operation.key
    title = Text.assemble((action, _ACTION_STYLE[action]), f" {key} ({preview.operation.name})")
    if not preview.diff.changes:
        console.print(title)
        return
    creating = action == "create"
    headers = ("Value",) if creating else ("Before", "", "After")
    table = Table(title=title, title_justify="left")
    table.add_column("Field", overflow="fold")
    for header in headers:
        table.add_column(header)
    for change in preview.diff.changes:
        values = [change.after] if creating else [change.before, "→", change.after]
        table.add_row(Text(change.path), *(_value(value) for value in values))
    console.print(table)


def _value(value: Any) -> Text:
    """A value as text: nothing is ``—``, structures are compact JSON."""
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, str):
        return Text(value)
    return Text(json.dumps(value, ensure_ascii=False, default=str))
