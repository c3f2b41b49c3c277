"""``backfill --dry-run`` after a real sync: what a backfill would write, writing nothing."""

from __future__ import annotations

from datetime import date

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.mapping.lookups import TableCache
from dealbridge.sync.backfill import DryRunSummary, dry_run_backfill
from dealbridge.sync.reconcile_fetch import Window
from tests.integration.reconcile.support import SyncedOrg, cli_json
from tests.integration.sync.harness import run


def dry_run(synced: SyncedOrg) -> DryRunSummary:
    settings = synced.runtime.settings

    async def go() -> DryRunSummary:
        async with (
            SalesforceClient(settings.salesforce) as salesforce,
            NetSuiteClient(settings.netsuite) as netsuite,
        ):
            return await dry_run_backfill(
                salesforce, netsuite, synced.runtime.engine, Window(), cache=TableCache()
            )

    return run(go())


def test_a_synced_org_would_change_nothing_and_a_deleted_record_would_be_created(
    synced: SyncedOrg,
) -> None:
    before = dry_run(synced)
    package = synced.org.ns_records("customrecord_cpq_package")[0]
    run(_delete(synced, package["id"]))
    stats = synced.org.netsuite_control.stats()

    after = dry_run(synced)

    # Two deals of one account plan the shared customer with their own primary contact's
    # e-mail: the one not synced last would update it (shown, not a difference to hide).
    assert before.records["create"] == 0
    assert sum(before.deals.values()) == len(synced.deals)
    assert after.records["create"] == 1
    assert after.deals["create"] == 1
    writes = synced.org.netsuite_control.stats()["by_status"].get("204", 0)
    assert writes == stats["by_status"].get("204", 0)  # the dry run wrote nothing


def test_the_command_prints_the_same_as_json(synced: SyncedOrg) -> None:
    since = date(2000, 1, 1).isoformat()
    shown = cli_json(synced.runtime, "backfill", "--since", since, "--dry-run", "--json")
    assert sum(shown["deals"].values()) == shown["total"] == len(synced.deals)
    assert shown["records"].get("create", 0) == 0
    assert shown["blocked"] == []


async def _delete(synced: SyncedOrg, internal_id: str) -> None:
    async with synced.netsuite() as netsuite:
        await netsuite.delete("customrecord_cpq_package", internal_id)
