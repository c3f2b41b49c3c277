"""External ids: one namespace per record group, upsert by ``eid:`` (contracts §2, §9)."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.records import RecordService
from tests.unit.netsuite_emulator.records_support import (
    BASE,
    customer,
    expect_problem,
    new_service,
    ref,
)


@pytest.fixture
def svc() -> RecordService:
    return new_service()


def _only(svc: RecordService, record_type: str) -> dict[str, Any]:
    (doc,) = svc.dump(record_type)
    return doc


def test_the_same_external_id_upserted_100_times_is_one_record(svc: RecordService) -> None:
    ids = {
        svc.upsert(
            "customer",
            "SFACC-001",
            {"companyName": f"Acme {n}", "subsidiary": ref("1")},
            strict_fields=True,
        )
        for n in range(100)
    }
    assert len(ids) == 1
    doc = _only(svc, "customer")
    assert (doc["externalId"], doc["companyName"]) == ("SFACC-001", "Acme 99")


def test_customer_and_contact_share_one_external_id_namespace(svc: RecordService) -> None:
    customer(svc, externalId="SF-SHARED")
    contact = {"firstName": "Jo", "lastName": "Doe", "externalId": "SF-SHARED"}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("contact", contact, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "externalId")
    with pytest.raises(NetSuiteProblem) as raised:
        svc.upsert("contact", "SF-SHARED", {"firstName": "Jo"}, strict_fields=True)
    assert "customer" in expect_problem(raised, 400, "USER_ERROR", "externalId").detail
    svc.create("subscriptionTerm", {"name": "T", "externalId": "SF-SHARED"}, strict_fields=True)


def test_post_with_an_existing_external_id_is_a_user_error(svc: RecordService) -> None:
    customer(svc, externalId="SFACC-1")
    with pytest.raises(NetSuiteProblem) as raised:
        customer(svc, externalId="SFACC-1")
    assert "SFACC-1" in expect_problem(raised, 400, "USER_ERROR", "externalId").detail


def test_upsert_creates_then_updates_and_keeps_unsent_fields(svc: RecordService) -> None:
    first = svc.upsert(
        "customer",
        "E1",
        {"companyName": "A", "subsidiary": ref("1"), "email": "a@x.test"},
        strict_fields=True,
    )
    second = svc.upsert("customer", "E1", {"companyName": "B"}, strict_fields=True)
    got = svc.get("customer", "eid:E1", base_url=BASE)
    assert first == second == got["id"]
    assert (got["companyName"], got["email"], got["externalId"]) == ("B", "a@x.test", "E1")


def test_upsert_refuses_a_different_external_id_in_the_body(svc: RecordService) -> None:
    body = {"companyName": "A", "subsidiary": ref("1"), "externalId": "OTHER"}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.upsert("customer", "E1", body, strict_fields=True)
    expect_problem(raised, 400, "INVALID_CONTENT", "externalId")
    svc.upsert("customer", "E1", {**body, "externalId": "E1"}, strict_fields=True)


def test_external_ids_with_other_characters_are_refused(svc: RecordService) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.upsert("customer", "A|B", {"companyName": "A"}, strict_fields=True)
    expect_problem(raised, 400, "INVALID_PARAMETER", None)
    with pytest.raises(NetSuiteProblem) as raised:
        customer(svc, externalId="A B")
    expect_problem(raised, 400, "INVALID_CONTENT", "externalId")


def test_patch_can_move_the_external_id_but_not_onto_a_taken_one(svc: RecordService) -> None:
    customer(svc, externalId="TAKEN")
    cid = customer(svc, externalId="OLD")
    svc.update("customer", "eid:OLD", {"externalId": "NEW"}, strict_fields=True)
    assert svc.get("customer", "eid:NEW", base_url=BASE)["id"] == cid
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("customer", cid, {"externalId": "TAKEN"}, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "externalId")
