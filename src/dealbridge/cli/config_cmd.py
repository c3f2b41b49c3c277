"""``dealbridge config check``: the settings in effect, secrets masked, and both connections tested.

Why one command for both: most first-run problems are a setting read from somewhere unexpected
(an old variable, a ``dealbridge.toml`` in another directory) or credentials the remote refuses;
seeing the effective values next to the outcome of a real call settles both at once.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from dealbridge.cli.runtime_cli import console, load_settings, print_json
from dealbridge.core.calls import REDACTED
from dealbridge.settings import Settings
from dealbridge.sync.connection_check import (
    DEFAULT_TIMEOUT_SECONDS,
    ConnectionStatus,
    check_connections,
)

config_app = typer.Typer(help="Settings: what is in effect, and whether it works.")


@config_app.command("check")
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=300, help="Seconds each system has to answer.")
    ] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """Print the effective settings (secrets masked) and test Salesforce and NetSuite.

    Exits 0 when both connections work, 1 otherwise.
    """
    settings = load_settings()
    statuses = asyncio.run(check_connections(settings, timeout_seconds=timeout))
    ok = all(status.ok for status in statuses)
    if as_json:
        print_json(
            {
                "ok": ok,
                "settings": masked_settings(settings),
                "connections": [status.as_dict() for status in statuses],
            }
        )
    else:
        _print_settings(masked_settings(settings))
        console.print()
        for status in statuses:
            console.print(_status_line(status), highlight=False)
    if not ok:
        raise typer.Exit(1)


def masked_settings(settings: Settings) -> dict[str, Any]:
    """Every setting as plain data; secrets as ``**********``, a database password as ``***``."""
    data: dict[str, Any] = settings.model_dump(mode="json")  # SecretStr dumps masked
    data["database_url"] = mask_url_password(settings.database_url)
    return data


def mask_url_password(url: str | None) -> str | None:
    """``postgresql://user:***@host/db``: the password of a URL masked, the rest kept."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def _print_settings(data: dict[str, Any], prefix: str = "") -> None:
    for name, value in data.items():
        if isinstance(value, dict):
            _print_settings(value, f"{prefix}{name}.")
        else:
            console.print(f"{prefix}{name} = {value!r}", highlight=False, markup=False)


def _status_line(status: ConnectionStatus) -> str:
    if status.ok:
        return f"[green]ok[/green]     {status.system} ({status.latency_ms:.0f} ms)"
    return f"[red]failed[/red] {status.system}: {_escape(status.error or 'unknown error')}"


def _escape(text: str) -> str:
    """Remote text must not be read as Rich markup."""
    return text.replace("[", "\\[")
