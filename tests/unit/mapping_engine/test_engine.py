"""``FlowEngine`` on small inline flows: references, for_each, conditions, stops, order, hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import PendingRef, RecordKey, SyncPlan
from dealbridge.errors import ConfigError
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import LookupTables
from tests.support.cpq_deals import contact, deal, line, role

HEAD = """
flow: engine_test
version: 3
trigger: {when: opportunity.IsWon}
constants:
  record_type: customrecord_thing
  field_id: custrecord_thing_code
  offset_unit: MONTH
lookups:
  subsidiary:
    static: {values: {United States: 1}}
"""
CUSTOMER = """
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    fields:
      companyName: {value: account.Name, label: account name, rules: [{max_length: 20}]}
      subsidiary:
        ref: lookup('subsidiary', account.BillingCountry)
        rules: [{resolves: true}]
"""
CONTACTS = """
  - name: contact
    type: contact
    for_each: contacts
    as: person
    when: person.LastName != 'Skip'
    external_id: "SFCON-{{ person.Id }}"
    source: {object: Contact, id: "{{ person.Id }}"}
    fields:
      entityId: {value: "concat(person.FirstName, ' ', person.LastName)"}
      company: {record_ref: customer}
"""
PACKAGES = """
  - name: plan
    type: subscriptionPlan
    for_each: packages
    as: package
    external_id: "SFPLAN-{{ package.plan_key }}"
    source: {object: SBQQ__QuoteLine__c, id: "{{ package.line_id }}"}
    replace: [member]
    fields:
      itemId: {value: package.code}
      member:
        sublist:
          for_each: package.members
          as: member
          when: member.code != 'SSO'
          fields:
            lineNumber: {value: member.number}
            code: {value: member.code}
            unit: {value: const.offset_unit}
  - name: subscription
    type: subscription
    for_each: packages
    as: package
    external_id: "SFSUB-{{ package.line_id }}"
    source: {object: SBQQ__QuoteLine__c, id: "{{ package.line_id }}"}
    fields:
      customer: {record_ref: customer}
      subscriptionPlan: {record_ref: plan, record_ref_key: "'SFPLAN-' + package.plan_key"}
      subscriptionLine:
        sublist:
          for_each: package.one_time
          as: extra
          fields:
            lineNumber: {value: extra.number}
"""


@pytest.fixture
def lookups() -> LookupTables:
    """The static table of ``HEAD``, as the loader normalises it."""
    return LookupTables({"subsidiary": {"united states": 1}}, folded=frozenset({"subsidiary"}))


def engine_for(tmp_path: Path, records: str, head: str = HEAD, **options: Any) -> FlowEngine:
    from tests.support.flows import flow_from_text

    return FlowEngine(flow_from_text(head + "records:" + records, tmp_path), **options)


def bundle_deal(**options: Any) -> dict[str, Any]:
    top = line(1, "PLAT-PRO")
    lines = [top, line(2, "SEAT-STD", parent=top), line(3, "SSO", parent=top), line(4, "PLAT-STD")]
    people = [role(contact(1, "Dana", "Whitfield"), primary=True), role(contact(2, "Sam", "Skip"))]
    return deal(lines, roles=people, **options)


def by_key(plan: SyncPlan) -> dict[str, Any]:
    return {str(op.key): op for op in plan.operations}


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


def test_every_violation_of_a_deal_is_collected(tmp_path: Path, lookups: LookupTables) -> None:
    graph = bundle_deal()
    graph["account"] = {
        **graph["account"],
        "Name": "A name much too long for it",
        "BillingCountry": "X",
    }
    plan = engine_for(tmp_path, CUSTOMER + CONTACTS + PACKAGES).plan(graph, lookups)
    assert sorted(v.rule for v in plan.violations) == ["max_length", "resolves"]
    assert len(plan.operations) == 6  # the partial plan is kept for preview
    assert plan.violations[0].source.sobject == "Account"


def test_an_expression_failing_on_this_deal_is_a_mapping_error_violation(
    tmp_path: Path, lookups: LookupTables
) -> None:
    records = """
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    fields:
      companyName: {value: account.Name | upper}
      phone: {value: account.Phone}
