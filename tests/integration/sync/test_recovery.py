"""A worker killed with SIGKILL in the middle of its upserts: the deal finishes, nothing doubled."""

from __future__ import annotations

from pathlib import Path

from dbos import DBOS, DBOSClient

from dealbridge.db import runs
from dealbridge.settings import Settings
from dealbridge.sync import (
    Runtime,
    enqueue_with_client,
    trigger_info,
    wait_for_outcome,
    workflow_id_for,
)
from dealbridge.sync.runtime import APP_NAME, system_database_url
from tests.integration.sync.harness import (
    Emulators,
    by_external_id,
    env_for,
    run,
    settings_for,
    wait_until,
)
from tests.support.processes import dealbridge_process

EXECUTOR = "crash-test-worker"
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


def _enqueue(settings: Settings, row: dict[str, str]) -> str:
    """Queue the deal from outside the worker, as the CLI does beside a running worker."""
    workflow_id = workflow_id_for(row["Id"], row["SystemModstamp"])
    info = trigger_info(
        "poller", account_id=row["AccountId"], system_modstamp=row["SystemModstamp"]
    )
    client = DBOSClient(
        system_database_url=system_database_url(settings), application_name=APP_NAME
    )
    try:
        enqueue_with_client(client, workflow_id, row["Id"], info)
    finally:
        client.destroy()
    return workflow_id


def _writes(org: Emulators) -> int:
    return int(org.netsuite_control.stats()["by_status"].get("204", 0))


def test_a_deal_interrupted_mid_upserts_finishes_after_restart_without_duplicates(
    org: Emulators, tmp_path: Path
) -> None:
    DBOS.destroy()
    settings = settings_for(org, tmp_path / "data").model_copy(update={"executor_id": EXECUTOR})
    org.netsuite_control.faults(latency_ms=300, jitter=0.0)
    row = org.close_won(org.seeded["won_candidates"][0])

    with dealbridge_process(["worker"], env=env_for(settings)) as worker:
        assert worker.info["executor_id"] == EXECUTOR
        workflow_id = _enqueue(settings, row)
        wait_until(lambda: _writes(org) >= 1, "the worker's first NetSuite write")
        worker.process.kill()
        worker.process.wait(timeout=10)
    written_before_restart = _writes(org)
    org.netsuite_control.faults(latency_ms=0)

    runtime = Runtime(settings)
    runtime.launch()
    try:
        outcome = run(wait_for_outcome(workflow_id, 120))
        with runtime.ledger.session() as session:
            assert len(runs.list_runs(session, runs.RunFilter(opportunity=row["Id"]))) == 1
    finally:
        runtime.shutdown(0)

    assert outcome["status"] == "synced", outcome
    assert written_before_restart < len(outcome["netsuite_ids"])
    stored = {t: by_external_id(org.ns_records(t)) for t in RECORD_TYPES}  # fails on duplicates
    for key, internal_id in outcome["netsuite_ids"].items():
        record_type, external_id = key.split("/", 1)
        assert stored[record_type][external_id]["id"] == internal_id
    assert sum(len(records) for records in stored.values()) == len(outcome["netsuite_ids"])
    assert org.get("Opportunity", row["Id"])["NetSuite_Sync_Status__c"] == "Synced"
