"""``dealbridge flows …``: check flow files and export their JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dealbridge.errors import ConfigError
from dealbridge.mapping.flow_problems import FlowFileError
from dealbridge.mapping.flow_schema import flow_schema_json
from dealbridge.mapping.loader import load_flow, shipped_flow_paths

flows_app = typer.Typer(help="Check flow files and export their schema.", no_args_is_help=True)


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