"""
    graph = bundle_deal()
    graph["account"] = {**graph["account"], "Name": 42}
    plan = engine_for(tmp_path, records).plan(graph, lookups)
    (violation,) = plan.violations
    assert (violation.rule, violation.field_path) == ("mapping_error", "companyName")
    assert "upper" in violation.message
    assert plan.operations[0].payload == {"phone": "+1 (415) 555-0100"}


def test_a_stop_condition_stops_the_deal_with_no_operations(
    tmp_path: Path, lookups: LookupTables
) -> None:
    head = (
        HEAD
        + """
stop_when:
  - when: opportunity.SBQQ__AmendedContract__c
    rule: amendment_not_supported
    field: SBQQ__AmendedContract__c
    message: "Amends {{ opportunity.SBQQ__AmendedContract__c }}: not supported yet."
  - when: opportunity.SBQQ__Renewal__c
    rule: renewal_not_supported
    message: Renewals are not supported yet.
  - when: "false"
    rule: never
    message: never
"""
    )
    graph = bundle_deal()
    graph["opportunity"] = {
        **graph["opportunity"], "SBQQ__AmendedContract__c": "800X", "SBQQ__Renewal__c": True,
    }  # fmt: skip
    plan = engine_for(tmp_path, CUSTOMER, head).plan(graph, lookups)
    assert plan.operations == []
    assert [(v.rule, v.record, v.field_path) for v in plan.violations] == [
        ("amendment_not_supported", "deal", "SBQQ__AmendedContract__c"),
        ("renewal_not_supported", "deal", "Opportunity"),
    ]
    assert plan.violations[0].message == "Amends 800X: not supported yet."
    assert plan.violations[0].source.record_id == "006000000000001AAA"


def test_operations_come_in_a_valid_deterministic_dependency_order(
    tmp_path: Path, lookups: LookupTables
) -> None:
    reordered = PACKAGES + CONTACTS + CUSTOMER  # referenced records come later in the file
    engine = engine_for(tmp_path, reordered)
    plan = engine.plan(bundle_deal(), lookups)
    seen: set[RecordKey] = set()
    for operation in plan.operations:
        assert set(operation.depends_on) <= seen
        seen.add(operation.key)
    assert plan.operations[0].name == "plan"  # no dependency, first in the file
    assert len(plan.waves()) == 2
    again = engine.plan(bundle_deal(), lookups)
    assert [op.key for op in again.operations] == [op.key for op in plan.operations]


def test_explicit_depends_on_orders_after_every_instance(
    tmp_path: Path, lookups: LookupTables
) -> None:
    records = (
        CONTACTS
        + CUSTOMER.replace(
            "    source: {object: Account", "    depends_on: [note]\n    source: {object: Account"
        )
        + """
  - name: note
    type: note
    external_id: "SFNOTE-{{ opportunity.Id }}"
    source: {object: Opportunity, id: "{{ opportunity.Id }}"}
    fields:
      title: {const: hello}
"""
    )
    plan = engine_for(tmp_path, records).plan(bundle_deal(), lookups)
    assert [op.name for op in plan.operations] == ["note", "customer", "contact"]
    assert plan.operations[1].depends_on == (RecordKey("note", "SFNOTE-006000000000001AAA"),)


def test_equal_duplicates_merge_and_conflicting_ones_are_violations(
    tmp_path: Path, lookups: LookupTables
) -> None:
    records = (
        CUSTOMER
        + """
  - name: tag
    type: customrecord_tag
    for_each: lines
    as: row
    external_id: "SFTAG-{{ row.SBQQ__Product__r.Family or 'none' }}"
    source: {object: SBQQ__QuoteLine__c, id: "{{ row.Id }}"}
    fields:
      name: {value: "row.SBQQ__Product__r.Family or 'none'"}
  - name: clash
    type: contact
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Opportunity, id: "{{ opportunity.Id }}"}
    fields:
      entityId: {const: same id as the customer}
