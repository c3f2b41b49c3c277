"""Several ``dealbridge worker`` processes on one throwaway PostgreSQL, and what to check after.

Everything is driven from outside, as an operator would: deals are seeded and closed through the
Salesforce emulator (control API, then one sObject Collections PATCH per 200 deals that sets
``StageName`` and moves each deal to one of N accounts), queued with a ``DBOSClient`` as the CLI
does beside running workers, and checked through DBOS's workflow statuses, the ledger's ``runs``
table and the NetSuite emulator's records and statistics.

Why deals are moved between accounts: the generated org has about one account per two deals, and
the point here is many deals per account (the ``deals`` queue's partitions). Whole accounts move
together — every deal of one original account goes to the same target — so a contact, which
NetSuite files under its company, is still only ever written by deals of one partition.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dbos import DBOSClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from dealbridge.db.models import Run
from dealbridge.settings import Settings
from dealbridge.sync import enqueue_with_client, trigger_info, workflow_id_for
from dealbridge.sync.runtime import APP_NAME
from tests.integration.sync.harness import Emulators, env_for, settings_for
from tests.support.processes import StartedProcess, dealbridge_process

WON_CANDIDATES_PER_DEAL = 0.55  # the seed org offers ~0.57 open, sound, quoted deals per deal
COLLECTION_MAX = 200
FINISHED = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})
RECORD_TYPES = (
    "customer",
    "contact",
    "billingAccount",
    "pricePlan",
    "subscriptionPlan",
    "priceBook",
    "subscription",
    "customrecord_cpq_package",
)
POLL_SECONDS = 0.5  # each poll lists every deal's status: CPU the workers want


@dataclass(frozen=True)
class Deal:
    """One closed deal and the workflow that syncs it."""

    opportunity_id: str
    account_id: str
    system_modstamp: str

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.opportunity_id, self.system_modstamp)


def seed_deals(org: Emulators, deals: int, accounts: int, seed: int = 1) -> list[Deal]:
    """A fresh org; ``deals`` sound deals closed won, spread over ``accounts`` accounts."""
    org.netsuite_control.reset()
    org.sf_control("POST", "/reset")
    size = math.ceil(deals / WON_CANDIDATES_PER_DEAL) + 20
    candidates = org.sf_control("POST", "/seed", {"seed": seed, "deals": size})["won_candidates"]
    assert len(candidates) >= deals, f"the org offers {len(candidates)} deals, not {deals}"
    chosen = candidates[:deals]
    before = {row["Id"]: row for row in org.sf_control("GET", "/records/Opportunity")}
    originals = sorted({before[i]["AccountId"] for i in chosen})
    assert len(originals) >= accounts, f"only {len(originals)} accounts"
    targets = originals[:accounts]
    move = {original: targets[n % accounts] for n, original in enumerate(originals)}
    _close(org, [(i, move[before[i]["AccountId"]]) for i in chosen])
    after = {row["Id"]: row for row in org.sf_control("GET", "/records/Opportunity")}
    return [Deal(i, after[i]["AccountId"], after[i]["SystemModstamp"]) for i in chosen]


def _close(org: Emulators, moves: list[tuple[str, str]]) -> None:
    """Close won and move to the target account, 200 deals per Collections PATCH."""
    with org.sf_rest() as rest:
        for first in range(0, len(moves), COLLECTION_MAX):
            records = [
                {
                    "attributes": {"type": "Opportunity"},
                    "Id": opportunity_id,
                    "StageName": "Closed Won",
                    "AccountId": account_id,
                }
                for opportunity_id, account_id in moves[first : first + COLLECTION_MAX]
            ]
            answer = rest.patch("/composite/sobjects", json={"records": records})
            assert answer.status_code == 200, answer.text
            refused = [result for result in answer.json() if not result.get("success")]
            assert not refused, refused[:3]


def fleet_settings(org: Emulators, data_dir: Path, database_url: str, **sync: Any) -> Settings:
    """Workers' settings: both emulators, PostgreSQL, NetSuite limit 5, quick queue polling."""
    settings = settings_for(org, data_dir, database_url=database_url, **sync)
    netsuite = settings.netsuite.model_copy(update={"concurrency_limit": 5, "max_attempts": 6})
    return settings.model_copy(update={"netsuite": netsuite})


@contextmanager
def started_together(managers: list[Any]) -> Iterator[list[StartedProcess]]:
    """Enter ``dealbridge_process`` managers at the same time; every started one stopped after.

    Why at once: each child spends seconds importing and launching on a busy two-core machine,
    mostly waiting on the CPU the others also want, and the tier's run time is the sum.
    """
    with ExitStack() as stack:
        with ThreadPoolExecutor(len(managers)) as pool:
            entering = [pool.submit(manager.__enter__) for manager in managers]
        failures = []
        for manager, future in zip(managers, entering, strict=True):
            if future.exception() is None:
                stack.push(manager)
            else:
                failures.append(future.exception())
        if failures:
            raise RuntimeError(f"a process did not start: {failures[0]}")
        yield [future.result() for future in entering]


