"""``create_only`` fields: marked in the flow, listed by the plan, left out of updates.

Two deals of one account share its customer and billing account; values a deal sets there
(the billing account's start date, the customer's billing email) must come from the deal that
creates the record and never be overwritten by a later deal. Covered here without any process:
the schema, the plan, ``update_view``, the wave's choice of body and hash, the plan document
round trip and the preview. ``tests/integration/sync/test_shared_account_records.py`` runs two
real deals of one account through the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import Operation, PendingRef, RecordKey, SourceRecord, SyncPlan
from dealbridge.db.synced import payload_hash
from dealbridge.mapping.create_only import update_view
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import FlowFileError, load_flow_text
from dealbridge.mapping.lookups import LookupTables
from dealbridge.mapping.preview import preview_from_snapshot
from dealbridge.sync.ledger import SyncedState
from dealbridge.sync.plan_data import operation_from_json, plan_document
from dealbridge.sync.upserts import is_unchanged, prepare
from tests.support.cpq_deals import deal, line
from tests.support.flows import GOLDEN_DIR, flow_from_text, golden_lookups, shipped_flow

CUSTOMER = RecordKey("customer", "SFACC-1")
ACCOUNT = RecordKey("billingAccount", "SFBA-1")

FLOW = """
flow: create_only_test
version: 1
trigger: {when: opportunity.IsWon}
constants:
  start_field: custentity_first_start
records:
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    replace: [addressBook]
    fields:
      companyName: {value: account.Name}
      email: {value: primary_contact.Email, create_only: true}
      "{{ const.start_field }}": {value: quote.SBQQ__StartDate__c, create_only: true}
      addressBook:
        create_only: true
        sublist:
          for_each: addresses
          as: address
          fields:
            label: {value: address.label}
