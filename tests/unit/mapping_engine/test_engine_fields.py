"""``FlowEngine`` on small inline flows: instances, references, sublists and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealbridge.core.records import PendingRef, RecordKey
from dealbridge.mapping.lookups import LookupTables
from tests.unit.mapping_engine.engine_flows import (
    CONTACTS,
    CUSTOMER,
    PACKAGES,
    bundle_deal,
    by_key,
    engine_for,
    head_lookups,
)


@pytest.fixture
def lookups() -> LookupTables:
    return head_lookups()


def test_a_plan_has_the_flow_name_version_and_opportunity(
    tmp_path: Path, lookups: LookupTables
) -> None:
    plan = engine_for(tmp_path, CUSTOMER).plan(bundle_deal(), lookups)
    assert (plan.flow, plan.flow_version, plan.opportunity_id) == (
        "engine_test", 3, "006000000000001AAA",
    )  # fmt: skip


def test_for_each_and_when_make_one_instance_per_kept_item(
    tmp_path: Path, lookups: LookupTables
) -> None:
    plan = engine_for(tmp_path, CUSTOMER + CONTACTS).plan(bundle_deal(), lookups)
    contacts = [op for op in plan.operations if op.name == "contact"]
    assert [op.payload["entityId"] for op in contacts] == ["Dana Whitfield"]  # Skip is skipped


def test_a_record_ref_to_a_single_instance_is_a_pending_ref_and_a_dependency(
    tmp_path: Path, lookups: LookupTables
) -> None:
    plan = engine_for(tmp_path, CUSTOMER + CONTACTS).plan(bundle_deal(), lookups)
    customer = RecordKey("customer", "SFACC-001000000000001AAA")
    (contact_op,) = [op for op in plan.operations if op.name == "contact"]
    assert contact_op.payload["company"] == PendingRef(customer)
    assert contact_op.depends_on == (customer,)


def test_record_ref_key_picks_the_instance_of_a_for_each_record(
    tmp_path: Path, lookups: LookupTables
) -> None:
    plan = engine_for(tmp_path, CUSTOMER + PACKAGES).plan(bundle_deal(), lookups)
    operations = by_key(plan)
    plans = [op for op in plan.operations if op.name == "plan"]
    subscriptions = [op for op in plan.operations if op.name == "subscription"]
    assert len(plans) == len(subscriptions) == 2
    for plan_op, subscription in zip(plans, subscriptions, strict=True):
        assert subscription.payload["subscriptionPlan"] == PendingRef(plan_op.key)
        assert plan_op.key in subscription.depends_on
    assert str(plans[0].key) in operations


def test_a_sublist_is_one_line_per_kept_item_with_constants_folded(
    tmp_path: Path, lookups: LookupTables
) -> None:
    plan = engine_for(tmp_path, CUSTOMER + PACKAGES).plan(bundle_deal(), lookups)
    bundle_plan = next(op for op in plan.operations if op.payload.get("itemId") == "PLAT-PRO")
    assert bundle_plan.payload["member"] == {
        "items": [
            {"lineNumber": 1, "code": "PLAT-PRO", "unit": "MONTH"},
            {"lineNumber": 2, "code": "SEAT-STD", "unit": "MONTH"},
        ]
    }  # SSO is left out by the sublist's when
    assert bundle_plan.replace == ("member",)


def test_an_empty_sublist_is_left_out_unless_replaced(
    tmp_path: Path, lookups: LookupTables
) -> None:
    plan = engine_for(tmp_path, CUSTOMER + PACKAGES).plan(bundle_deal(), lookups)
    subscription = next(op for op in plan.operations if op.name == "subscription")
    assert "subscriptionLine" not in subscription.payload  # no one-time lines, not replaced


def test_null_values_are_left_out_and_a_failed_lookup_is_a_violation(
    tmp_path: Path, lookups: LookupTables
) -> None:
    graph = bundle_deal()
    graph["account"] = {**graph["account"], "Name": None, "BillingCountry": "Atlantis"}
    plan = engine_for(tmp_path, CUSTOMER).plan(graph, lookups)
    (customer,) = plan.operations
    assert customer.payload == {}
    (violation,) = plan.violations
    assert (violation.rule, violation.field_path, violation.record) == (
        "resolves", "subsidiary", "customer",
    )  # fmt: skip
    assert "'Atlantis'" in violation.message
    assert "'subsidiary'" in violation.message
    assert not plan.ok


def test_dotted_field_names_build_nested_objects(tmp_path: Path, lookups: LookupTables) -> None:
    records = """
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    fields:
      addressBookAddress.city: {value: account.BillingCity}
      addressBookAddress.zip: {value: account.BillingPostalCode}
      addressBookAddress.country: {ref: "'US'"}
"""
    (customer,) = engine_for(tmp_path, records).plan(bundle_deal(), lookups).operations
    assert customer.payload == {
        "addressBookAddress": {"city": "San Francisco", "zip": "94105", "country": {"id": "US"}}
    }


def test_record_types_and_field_names_may_be_constants(
    tmp_path: Path, lookups: LookupTables
) -> None:
    records = """
  - name: thing
    type: "{{ const.record_type }}"
    external_id: "SFTHING-{{ opportunity.Id }}"
    source: {object: Opportunity, id: "{{ opportunity.Id }}"}
    fields:
      "{{ const.field_id }}": {value: opportunity.Name}
"""
    (thing,) = engine_for(tmp_path, records).plan(bundle_deal(), lookups).operations
    assert thing.key.record_type == "customrecord_thing"
    assert thing.payload == {"custrecord_thing_code": "Acme Analytics - Platform"}


def test_a_record_ref_to_an_instance_not_produced_is_a_violation(
    tmp_path: Path, lookups: LookupTables
) -> None:
    records = (
        CUSTOMER.replace(
            "    source: {object: Account", "    when: 'false'\n    source: {object: Account"
        )
        + CONTACTS
    )
    plan = engine_for(tmp_path, records).plan(bundle_deal(), lookups)
    (contact_op,) = plan.operations
    assert "company" not in contact_op.payload
    (violation,) = plan.violations
    assert (violation.rule, violation.field_path) == ("record_ref", "company")