@contextmanager
def workers(settings: Settings, count: int) -> Iterator[list[StartedProcess]]:
    """``count`` ``dealbridge worker`` processes, ``w0`` … ``w<count-1>``, stopped after.

    Started at the same time. The budget stays sound anyway: the last process to take its
    liveness lock sees all the others' and waits a reaper pass and a half before taking deals,
    so every share is current by the time all have printed their first line.
    """
    managers = [
        dealbridge_process(["worker"], env=env_for(settings, DEALBRIDGE_EXECUTOR_ID=f"w{n}"))
        for n in range(count)
    ]
    with started_together(managers) as started:
        yield started


@contextmanager
def seeded_fleet(
    org: Emulators, settings: Settings, count: int, deals: int, accounts: int
) -> Iterator[tuple[list[StartedProcess], list[Deal]]]:
    """``workers`` started while the org is seeded (the two are independent until deals queue)."""
    with ThreadPoolExecutor(1) as pool:
        seeding = pool.submit(seed_deals, org, deals, accounts)
        with workers(settings, count) as started:
            yield started, seeding.result()


@contextmanager
def dbos_client(database_url: str) -> Iterator[DBOSClient]:
    """A client of the workers' system database."""
    client = DBOSClient(system_database_url=database_url, application_name=APP_NAME)
    try:
        yield client
    finally:
        client.destroy()


def enqueue(client: DBOSClient, deals: list[Deal]) -> None:
    """Queue every deal as the poller would (one workflow per deal, partitioned by account)."""
    for deal in deals:
        info = trigger_info(
            "poller", account_id=deal.account_id, system_modstamp=deal.system_modstamp
        )
        enqueue_with_client(client, deal.workflow_id, deal.opportunity_id, info)


def statuses(client: DBOSClient, workflow_ids: list[str]) -> dict[str, Any]:
    """DBOS's status rows of these workflows, by id."""
    rows = client.list_workflows(workflow_ids=workflow_ids, load_input=False, load_output=False)
    return {row.workflow_id: row for row in rows}


def wait_finished(client: DBOSClient, deals: list[Deal], timeout: float) -> dict[str, Any]:
    """Poll until every deal's workflow has finished; its status rows."""
    ids = [deal.workflow_id for deal in deals]
    deadline = time.monotonic() + timeout
    while True:
        rows = statuses(client, ids)
        if len(rows) == len(ids) and all(row.status in FINISHED for row in rows.values()):
            return rows
        counts: dict[str, int] = defaultdict(int)
        for row in rows.values():
            counts[row.status] += 1
        assert time.monotonic() < deadline, f"deals still running after {timeout} s: {counts}"
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class RunRow:
    """What the checks read of one ledger run."""

    workflow_id: str
    account_id: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None


def ledger_runs(database_url: str, deals: list[Deal]) -> list[RunRow]:
    """The ledger's runs of these deals."""
    engine = create_engine(database_url)
    try:
        ids = [deal.workflow_id for deal in deals]
        with Session(engine) as session:
            rows = session.scalars(select(Run).where(Run.workflow_id.in_(ids))).all()
            return [
                RunRow(r.workflow_id, r.account_id, r.status, r.started_at, r.finished_at)
                for r in rows
            ]
    finally:
        engine.dispose()


def overlaps(runs: list[RunRow]) -> list[tuple[str, str]]:
    """Pairs of runs of one account whose [started_at, finished_at] intervals overlap."""
    by_account: dict[str | None, list[RunRow]] = defaultdict(list)
    for run in runs:
        by_account[run.account_id].append(run)
    found: list[tuple[str, str]] = []
    for account_runs in by_account.values():
        ordered = sorted(account_runs, key=lambda run: run.started_at or datetime.min)
        for earlier, later in itertools.pairwise(ordered):
            assert earlier.finished_at is not None
            assert later.started_at is not None
            if later.started_at < earlier.finished_at:
                found.append((earlier.workflow_id, later.workflow_id))
    return found


def duplicate_external_ids(org: Emulators) -> dict[str, list[str]]:
    """External ids stored more than once, per NetSuite record type."""
    duplicates: dict[str, list[str]] = {}
    for record_type in RECORD_TYPES:
        seen: dict[str, int] = defaultdict(int)
        for record in org.ns_records(record_type):
            seen[str(record.get("externalId"))] += 1
        repeated = sorted(eid for eid, count in seen.items() if count > 1)
        if repeated:
            duplicates[record_type] = repeated
    return duplicates
