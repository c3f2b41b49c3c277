"""What the engine's commands share: settings, the ledger, the operator and a way to enqueue.

Why two ways to enqueue: on SQLite only one process may run DBOS (contracts/dbos.md §2a). When a
worker (or ``serve``) already holds the data directory, a command only *inserts* the workflow with
a ``DBOSClient`` and the worker runs it; when none does, the command launches a runtime of its
own for as long as it needs. On PostgreSQL a command always enqueues through a client and leaves
the work to the workers.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NoReturn

import typer
from dbos import DBOSClient
from rich.console import Console

from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.core.logs import configure_logging
from dealbridge.db import migrate
from dealbridge.errors import DealbridgeError
from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.operator import Operator
from dealbridge.sync.runtime import (
    APP_NAME,
    Runtime,
    is_sqlite,
    runtime_is_running,
    system_database_url,
)
from dealbridge.sync.triggers import enqueue_with_client, read_trigger_facts

console = Console()
error_console = Console(stderr=True)


def load_settings() -> Settings:
    """Settings from env and ``./dealbridge.toml``, with logging set up from them."""
    try:
        settings = Settings()
    except DealbridgeError as error:
        fail(error.message)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def actor() -> str:
    """Who the audit log names for a CLI action."""
    return f"cli:{getpass.getuser()}"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    error_console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def reporting() -> Iterator[None]:
    """A dealbridge error as one line on stderr and exit code 1, not a traceback."""
    try:
        yield
    except DealbridgeError as error:
        fail(error.message)


@contextmanager
def ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger, brought to the current schema first."""
    url = settings.resolved_database_url()
    migrate.upgrade(url)
    opened = Ledger(url)
    try:
        yield opened
    finally:
        opened.dispose()


def needs_local_runtime(settings: Settings) -> bool:
    """True on SQLite when no worker holds the data directory: run the work here."""
    return is_sqlite(settings) and not runtime_is_running(settings)


@contextmanager
def local_runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime in this process, drained and stopped on the way out."""
    runtime = Runtime(settings)
    runtime.launch()
    try:
        yield runtime
    finally:
        runtime.shutdown(settings.sync.shutdown_timeout_seconds)


@contextmanager
def dbos_client(settings: Settings) -> Iterator[DBOSClient]:
    """A client of the system database (the workers' DBOS must have created it)."""
    client = DBOSClient(
        system_database_url=system_database_url(settings), application_name=APP_NAME
    )
    try:
        yield client
    finally:
        client.destroy()


def client_operator(store: Ledger, client: DBOSClient) -> Operator:
    """Error actions that leave the retry to a running worker."""

    def enqueue(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
        enqueue_with_client(client, workflow_id, opportunity_id, info)

    return Operator(store, enqueue)


def trigger_facts(settings: Settings, opportunity_id: str) -> tuple[str | None, str]:
    """AccountId and SystemModstamp of the opportunity, with a client of this command's own."""

    async def read() -> tuple[str | None, str]:
        async with SalesforceClient(settings.salesforce) as salesforce:
            return await read_trigger_facts(salesforce, opportunity_id)

    return asyncio.run(read())


def print_json(data: Any) -> None:
    """One JSON document on stdout (dates as ISO 8601)."""
    typer.echo(json.dumps(data, default=_plain, indent=2, sort_keys=True))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
