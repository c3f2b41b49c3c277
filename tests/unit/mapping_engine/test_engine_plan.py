"""``FlowEngine`` on small inline flows: stops, violations, order, duplicates, hooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import RecordKey, SyncPlan
from dealbridge.errors import ConfigError
from dealbridge.mapping.lookups import LookupTables
from tests.unit.mapping_engine.engine_flows import (
    CONTACTS,
    CUSTOMER,
    HEAD,
    PACKAGES,
    bundle_deal,
    engine_for,
    head_lookups,
)


@pytest.fixture
def lookups() -> LookupTables:
    return head_lookups()


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


def test_a_scope_built_once_gives_the_same_answers(tmp_path: Path, lookups: LookupTables) -> None:
    """The engine builds a deal's scope once, asks the trigger, then plans with it."""
    engine = engine_for(tmp_path, CUSTOMER + CONTACTS + PACKAGES)
    graph = DealGraph.model_validate(bundle_deal())
    scope = engine.scope(graph)
    assert engine.triggered(graph, scope)
    assert engine.plan(graph, lookups, scope).to_json() == engine.plan(graph, lookups).to_json()
    lost = bundle_deal()
    lost["opportunity"] = {**lost["opportunity"], "IsWon": False}
    assert not engine.triggered(lost, engine.scope(lost))


def test_the_stored_graph_is_its_json_read_back() -> None:
    graph = DealGraph.model_validate(bundle_deal())
    assert graph.stored_data() == json.loads(graph.to_json())
    assert json.dumps(graph.stored_data()) == json.dumps(json.loads(graph.to_json()))


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
