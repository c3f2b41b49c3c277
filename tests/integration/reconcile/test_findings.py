"""Reconciliation after a real sync: each kind of damage in its own category, and repair.

Done means (issue 7): records deleted, edited and duplicated directly in the NetSuite emulator
are each found in the right category, nothing else is reported, and ``--repair`` brings the
report to zero. Repair never writes NetSuite itself and leaves probable duplicates to a person
(they may be a real second customer); so after the repair only the duplicate is left, and once a
person has removed it the report is empty.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from dealbridge.core.records import RecordKey
from dealbridge.sync.reconcile_report import Item
from tests.integration.reconcile.support import SyncedOrg, solo_deals
from tests.integration.sync.harness import run

NOTHING = {"missing": 0, "drift": 0, "orphan": 0, "duplicate": 0, "money": 0, "blocked": 0}


def only(**counts: int) -> dict[str, int]:
    """A summary with these categories and zero everywhere else."""
    return {**NOTHING, **counts}


def unique_keys(synced: SyncedOrg, record_type: str) -> list[RecordKey]:
    """Records of a type that exactly one won deal plans."""
    expectation = synced.reconcile().expectation
    return [key for key in expectation.keys_of(record_type) if len(expectation.owners(key)) == 1]


def test_a_synced_org_reconciles_clean_with_totals_per_currency(synced: SyncedOrg) -> None:
    report = synced.reconcile().report

    assert report.summary() == NOTHING, [item.to_json() for item in report.items]
    assert report.checked["deals"] == len(synced.deals) >= 3
    assert report.checked["records"] > 5 * len(synced.deals)
    assert sum(row["deals"] for row in report.totals.values()) == len(synced.deals)
    for row in report.totals.values():
        assert row["netsuite"] == row["planned"]  # NetSuite bills what the flow planned
    assert report.calls["salesforce"] <= 3  # one listing page, one graph batch (2 queries)


def test_deleted_edited_and_duplicated_records_each_land_in_their_category(
    synced: SyncedOrg,
) -> None:
    contact = unique_keys(synced, "contact")[0]
    customers = {c["externalId"]: c for c in synced.org.ns_records("customer")}
    edited, copied = sorted(customers)[:2]
    copy_id = run(_damage(synced, contact, customers[edited], customers[copied]))

    report = synced.reconcile().report

    assert report.summary() == only(missing=1, drift=1, duplicate=1)
    missing, drift, duplicate = (_one(report.items, c) for c in ("missing", "drift", "duplicate"))
    assert (missing.record_type, missing.external_id) == (contact.record_type, contact.external_id)
    assert (drift.record_type, drift.external_id) == ("customer", edited)
    assert [(d.field, d.expected, d.actual) for d in drift.differences] == [
        ("companyName", customers[edited]["companyName"], "Renamed In NetSuite Ltd")
    ]
    assert duplicate.netsuite_id == copy_id
    assert duplicate.external_id is None
    assert copied in duplicate.message


def test_repair_rewrites_missing_and_drifted_records_and_leaves_duplicates_to_a_person(
    synced: SyncedOrg,
) -> None:
    contact = unique_keys(synced, "contact")[0]
    customers = {c["externalId"]: c for c in synced.org.ns_records("customer")}
    edited, copied = sorted(customers)[:2]
    copy_id = run(_damage(synced, contact, customers[edited], customers[copied]))
    damaged = synced.reconcile()

    outcomes = synced.repair(damaged)

    # Each repaired deal synced — or found, when it ran after a deal of the same account that
    # rewrote their shared customer, nothing left to write ("unchanged"); none failed. What the
    # repair restored is proven by the next reconciliation.
    statuses = [outcome.status for outcome in outcomes.values()]
    assert "synced" in statuses
    assert set(statuses) <= {"synced", "unchanged"}, statuses
    assert synced.reconcile().report.summary() == only(duplicate=1)
    run(_delete(synced, "customer", copy_id))  # the person merges the duplicate away
    assert synced.reconcile().report.summary() == NOTHING
    _assert_no_duplicate_external_ids(synced)


def test_a_quantity_changed_in_netsuite_is_a_money_finding_that_repair_restores(
    synced: SyncedOrg,
) -> None:
    subscription = synced.org.ns_records("subscription")[0]
    interval = subscription["priceInterval"][0]
    run(_add_units(synced, subscription["id"], interval, 7))

    damaged = synced.reconcile()

    assert damaged.report.summary() == only(money=1)
    amounts = _one(damaged.report.items, "money").amounts
    assert amounts is not None
    assert amounts["netsuite"] != amounts["planned"]
    assert {o.status for o in synced.repair(damaged).values()} == {"synced"}
    assert synced.reconcile().report.summary() == NOTHING


def test_a_deal_no_longer_won_leaves_its_own_records_as_orphans(synced: SyncedOrg) -> None:
    before = synced.reconcile().expectation
    lost = solo_deals(synced)[0].opportunity_id  # a shared customer would also drift
    own = {key for key in before.records if before.owners(key) == (lost,)}
    synced.org.update("Opportunity", lost, {"StageName": "Closed Lost"})

    report = synced.reconcile().report

    assert report.summary() == only(orphan=len(own))
    assert {RecordKey(i.record_type or "", i.external_id or "") for i in report.items} == own


def _one(items: list[Item], category: str) -> Item:
    found = [item for item in items if item.category == category]
    assert len(found) == 1, found
    return found[0]


async def _damage(
    synced: SyncedOrg, contact: RecordKey, edited: dict[str, Any], copied: dict[str, Any]
) -> str:
    """Delete a contact, rename a customer, and enter a second customer by hand."""
    async with synced.netsuite() as netsuite:
        await netsuite.delete("contact", f"eid:{contact.external_id}")
        await netsuite.update("customer", edited["id"], {"companyName": "Renamed In NetSuite Ltd"})
        body = {"companyName": copied["companyName"], "subsidiary": {"id": copied["subsidiary"]}}
        return await netsuite.create("customer", body)


async def _delete(synced: SyncedOrg, record_type: str, internal_id: str) -> None:
    async with synced.netsuite() as netsuite:
        await netsuite.delete(record_type, internal_id)


async def _add_units(
    synced: SyncedOrg, subscription_id: str, interval: dict[str, Any], units: int
) -> None:
    line = {
        "subscriptionPlanLineNumber": interval["subscriptionPlanLineNumber"],
        "startOffsetValue": interval.get("startOffsetValue", 1),
        "quantity": interval["quantity"] + units,
    }
    async with synced.netsuite() as netsuite:
        await netsuite.update("subscription", subscription_id, {"priceInterval": {"items": [line]}})


def _assert_no_duplicate_external_ids(synced: SyncedOrg) -> None:
    for record_type in ("customer", "contact", "billingAccount", "subscription"):
        counts = Counter(r.get("externalId") for r in synced.org.ns_records(record_type))
        assert all(n == 1 for key, n in counts.items() if key), counts
