"""Two won deals of one account through the engine: the second keeps the first's account values.

The customer and the billing account (one per account, currency and frequency) are shared by
every deal of the account. Their create-only fields — the billing account's ``startDate``, the
customer's billing ``email`` — are set by the deal that creates them; a later deal with another
start date and another primary contact must leave them as they are (issue 4), while its own
records carry its own values, and syncing the first deal again writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from dealbridge.db.models import ApiCall
from dealbridge.sync import Runtime
from tests.integration.sync.harness import (
    Emulators,
    by_external_id,
    close_and_sync,
    enqueue_and_wait,
    touch,
)

SEEDED_DEALS = 40  # enough deals for an account with two sound ones of one currency and frequency


def deal_facts(org: Emulators, opportunity_id: str) -> dict[str, Any]:
    opportunity = org.get("Opportunity", opportunity_id)
    quote = org.get("SBQQ__Quote__c", opportunity["SBQQ__PrimaryQuote__c"])
    contact = org.get("Contact", quote["SBQQ__PrimaryContact__c"])
    return {
        "opportunity": opportunity_id,
        "account": opportunity["AccountId"],
        "group": (quote["CurrencyIsoCode"], quote["SBQQ__BillingFrequency__c"]),
        "start": quote["SBQQ__StartDate__c"],
        "email": contact["Email"],
    }


def two_deals_of_one_account(org: Emulators) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two open deals sharing account, currency and frequency, differing in start and email."""
    seeded = org.reset(deals=SEEDED_DEALS)
    by_group: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for opportunity_id in seeded["won_candidates"]:
        facts = deal_facts(org, opportunity_id)
        by_group[(facts["account"], *facts["group"])].append(facts)
    for deals in by_group.values():
        for first in deals:
            for second in deals:
                if first["start"] < second["start"] and first["email"] != second["email"]:
                    return first, second
    raise AssertionError("the seeded org has no account with two such deals")


def netsuite_puts(runtime: Runtime, run_id: str) -> int:
    with runtime.ledger.session() as session:
        query = select(ApiCall).where(
            ApiCall.run_id == run_id, ApiCall.system == "netsuite", ApiCall.method == "PUT"
        )
        return len(list(session.scalars(query)))


def test_a_second_deal_of_the_account_does_not_overwrite_the_firsts_values(
    org: Emulators, runtime: Runtime
) -> None:
    first, second = two_deals_of_one_account(org)
    customer_eid = f"SFACC-{first['account']}"

    synced_first = close_and_sync(org, first["opportunity"])
    synced_second = close_and_sync(org, second["opportunity"])

    assert synced_first["status"] == synced_second["status"] == "synced"
    shared = {key for key in synced_first["netsuite_ids"] if key.startswith("billingAccount/")}
    assert shared == {k for k in synced_second["netsuite_ids"] if k.startswith("billingAccount/")}
    assert shared
    billing_accounts = by_external_id(org.ns_records("billingAccount"))
    for key in shared:
        assert billing_accounts[key.split("/")[1]]["startDate"] == first["start"], key
    assert by_external_id(org.ns_records("customer"))[customer_eid]["email"] == first["email"]
    subscriptions = by_external_id(org.ns_records("subscription"))
    second_subs = [k.split("/")[1] for k in synced_second["netsuite_ids"] if "subscription/" in k]
    assert second_subs
    assert {subscriptions[eid]["startDate"] for eid in second_subs} == {second["start"]}

    again = enqueue_and_wait(touch(org, first["opportunity"]))

    assert again["status"] == "unchanged"
    assert netsuite_puts(runtime, again["run_id"]) == 0
