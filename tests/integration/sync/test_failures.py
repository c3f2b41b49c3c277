"""Deals that fail: an outage they wait out, a refusal they report, and the operator's fixes."""

from __future__ import annotations

from typing import Any

import httpx

from dealbridge.db import audit, open_errors, runs
from dealbridge.sync import Runtime, edit_and_retry, enqueue_deal, retry_error, wait_for_outcome
from tests.integration.sync.harness import (
    Emulators,
    by_external_id,
    close_and_sync,
    run,
    wait_until,
)

LONG_WEBSITE = "https://www.example.com/" + "w" * 226  # 250 characters; NetSuite's url takes 200
SHORT_WEBSITE = "https://www.example.com/"
MISSING_ITEM = {
    "id": 900,
    "itemId": "LEGACY-ADDON",
    "displayName": "Legacy Add-on",
    "itemType": "Service",
    "basePrice": 100.0,
    "isInactive": False,
}


def _enqueue(row: dict[str, Any]) -> str:
    return run(
        enqueue_deal(
            row["Id"],
            account_id=row["AccountId"],
            system_modstamp=row["SystemModstamp"],
            trigger="outbound_message",
        )
    )


def _error(runtime: Runtime, error_id: int) -> Any:
    with runtime.ledger.session() as session:
        return open_errors.get_error(session, error_id)


def test_a_netsuite_outage_makes_the_deal_wait_and_land_afterwards(
    org: Emulators, runtime: Runtime
) -> None:
    control = org.netsuite_control
    control.faults(error_rate=1.0)
    workflow_id = _enqueue(org.close_won(org.seeded["won_candidates"][0]))
    wait_until(
        lambda: control.stats()["faults_injected"].get("error", 0) >= 6,
        "NetSuite to answer several calls with 500",
    )
    control.faults(error_rate=0.0)

    outcome = run(wait_for_outcome(workflow_id, 120))

    assert outcome["status"] == "synced", outcome
    assert outcome["error_id"] is None
    assert len(by_external_id(org.ns_records("subscription"))) > 0
    with runtime.ledger.session() as session:
        assert open_errors.list_errors(session) == []


def test_a_refused_record_opens_an_error_then_edit_and_retry_syncs_it(
    org: Emulators, runtime: Runtime
) -> None:
    opportunity_id = org.seeded["won_candidates"][0]
    account_id = org.get("Opportunity", opportunity_id)["AccountId"]
    org.update("Account", account_id, {"Website": LONG_WEBSITE})

    failed = close_and_sync(org, opportunity_id)

    assert failed["status"] == "failed", failed
    error = _error(runtime, failed["error_id"])
    assert (error.state, error.failure_type) == ("open", "remote_rejection")
    assert (error.record_type, error.external_id) == ("customer", f"SFACC-{account_id}")
    assert error.field_path == "url"
    assert error.remote_code
    assert error.remote_status == 400
    opportunity = org.get("Opportunity", opportunity_id)
    assert opportunity["NetSuite_Sync_Status__c"] == "Failed"
    assert "url" in opportunity["NetSuite_Sync_Error__c"]

    key = f"customer/SFACC-{account_id}"
    payload = {**_planned_payload(runtime, failed["run_id"], key), "url": SHORT_WEBSITE}
    workflow_id = run(edit_and_retry(failed["error_id"], key, payload, "alice"))
    retried = run(wait_for_outcome(workflow_id, 90))

    assert workflow_id == f"retry:{failed['error_id']}:1"
    assert retried["status"] == "synced", retried
    assert _error(runtime, failed["error_id"]).state == "resolved"
    customer = by_external_id(org.ns_records("customer"))[f"SFACC-{account_id}"]
    assert customer["url"] == SHORT_WEBSITE
    assert org.get("Opportunity", opportunity_id)["NetSuite_Sync_Status__c"] == "Synced"
    with runtime.ledger.session() as session:
        actions = {entry.action for entry in audit.list_audit(session, actor="alice")}
    assert actions == {"error.edit", "error.retry"}


def _deal_with_an_unknown_product(org: Emulators) -> str:
    """A seeded deal whose quote sells an item NetSuite does not have (a validation error)."""
    return next(opp for opp, why in org.seeded["flawed"].items() if why == "unknown_product")