"""


def operation(payload: dict[str, Any], create_only: tuple[str, ...] = (), **kw: Any) -> Operation:
    return Operation(
        "billing_account",
        ACCOUNT,
        payload,
        depends_on=(CUSTOMER,),
        source=SourceRecord("Account", "001"),
        create_only=create_only,
        **kw,
    )


# -- the flow file ---------------------------------------------------------------------------


def test_fields_are_not_create_only_unless_marked(tmp_path: Path) -> None:
    spec = flow_from_text(FLOW, tmp_path).spec.record("customer").fields
    assert spec["companyName"].create_only is False
    assert spec["email"].create_only is True
    assert spec["addressBook"].create_only is True


def test_a_sublist_line_field_cannot_be_create_only() -> None:
    text = FLOW.replace("label: {value: address.label}", "label: {value: x, create_only: true}")
    with pytest.raises(FlowFileError) as caught:
        load_flow_text(text, source="inline.yaml")
    problems = [str(problem) for problem in caught.value.problems]
    assert len(problems) == 1, problems
    assert "records[0].fields.addressBook.sublist" in problems[0]
    assert "create_only is not allowed on sublist line fields (label)" in problems[0]


def test_create_only_takes_a_boolean() -> None:
    with pytest.raises(FlowFileError) as caught:
        load_flow_text(FLOW.replace("true}", "maybe}", 1), source="x.yaml")
    assert "records[0].fields.email.create_only" in str(caught.value.problems[0])


# -- the plan --------------------------------------------------------------------------------


def test_the_plan_lists_the_create_only_fields_by_payload_name(tmp_path: Path) -> None:
    engine = FlowEngine(flow_from_text(FLOW, tmp_path))
    plan = engine.plan(deal([line(1, "PLAT-STD")]), LookupTables({}))
    (customer,) = plan.operations
    assert customer.create_only == ("email", "custentity_first_start", "addressBook")
    assert customer.payload["custentity_first_start"]  # still in the payload: sent on create
    assert plan.to_json()["operations"][0]["create_only"] == list(customer.create_only)


def test_the_shipped_flow_keeps_deal_values_of_account_records_from_updates() -> None:
    engine = FlowEngine(shipped_flow())
    text = (GOLDEN_DIR / "deals" / "24_same_account_deal_b.json").read_text(encoding="utf-8")
    plan = engine.plan(DealGraph.model_validate(json.loads(text)), golden_lookups(engine.flow))
    create_only = {op.key.record_type: op.create_only for op in plan.operations}
    assert create_only["customer"] == ("currency", "email")
    assert create_only["billingAccount"] == ("startDate",)
    assert create_only["subscription"] == ()  # a deal's own record: every field is the deal's
    assert "create_only" not in plan.to_json()["operations"][-1]


# -- update_view -----------------------------------------------------------------------------


def test_update_view_leaves_out_create_only_fields_only() -> None:
    payload = {"name": "A", "startDate": "2026-01-01", "customer": PendingRef(CUSTOMER)}
    original = operation(payload, ("startDate",))
    update = update_view(original)
    assert update.payload == {"name": "A", "customer": PendingRef(CUSTOMER)}
    assert original.payload == payload  # not changed in place
    assert (update.key, update.depends_on, update.source) == (
        original.key,
        original.depends_on,
        original.source,
    )


def test_update_view_is_the_operation_itself_when_nothing_is_left_out() -> None:
    plain = operation({"name": "A"})
    absent = operation({"name": "A"}, ("startDate",))
    assert update_view(plain) is plain
    assert update_view(absent) is absent


def test_a_dotted_name_leaves_out_a_subrecord_field_and_an_emptied_subrecord() -> None:
    payload = {"address": {"city": "Oslo", "zip": "0150"}, "other": {"zip": "1"}}
    update = update_view(operation(payload, ("address.city", "other.zip", "missing.x")))
    assert update.payload == {"address": {"zip": "0150"}}
    assert payload["address"] == {"city": "Oslo", "zip": "0150"}


def test_a_create_only_sublist_also_leaves_replace() -> None:
    original = operation(
        {"name": "A", "addressBook": {"items": []}, "member": {"items": []}},
        ("addressBook",),
        replace=("addressBook", "member"),
    )
    update = update_view(original)
    assert update.replace == ("member",)
    assert "addressBook" not in update.payload


# -- the wave: which body, which hash ----------------------------------------------------------

IDS = {CUSTOMER: "7"}
FULL = {"name": "A", "startDate": "2026-01-01", "customer": PendingRef(CUSTOMER)}
UPDATE_BODY = {"name": "A", "customer": {"id": "7"}}


def test_a_new_record_is_sent_whole_and_hashed_without_its_create_only_fields() -> None:
    prepared = prepare(operation(FULL, ("startDate",)), None, IDS)
    assert prepared.body == {**UPDATE_BODY, "startDate": "2026-01-01"}
    assert prepared.hash == payload_hash(UPDATE_BODY)


def test_a_ledger_row_without_an_internal_id_is_still_a_new_record() -> None:
    prepared = prepare(operation(FULL, ("startDate",)), SyncedState(None, None, None), IDS)
    assert prepared.body["startDate"] == "2026-01-01"


def test_a_record_the_ledger_holds_is_updated_without_create_only_fields() -> None:
    state = SyncedState("42", "an older hash", None)
    prepared = prepare(operation(FULL, ("startDate",)), state, IDS)
    assert prepared.body == UPDATE_BODY
    assert prepared.operation.payload == {"name": "A", "customer": PendingRef(CUSTOMER)}
    assert prepared.hash == payload_hash(UPDATE_BODY)


def test_another_deal_differing_only_in_create_only_values_changes_nothing() -> None:
    first = prepare(operation(FULL, ("startDate",)), None, IDS)
    state = SyncedState("42", first.hash, None)
    later = prepare(operation({**FULL, "startDate": "2026-07-01"}, ("startDate",)), state, IDS)
    assert is_unchanged(state, later.hash)


def test_an_override_is_sent_as_the_person_wrote_it() -> None:
    override = {"name": "B", "startDate": "2026-03-01"}
    state = SyncedState("42", "h", override)
    prepared = prepare(operation(FULL, ("startDate",)), state, IDS)
    assert prepared.body == override
    assert prepared.hash == payload_hash(override)


def test_a_record_without_create_only_fields_is_hashed_as_sent() -> None:
    prepared = prepare(operation(FULL), SyncedState("42", "h", None), IDS)
    assert prepared.body == {**UPDATE_BODY, "startDate": "2026-01-01"}
    assert prepared.hash == payload_hash(prepared.body)


# -- the plan document and the preview --------------------------------------------------------


def test_the_checkpointed_plan_document_keeps_create_only() -> None:
    marked = operation(FULL, ("startDate",))
    plan = SyncPlan("f", 1, "006", operations=[operation({"name": "c"}), marked])
    document = json.loads(json.dumps(plan_document(plan)))
    entries = document["operations"]
    assert "create_only" not in entries[0]
    assert operation_from_json(entries[1]).create_only == ("startDate",)
    assert operation_from_json(entries[0]).create_only == ()


def test_the_preview_of_an_existing_record_ignores_create_only_values() -> None:
    current = {"id": "42", "name": "A", "startDate": "2025-01-01", "customer": {"id": "7"}}
    marked = operation(FULL, ("startDate",))
    plan = SyncPlan("f", 1, "006", operations=[marked])
    existing = preview_from_snapshot(plan, {ACCOUNT: current, CUSTOMER: {"id": "7"}})
    (preview,) = existing.operations
    assert preview.diff.action == "unchanged"
    assert "startDate" not in preview.to_json()["payload"]
    new = preview_from_snapshot(plan, {CUSTOMER: {"id": "7"}}).operations[0]
    assert new.diff.action == "create"
    assert new.to_json()["payload"]["startDate"] == "2026-01-01"
