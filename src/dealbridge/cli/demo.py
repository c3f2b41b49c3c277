"""``dealbridge demo``: the NetSuite leg of a won deal, end to end against the local emulator.

Starts the NetSuite emulator as a child process, writes one sample Closed Won deal — customer,
contact, billing account, price plans, subscription plan, price book, subscription and package
record — through ``NetSuiteClient`` with OAuth 2.0, then writes it again to show that a repeated
sync changes nothing and creates no duplicate. The Salesforce side and the durable engine join
this command as they are built.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dealbridge.cli.demo_deal import DemoWrite, sample_deal_writes
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.suiteql import sql_in_list
from dealbridge.settings import NetSuiteSettings

START_TIMEOUT_SECONDS = 60.0


@contextmanager
def _netsuite_emulator(state_dir: Path) -> Iterator[dict[str, Any]]:
    """Run the emulator as a child process and yield its first stdout line."""
    shutil.rmtree(state_dir, ignore_errors=True)
    command = [sys.executable, "-m", "dealbridge", "emulate", "netsuite", "--port", "0"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*command, "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None  # noqa: S101 - set by stdout=PIPE
        line = process.stdout.readline()
        if not line:
            typer.echo(f"the NetSuite emulator did not start (exit {process.wait()})", err=True)
            raise typer.Exit(1)
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=15)


def _oauth2_settings(info: dict[str, Any]) -> NetSuiteSettings:
    oauth2 = info["oauth2"]
    return NetSuiteSettings(
        account=info["account"],
        base_url=info["base_url"],
        auth_mode="oauth2",
        client_id=oauth2["client_id"],
        certificate_id=oauth2["certificate_id"],
        private_key_file=oauth2["private_key_pem"],
        jwt_algorithm=oauth2["algorithm"],
        concurrency_limit=5,
    )


async def _item_ids(client: NetSuiteClient, codes: list[str]) -> dict[str, str]:
    """Item internal ids by ``itemId`` (the product master, DESIGN §4), in one SuiteQL call."""
    rows = await client.suiteql_all(
        f"SELECT id, itemid FROM item WHERE itemid IN {sql_in_list(codes)}"  # noqa: S608
    )
    return {row["itemid"]: row["id"] for row in rows}


async def _write_deal(client: NetSuiteClient) -> list[tuple[DemoWrite, str]]:
    """Upsert every record of the sample deal in dependency order; returns (write, id) pairs."""
    written: dict[str, str] = {}
    results: list[tuple[DemoWrite, str]] = []
    items = await _item_ids(client, ["PLAT-PRO", "SEAT-STD", "SUPPORT-STD"])
    for write in sample_deal_writes(items):
        body = write.resolve(written)
        internal_id = await client.upsert(write.record_type, write.external_id, body)
        written[write.external_id] = internal_id
        results.append((write, internal_id))
    return results


def _show(console: Console, title: str, results: list[tuple[DemoWrite, str]]) -> None:
    table = Table(title=title)
    for column in ("NetSuite record", "external id", "internal id"):
        table.add_column(column)
    for write, internal_id in results:
        table.add_row(write.record_type, write.external_id, internal_id)
    console.print(table)


def demo(
    state_dir: Annotated[Path, typer.Option(help="Where the demo keeps its state.")] = Path(
        ".dealbridge/demo"
    ),
) -> None:
    """Write a sample won deal into a local NetSuite emulator, twice, and show it is idempotent."""
    console = Console()
    with _netsuite_emulator(state_dir / "netsuite") as info:
        console.print(f"NetSuite emulator at [bold]{info['base_url']}[/] ({info['account']})")
        settings = _oauth2_settings(info)

        async def run() -> tuple[list[tuple[DemoWrite, str]], list[tuple[DemoWrite, str]]]:
            async with NetSuiteClient(settings, on_call=lambda _record: None) as client:
                return await _write_deal(client), await _write_deal(client)

        started = time.monotonic()
        first, second = asyncio.run(run())
        _show(console, "First sync of the sample deal", first)
        same = [a[1] for a in first] == [b[1] for b in second]
        console.print(
            f"Second sync: {'same ids, no duplicates' if same else 'DIFFERENT ids'} "
            f"({len(second)} upserts by external id). Took {time.monotonic() - started:.2f}s."
        )
        if not same:
            raise typer.Exit(1)
