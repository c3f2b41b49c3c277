"""Plans survive the JSON round trip that checkpoints need, waves included."""

from __future__ import annotations

import pytest

from dealbridge.core.records import Operation, PendingRef, RecordKey, SourceRecord, SyncPlan
from dealbridge.db.synced import payload_hash
from dealbridge.sync.ledger import SyncedState
from dealbridge.sync.plan_data import (
    decode_refs,
    operation_from_json,
    plan_document,
    plan_from_document,
    record_keys,
    waves_of,
)
from dealbridge.sync.upserts import is_unchanged, prepare

CUSTOMER = RecordKey("customer", "SFACC-1")
CONTACT = RecordKey("contact", "SFCON-1")
SUBSCRIPTION = RecordKey("subscription", "SFSUB-1")


def _plan() -> SyncPlan:
    return SyncPlan(
        flow="cpq_closed_won",
        flow_version=1,
        opportunity_id="006000000000001AAA",
        operations=[
            Operation(
                "customer",
                CUSTOMER,
                {"companyName": "Acme"},
                replace=("addressBook",),
                source=SourceRecord("Account", "001000000000001AAA"),
            ),
            Operation("contact", CONTACT, {"company": PendingRef(CUSTOMER)}, (CUSTOMER,)),
            Operation(
                "subscription",
                SUBSCRIPTION,
                {"customer": PendingRef(CUSTOMER), "lines": [{"x": PendingRef(CONTACT)}]},
                (CUSTOMER, CONTACT),
            ),
        ],
    )


def test_operations_round_trip() -> None:
    plan = _plan()
    document = plan_document(plan)
    assert plan_from_document(document).operations == plan.operations
    assert document["operations"][0]["source"] == ["Account", "001000000000001AAA"]


def test_waves_follow_dependencies() -> None:
    waves = waves_of(plan_document(_plan()))
    assert [[entry["external_id"] for entry in wave] for wave in waves] == [
        ["SFACC-1"],
        ["SFCON-1"],
        ["SFSUB-1"],
    ]


def test_waves_hand_back_the_documents_own_entries_undecoded() -> None:
    document = plan_document(_plan())
    waves = waves_of(document)
    assert [entry for wave in waves for entry in wave] == document["operations"]
    assert all(
        entry is original
        for entry, original in zip(
            [entry for wave in waves for entry in wave], document["operations"], strict=True
        )
    )
    assert "$ref" in str(waves[1][0]["payload"])  # references stay as the document spells them


def test_waves_refuse_a_cycle() -> None:
    document = plan_document(_plan())
    document["operations"][0]["depends_on"] = ["subscription/SFSUB-1"]
    with pytest.raises(ValueError, match="cycle"):
        waves_of(document)


def test_refs_decode_anywhere_in_a_payload() -> None:
    decoded = decode_refs({"a": [{"$ref": "customer/SFACC-1"}], "b": {"$ref": 3}})
    assert decoded == {"a": [PendingRef(CUSTOMER)], "b": {"$ref": 3}}


def test_record_keys_by_type() -> None:
    assert record_keys(plan_document(_plan()), "subscription") == ["subscription/SFSUB-1"]


def test_prepare_resolves_refs_and_hashes_the_body() -> None:
    entry = plan_document(_plan())["operations"][1]
    prepared = prepare(operation_from_json(entry), None, {CUSTOMER: "42"})
    assert prepared.body == {"company": {"id": "42"}}
    assert prepared.hash == payload_hash({"company": {"id": "42"}})


def test_an_override_replaces_the_mapped_payload() -> None:
    entry = plan_document(_plan())["operations"][1]
    state = SyncedState("9", "old", {"company": {"$ref": "customer/SFACC-1"}, "title": "CFO"})
    prepared = prepare(operation_from_json(entry), state, {CUSTOMER: "42"})
    assert prepared.body == {"company": {"id": "42"}, "title": "CFO"}


def test_unchanged_needs_id_same_hash_and_no_override() -> None:
    assert is_unchanged(SyncedState("9", "h", None), "h")
    assert not is_unchanged(SyncedState("9", "h", None), "other")
    assert not is_unchanged(SyncedState(None, "h", None), "h")
    assert not is_unchanged(SyncedState("9", "h", {"x": 1}), "h")
    assert not is_unchanged(None, "h")
