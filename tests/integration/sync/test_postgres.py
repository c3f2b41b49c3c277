"""The same engine on PostgreSQL: ledger and DBOS in one database (DBOS in its own schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS

from dealbridge.db import runs
from dealbridge.sync import Runtime
from tests.integration.sync.harness import Emulators, by_external_id, close_and_sync, settings_for
from tests.support import postgres_db

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_db.fresh_database("dealbridge_sync") as url:
        yield url


def test_a_sound_deal_syncs_on_postgres(org: Emulators, tmp_path: Path, postgres_url: str) -> None:
    DBOS.destroy()
    runtime = Runtime(settings_for(org, tmp_path / "data", database_url=postgres_url))
    runtime.launch()
    try:
        opportunity_id = org.seeded["won_candidates"][0]
        budget = runtime.fleet.budget
        assert runtime.queue.global_concurrency == budget.deals_in_flight  # several processes
        assert runtime.queue.worker_concurrency == budget.deals_per_process
        outcome = close_and_sync(org, opportunity_id)
        with runtime.ledger.session() as session:
            run = runs.get_run(session, outcome["run_id"])
            assert run is not None
            assert run.status == "synced"
    finally:
        runtime.shutdown(0)

    assert outcome["status"] == "synced", outcome
    subscriptions = by_external_id(org.ns_records("subscription"))
    assert {f"subscription/{eid}" for eid in subscriptions} <= set(outcome["netsuite_ids"])
    assert org.get("Opportunity", opportunity_id)["NetSuite_Sync_Status__c"] == "Synced"
    assert not (tmp_path / "data" / "dbos.sqlite3").exists()