def _add_the_missing_item(org: Emulators) -> None:
    """The fix a person makes in NetSuite's item master for that deal."""
    answer = httpx.post(
        org.netsuite["control_url"] + "/seed", json={"item": [MISSING_ITEM]}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def test_retry_after_adding_the_missing_item_syncs_and_resolves(
    org: Emulators, runtime: Runtime
) -> None:
    opportunity_id = _deal_with_an_unknown_product(org)
    invalid = close_and_sync(org, opportunity_id)
    assert invalid["status"] == "invalid"
    _add_the_missing_item(org)

    workflow_id = run(retry_error(invalid["error_id"], "bob"))
    assert _error(runtime, invalid["error_id"]).state == "retrying"
    retried = run(wait_for_outcome(workflow_id, 90))

    assert retried["status"] == "synced", retried
    error = _error(runtime, invalid["error_id"])
    assert (error.state, error.resolved_by) == ("resolved", "system")
    assert org.get("Opportunity", opportunity_id)["NetSuite_Sync_Status__c"] == "Synced"
    with runtime.ledger.session() as session:
        trigger = runs.get_run(session, retried["run_id"])
        assert trigger is not None
        assert (trigger.trigger, trigger.trigger_ref) == ("retry", f"error:{invalid['error_id']}")


def test_a_retry_that_fails_again_can_be_retried_again_and_then_syncs(
    org: Emulators, runtime: Runtime
) -> None:
    # Regression: the repeat failure reset the error's retry count, so the second retry reused
    # the first one's workflow id; DBOS ran nothing and the error stayed "retrying" for ever.
    opportunity_id = _deal_with_an_unknown_product(org)
    invalid = close_and_sync(org, opportunity_id)
    error_id = invalid["error_id"]

    first = run(retry_error(error_id, "bob"))
    failed_again = run(wait_for_outcome(first, 90))
    assert failed_again["status"] == "invalid", failed_again
    assert _error(runtime, error_id).state == "open"
    _add_the_missing_item(org)
    second = run(retry_error(error_id, "bob"))
    retried = run(wait_for_outcome(second, 90))

    assert (first, second) == (f"retry:{error_id}:1", f"retry:{error_id}:2")
    assert retried["status"] == "synced", retried
    error = _error(runtime, error_id)
    assert (error.state, error.resolved_by, error.occurrences) == ("resolved", "system", 2)


def _planned_payload(runtime: Runtime, run_id: str, key: str) -> dict[str, Any]:
    with runtime.ledger.session() as session:
        stored = runs.get_run(session, run_id)
        assert stored is not None
        assert stored.plan is not None
        operations = stored.plan["operations"]
    entry = next(op for op in operations if f"{op['type']}/{op['external_id']}" == key)
    payload: dict[str, Any] = entry["payload"]
    return payload


def test_a_deal_refused_by_a_flow_rule_syncs_after_edit_and_retry_of_that_record(
    org: Emulators, runtime: Runtime
) -> None:
    """An edited payload answers the rule that judged the mapped one.

    Regression: the edit used to be applied only at write time, after validation, so a deal
    blocked by a rule failed the same rule again on every edited retry.
    """
    opportunity_id = next(
        opp for opp, reason in org.seeded["flawed"].items() if reason == "long_account_name"
    )
    account_id = org.get("Opportunity", opportunity_id)["AccountId"]
    invalid = close_and_sync(org, opportunity_id)
    assert invalid["status"] == "invalid", invalid
    error = _error(runtime, invalid["error_id"])
    assert (error.failure_type, error.record_type) == ("validation", "customer")

    key = f"customer/SFACC-{account_id}"
    payload = {**_planned_payload(runtime, invalid["run_id"], key), "companyName": "Short Name Co"}
    workflow_id = run(edit_and_retry(invalid["error_id"], key, payload, "alice"))
    retried = run(wait_for_outcome(workflow_id, 90))

    assert retried["status"] == "synced", retried
    assert _error(runtime, invalid["error_id"]).state == "resolved"
    customer = by_external_id(org.ns_records("customer"))[f"SFACC-{account_id}"]
    assert customer["companyName"] == "Short Name Co"
    with runtime.ledger.session() as session:
        stored = runs.get_run(session, retried["run_id"])
        assert stored is not None
        assert stored.plan is not None
        waived = [v for v in stored.plan["violations"] if v["severity"] == "waived"]
    assert [v["waived_for"] for v in waived] == [key]
