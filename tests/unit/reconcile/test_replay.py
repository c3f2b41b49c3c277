"""Replay's comparison: the plan made then against the plan made now, and the ledger's hashes."""

from __future__ import annotations

from dealbridge.core.records import PendingRef, SyncPlan
from dealbridge.db import synced
from dealbridge.db.synced import SyncedWrite, payload_hash
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.replay import compare_plans, ledger_hashes
from tests.unit.reconcile.plans import CONTACT, CUSTOMER, customer_payload, operation


def plan(*operations: object) -> SyncPlan:
    return SyncPlan("cpq_closed_won", 1, "006A", operations=list(operations))  # type: ignore[arg-type]


def contact(name: str) -> object:
    return operation(CONTACT, {"entityId": name, "company": PendingRef(CUSTOMER)})


def test_each_record_is_created_updated_unchanged_or_removed() -> None:
    then = plan(operation(CUSTOMER, customer_payload()), contact("Ann Lee"))
    now = plan(operation(CUSTOMER, customer_payload(companyName="Acme Inc")))

    records = compare_plans(then, now, {})

    assert [(str(r.key), r.action) for r in records] == [
        (str(CUSTOMER), "update"),
        (str(CONTACT), "removed"),
    ]
    assert [(c.path, c.before, c.after) for c in records[0].changes] == [
        ("companyName", "Acme", "Acme Inc")
    ]


def test_references_within_a_plan_compare_by_key_and_sublists_by_line() -> None:
    then = plan(operation(CUSTOMER, customer_payload()), contact("Ann Lee"))
    now = plan(operation(CUSTOMER, customer_payload()), contact("Ann Lee"))
    assert [r.action for r in compare_plans(then, now, {})] == ["unchanged", "unchanged"]


def test_without_a_stored_plan_every_record_is_new() -> None:
    now = plan(operation(CUSTOMER, customer_payload()))
    assert [r.action for r in compare_plans(None, now, {})] == ["create"]


def test_the_workflow_would_skip_a_record_whose_ledger_hash_matches(ledger: Ledger) -> None:
    customer = operation(CUSTOMER, customer_payload())
    written = SyncedWrite(CUSTOMER, "entity", "12", payload_hash(customer.payload))
    with ledger.session() as session:
        synced.upsert_synced(session, [written], run_id="r1")
    now = plan(customer, contact("Ann Lee"))

    decisions = ledger_hashes(ledger, now)

    assert decisions == {CUSTOMER: "skip", CONTACT: "write"}
