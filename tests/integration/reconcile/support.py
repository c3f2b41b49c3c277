"""Reconciliation against running emulators: sync the won deals, reconcile, repair, run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import TableCache
from dealbridge.settings import Settings
from dealbridge.sync import Runtime
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile import (
    CallCounter,
    Reconciliation,
    plan_repairs,
    reconcile,
    repair,
)
from dealbridge.sync.reconcile_fetch import Window, WonDeal, iter_won
from dealbridge.sync.reconcile_ledger import RunOutcome, wait_for_runs
from dealbridge.sync.triggers import start_on_queue
from tests.integration.sync.harness import Emulators, enqueue_and_wait, env_for, run

COMMAND_TIMEOUT = 300
REPAIR_SECONDS = 180.0


@dataclass
class SyncedOrg:
    """Both emulators, a launched runtime, and the won deals it synced."""

    org: Emulators
    runtime: Runtime
    deals: list[WonDeal]

    def reconcile(self, window: Window | None = None) -> Reconciliation:
        """A reconciliation with clients of its own (as the CLI makes them)."""
        runtime = self.runtime
        return reconcile_with(runtime.settings, runtime.engine, runtime.ledger, window)

    def repair(self, result: Reconciliation, reference: str = "t1") -> dict[str, RunOutcome]:
        """Queue the repairs in this runtime and wait for them."""

        async def go() -> dict[str, RunOutcome]:
            ledger = self.runtime.ledger
            queued = await repair(plan_repairs(result), ledger, start_on_queue, reference=reference)
            return await wait_for_runs(ledger, queued, timeout=REPAIR_SECONDS)

        return run(go())

    def netsuite(self) -> NetSuiteClient:
        """A client of the NetSuite emulator (a person editing records by hand)."""
        return NetSuiteClient(self.runtime.settings.netsuite)


def solo_deals(synced: SyncedOrg) -> list[WonDeal]:
    """The won deals whose account has no other won deal: none of their records is shared.

    A record shared by two deals of an account (the customer, its billing account) holds what
    the deal synced last wrote; tests that change one deal pick one of these.
    """
    accounts = Counter(deal.account_id for deal in synced.deals)
    solo = [deal for deal in synced.deals if accounts[deal.account_id] == 1]
    assert solo, "the org has no won deal alone on its account"
    return solo


def won_deals(runtime: Runtime) -> list[WonDeal]:
    """Every won deal of the Salesforce org."""

    async def go() -> list[WonDeal]:
        async with SalesforceClient(runtime.settings.salesforce) as salesforce:
            return [deal async for page in iter_won(salesforce, Window()) for deal in page]

    return run(go())


def sync_all(runtime: Runtime) -> list[WonDeal]:
    """Sync every won deal through the engine; each must land."""
    deals = won_deals(runtime)
    for deal in deals:
        row = {
            "Id": deal.opportunity_id,
            "AccountId": deal.account_id,
            "SystemModstamp": deal.system_modstamp,
        }
        outcome = enqueue_and_wait(row, trigger="manual")
        assert outcome["status"] == "synced", outcome
    return deals


def reconcile_with(
    settings: Settings,
    engine: FlowEngine,
    ledger: Ledger | None = None,
    window: Window | None = None,
) -> Reconciliation:
    """Reconcile with fresh clients and lookup tables, counting the calls."""
    counter = CallCounter()

    async def go() -> Reconciliation:
        async with (
            SalesforceClient(settings.salesforce, on_call=counter) as salesforce,
            NetSuiteClient(settings.netsuite, on_call=counter) as netsuite,
        ):
            return await reconcile(
                salesforce,
                netsuite,
                engine,
                window=window,
                ledger=ledger,
                cache=TableCache(),
                counter=counter,
            )

    return run(go())


def cli(runtime: Runtime, *args: str, expect: int = 0) -> str:
    """``dealbridge ARGS`` run as a user runs it, against the runtime's settings."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **env_for(runtime.settings)}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == expect, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done.stdout


def cli_json(runtime: Runtime, *args: str, expect: int = 0) -> Any:
    """``cli`` with its stdout read as one JSON document."""
    return json.loads(cli(runtime, *args, expect=expect))