"""
    )
    plan = engine_for(tmp_path, records).plan(bundle_deal(), lookups)
    assert [op.name for op in plan.operations] == ["customer", "tag"]  # four lines, one tag
    (violation,) = plan.violations
    assert violation.rule == "duplicate_external_id"
    assert violation.record == "clash"


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


def test_a_name_template_of_an_unknown_constant_is_a_flow_error(tmp_path: Path) -> None:
    records = CUSTOMER.replace("type: customer", 'type: "{{ const.nothing }}"')
    with pytest.raises(ConfigError):
        engine_for(tmp_path, records)


def test_records_referring_to_each_other_in_a_cycle_are_a_flow_error(tmp_path: Path) -> None:
    records = (
        CUSTOMER.replace(
            "      companyName:", "      parent: {record_ref: contact}\n      companyName:"
        )
        + CONTACTS
    )
    with pytest.raises(ConfigError, match="cycle"):
        engine_for(tmp_path, records)


def test_an_ambiguous_record_ref_names_the_field(tmp_path: Path, lookups: LookupTables) -> None:
    records = (
        CUSTOMER
        + CONTACTS.replace("when: person.LastName != 'Skip'", "when: 'true'")
        + """
  - name: note
    type: note
    external_id: "SFNOTE-{{ opportunity.Id }}"
    source: {object: Opportunity, id: "{{ opportunity.Id }}"}
    fields:
      author: {record_ref: contact}
"""
    )
    with pytest.raises(ConfigError, match=r"'author'.*record_ref_key"):
        engine_for(tmp_path, records).plan(bundle_deal(), lookups)


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


def test_an_external_id_netsuite_cannot_take_is_a_violation(
    tmp_path: Path, lookups: LookupTables
) -> None:
    graph = bundle_deal()
    graph["account"] = {**graph["account"], "Id": "001 with spaces|x"}
    plan = engine_for(tmp_path, CUSTOMER).plan(graph, lookups)
    assert [v.rule for v in plan.violations] == ["external_id"]


def test_a_dealgraph_and_its_json_give_the_same_plan(tmp_path: Path, lookups: LookupTables) -> None:
    engine = engine_for(tmp_path, CUSTOMER + CONTACTS + PACKAGES)
    graph = bundle_deal()
    from_json = engine.plan(graph, lookups).to_json()
    from_model = engine.plan(DealGraph.model_validate(graph), lookups).to_json()
    assert from_model == from_json


def test_the_trigger_condition(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, CUSTOMER)
    graph = bundle_deal()
    assert engine.triggered(graph)
    graph["opportunity"] = {**graph["opportunity"], "IsWon": False}
    assert not engine.triggered(graph)


def add_marker(scope: dict[str, Any]) -> dict[str, Any]:
    """A ``before_map`` hook for the test below."""
    account = {**scope["account"], "Name": "Hooked"}
    return {**scope, "account": account}


def drop_operations(plan: SyncPlan) -> SyncPlan:
    """An ``after_map`` hook for the test below."""
    plan.operations = [op for op in plan.operations if op.name != "contact"]
    return plan


def test_hooks_run_before_and_after_mapping_when_enabled(
    tmp_path: Path, lookups: LookupTables
) -> None:
    module = __name__
    head = (
        HEAD
        + f"""
hooks:
  before_map: "{module}:add_marker"
  after_map: "{module}:drop_operations"
"""
    )
    hooked = engine_for(tmp_path, CUSTOMER + CONTACTS, head).plan(bundle_deal(), lookups)
    assert [op.name for op in hooked.operations] == ["customer"]
    assert hooked.operations[0].payload["companyName"] == "Hooked"
    plain = engine_for(tmp_path, CUSTOMER + CONTACTS, head, hooks_enabled=False)
    assert len(plain.plan(bundle_deal(), lookups).operations) == 2


def test_a_hook_that_cannot_be_imported_is_a_flow_error(tmp_path: Path) -> None:
    head = HEAD + "\nhooks:\n  before_map: no_such_module_anywhere:hook\n"
    with pytest.raises(ConfigError, match="no_such_module_anywhere"):
        engine_for(tmp_path, CUSTOMER, head)
