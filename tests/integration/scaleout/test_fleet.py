"""Three ``dealbridge worker`` processes on one PostgreSQL against NetSuite's limit of 5.

The Done-means of issue 9, with real processes throughout: the workers, both emulators, and the
throwaway database. The NetSuite emulator is set to a concurrency limit of 5 and every worker is
configured with the account's limit of 5; the workers split it (``dealbridge.sync.budget``).

The queue is deliberately given more deals than the default formula would admit (9 across the
three workers instead of 2), so each worker always wants more calls than its share: what keeps
NetSuite at 5 is then the split of the connector caps, not a quiet queue.

The size is the Done-means size, 300 deals over 20 accounts; the org is seeded while the workers
start, so the run is about a minute on a two-core machine.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.scaleout import fleet
from tests.integration.sync.harness import Emulators

pytestmark = pytest.mark.postgres

WORKERS = 3
ACCOUNTS = 20
NETSUITE_LIMIT = 5
DEALS_IN_FLIGHT = 9
DEALS = 300


@pytest.mark.slow
def test_three_workers_300_deals_over_20_accounts(
    emulators: Emulators, tmp_path: Path, postgres_url: str
) -> None:
    settings = fleet.fleet_settings(
        emulators, tmp_path / "data", postgres_url, queue_concurrency=DEALS_IN_FLIGHT
    )
    with (
        fleet.seeded_fleet(emulators, settings, WORKERS, DEALS, ACCOUNTS) as (started, deals),
        fleet.dbos_client(postgres_url) as client,
    ):
        emulators.netsuite_control.faults(
            concurrency_limit=NETSUITE_LIMIT, latency_ms=20, jitter=0.2
        )
        caps = [worker.info["netsuite_budget"]["connector_cap"] for worker in started]
        began = time.monotonic()
        fleet.enqueue(client, deals)
        rows = fleet.wait_finished(client, deals, timeout=60 + DEALS * 3)
        elapsed = time.monotonic() - began
    stats = emulators.netsuite_control.stats()
    runs = fleet.ledger_runs(postgres_url, deals)
    by_executor = Counter(row.executor_id for row in rows.values())
    timing = {"deals": DEALS, "seconds": round(elapsed, 1), "caps": caps}
    print(json.dumps({**timing, "by_executor": by_executor, "max": stats["max_in_flight"]}))

    assert len(deals) == DEALS
    assert Counter(row.status for row in rows.values()) == {"SUCCESS": DEALS}
    assert Counter(run.status for run in runs) == {"synced": DEALS}
    assert len({run.account_id for run in runs}) == ACCOUNTS
    assert stats["max_in_flight"] <= NETSUITE_LIMIT
    assert stats["responses_429"] == stats["concurrency_rejections"] == 0
    assert fleet.overlaps(runs) == []
    assert fleet.duplicate_external_ids(emulators) == {}
    assert set(by_executor) == {f"w{n}" for n in range(WORKERS)}  # all three took deals
