"""The record service: CRUD, validation, references, external ids, GET shape, seeds, rows."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.records import RecordService
from dealbridge.connectors.netsuite.emulator.reference_data import ITEMS, REFERENCE_DATA
from tests.unit.netsuite_emulator.records_support import (
    BASE,
    billing_account,
    customer,
    expect_problem,
    new_service,
    ref,
)


@pytest.fixture
def svc() -> RecordService:
    return new_service()


# --- create and read -----------------------------------------------------------------------


def test_get_renders_links_id_refs_and_sublist_links(svc: RecordService) -> None:
    cid = customer(svc, email="ap@acme.test", custentity_sf_id="001XYZ")
    got = svc.get("customer", cid, base_url=BASE)
    assert got["links"] == [{"rel": "self", "href": f"{BASE}/record/v1/customer/{cid}"}]
    assert got["id"] == cid
    assert got["subsidiary"] == {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/subsidiary/1"}],
        "id": "1",
        "refName": "Parent Company",
    }
    assert got["addressBook"] == {
        "links": [{"rel": "self", "href": f"{BASE}/record/v1/customer/{cid}/addressBook"}]
    }
    assert (got["isPerson"], got["isInactive"]) == (False, False)
    assert got["entityId"] == "Acme Corp"
    assert got["custentity_sf_id"] == "001XYZ"
    assert next(iter(got)) == "links"


def test_get_with_fields_returns_only_those(svc: RecordService) -> None:
    cid = customer(svc, email="a@b.test")
    got = svc.get("customer", cid, base_url=BASE, fields=["email", "COMPANYNAME"])
    assert set(got) == {"links", "id", "email", "companyName"}


def test_record_types_and_field_names_are_case_insensitive(svc: RecordService) -> None:
    cid = svc.create("CUSTOMER", {"companyname": "Lower", "subsidiary": 1}, strict_fields=True)
    assert svc.get("customer", cid, base_url=BASE)["companyName"] == "Lower"
    assert svc.known_type("billingaccount")
    assert svc.known_type("customrecord_cpq_package")
    assert not svc.known_type("invoice")


@pytest.mark.parametrize("body", [[], "x", None, 5])
def test_a_body_that_is_not_an_object_is_invalid_content(svc: RecordService, body: Any) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", body, strict_fields=True)
    expect_problem(raised, 400, "INVALID_CONTENT", None)


def test_an_unknown_record_type_is_404(svc: RecordService) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("invoice", {}, strict_fields=True)
    assert "invoice" in expect_problem(raised, 404, "INVALID_RCRD_TYPE", None).detail
    with pytest.raises(NetSuiteProblem) as raised:
        svc.list_ids("invoice", q=None, limit=10, offset=0)
    expect_problem(raised, 404, "INVALID_RCRD_TYPE", None)


@pytest.mark.parametrize("record_type", ["item", "currency", "subsidiary", "billingSchedule"])
def test_reference_data_cannot_be_written(svc: RecordService, record_type: str) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create(record_type, {"name": "x"}, strict_fields=True)
    expect_problem(raised, 403, "INSUFFICIENT_PERMISSION", None)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.delete(record_type, "1")
    expect_problem(raised, 403, "INSUFFICIENT_PERMISSION", None)


@pytest.mark.parametrize("ref_text", ["9999", "eid:NOPE", "abc", "1"])
def test_a_missing_record_is_404_nonexistent_id(svc: RecordService, ref_text: str) -> None:
    customer(svc)  # internal id 1 exists, but it is a customer, not a contact
    with pytest.raises(NetSuiteProblem) as raised:
        svc.get("contact", ref_text, base_url=BASE)
    problem = expect_problem(raised, 404, "NONEXISTENT_ID", None)
    assert problem.detail == (
        "The record instance does not exist. Provide a valid record instance ID."
    )


# --- field validation ------------------------------------------------------------------------


def test_unknown_fields_are_refused_in_strict_mode_with_their_path(svc: RecordService) -> None:
    body = {"companyName": "X", "subsidiary": ref("1"), "colour": "red"}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", body, strict_fields=True)
    assert "colour" in expect_problem(raised, 400, "INVALID_CONTENT", "colour").detail


def test_unknown_fields_are_dropped_otherwise(svc: RecordService) -> None:
    cid = svc.create(
        "customer", {"companyName": "X", "subsidiary": 1, "colour": "red"}, strict_fields=False
    )
    assert "colour" not in svc.get("customer", cid, base_url=BASE)


def test_echoed_output_keys_and_custom_fields_are_always_accepted(svc: RecordService) -> None:
    body = {
        "links": [],
        "id": "77",
        "companyName": "X",
        "subsidiary": ref("1"),
        "custentity_tier": {"id": "3"},
        "custbody_x": 1,
    }
    cid = svc.create("customer", body, strict_fields=True)
    assert cid != "77"
    assert svc.get("customer", cid, base_url=BASE)["custentity_tier"] == {"id": "3"}


@pytest.mark.parametrize(
    ("record_type", "body", "path", "wording"),
    [
        ("customer", {"companyName": 5}, "companyName", "expected a string"),
        ("customer", {"isPerson": "yes"}, "isPerson", "expected a boolean"),
        (
            "subscriptionTerm",
            {"name": "T", "subscriptionTermDuration": 1.5},
            "subscriptionTermDuration",
            "expected an integer",
        ),
        (
            "subscriptionTerm",
            {"name": "T", "subscriptionTermDuration": True},
            "subscriptionTermDuration",
            "expected an integer",
        ),
        (
            "billingAccount",
            {"startDate": "03/01/2025"},
            "startDate",
            "Invalid date value 03/01/2025 for field startDate",
        ),
        ("billingAccount", {"startDate": "2025-02-30"}, "startDate", "Invalid date value"),
        (
            "subscriptionTerm",
            {"name": "T", "subscriptionTermType": "FOREVER"},
            "subscriptionTermType",
            "Invalid value 'FOREVER'",
        ),
        ("customer", {"addressBook": [1]}, "addressBook", "items"),
    ],
)
def test_wrong_values_are_invalid_content_at_their_path(
    svc: RecordService, record_type: str, body: dict[str, Any], path: str, wording: str
) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create(record_type, body, strict_fields=True)
    assert wording in expect_problem(raised, 400, "INVALID_CONTENT", path).detail


def test_a_select_outside_its_choices_is_an_invalid_key(svc: RecordService) -> None:
    body = {"name": "T", "subscriptionTermUnit": {"id": "DECADES"}}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("subscriptionTerm", body, strict_fields=True)
    problem = expect_problem(raised, 400, "INVALID_KEY_OR_REF", "subscriptionTermUnit")
    assert problem.detail == "Invalid subscriptionTermUnit reference key DECADES."


def test_company_name_is_limited_to_83_characters(svc: RecordService) -> None:
    customer(svc, name="A" * 83)
    with pytest.raises(NetSuiteProblem) as raised:
        customer(svc, name="B" * 84)
    problem = expect_problem(raised, 400, "USER_ERROR", "companyName")
    assert "maximum number ( 83 )" in problem.detail


def test_required_fields_name_their_label_and_path(svc: RecordService) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", {"subsidiary": ref("1")}, strict_fields=True)
    problem = expect_problem(raised, 400, "USER_ERROR", "companyName")
    assert "Please enter value(s) for: Company Name" in problem.detail
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", {"companyName": "X"}, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "subsidiary")


def test_a_person_customer_needs_first_and_last_name_instead(svc: RecordService) -> None:
    body = {"isPerson": True, "firstName": "Ada", "subsidiary": ref("1")}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", body, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "lastName")
    cid = svc.create("customer", {**body, "lastName": "Lovelace"}, strict_fields=True)
    assert svc.get("customer", cid, base_url=BASE)["entityId"] == "Ada Lovelace"


# --- references --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [{"id": "2"}, {"id": 2}, 2, "2", {"externalId": "SUB-UK"}])
def test_references_take_every_documented_form(svc: RecordService, value: Any) -> None:
    if isinstance(value, dict) and "externalId" in value:
        svc.load_seed({"subsidiary": [{"id": 2, "name": "UK Ltd", "externalId": "SUB-UK"}]})
    cid = svc.create("customer", {"companyName": "X", "subsidiary": value}, strict_fields=True)
    assert svc.get("customer", cid, base_url=BASE)["subsidiary"]["id"] == "2"


@pytest.mark.parametrize("value", [9999, {"id": "9999"}, {"externalId": "NOPE"}, "x1"])
def test_a_missing_reference_target_is_invalid_key_or_ref(svc: RecordService, value: Any) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", {"companyName": "X", "subsidiary": value}, strict_fields=True)
    problem = expect_problem(raised, 400, "INVALID_KEY_OR_REF", "subsidiary")
    assert "Invalid Field Value" in problem.detail
    assert problem.detail.endswith("for the following field: subsidiary")


def test_a_reference_to_a_record_of_another_type_is_refused(svc: RecordService) -> None:
    contact = svc.create("contact", {"firstName": "Jo", "lastName": "Doe"}, strict_fields=True)
    body = {
        "customer": ref(contact),
        "billingSchedule": ref("1"),
        "currency": ref("1"),
        "name": "BA",
        "startDate": "2025-01-01",
    }
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("billingAccount", body, strict_fields=True)
    expect_problem(raised, 400, "INVALID_KEY_OR_REF", "customer")


@pytest.mark.parametrize("value", [{"name": "x"}, True, [1], 1.5])
def test_a_malformed_reference_is_invalid_content(svc: RecordService, value: Any) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("customer", {"companyName": "X", "subsidiary": value}, strict_fields=True)
    expect_problem(raised, 400, "INVALID_CONTENT", "subsidiary")


# --- update and delete -------------------------------------------------------------------------


def test_patch_null_clears_and_omitted_fields_stay(svc: RecordService) -> None:
    cid = customer(svc, email="a@x.test", phone="555")
    svc.update("customer", cid, {"email": None, "comments": "hi"}, strict_fields=True)
    got = svc.get("customer", cid, base_url=BASE)
    assert "email" not in got
    assert (got["phone"], got["comments"]) == ("555", "hi")


def test_patch_null_on_a_mandatory_field_is_refused(svc: RecordService) -> None:
    cid = customer(svc)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("customer", cid, {"companyName": None}, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "companyName")


def test_replace_selected_fields_clears_named_fields_not_sent(svc: RecordService) -> None:
    cid = customer(svc, email="a@x.test", phone="555", comments="c")
    svc.update(
        "customer",
        cid,
        {"comments": "new"},
        strict_fields=True,
        replace=frozenset({"email", "comments"}),
        replace_selected_fields=True,
    )
    got = svc.get("customer", cid, base_url=BASE)
    assert ("email" in got, got["phone"], got["comments"]) == (False, "555", "new")


def test_delete_removes_and_a_second_delete_is_404(svc: RecordService) -> None:
    cid = customer(svc)
    svc.delete("customer", cid)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.delete("customer", cid)
    expect_problem(raised, 404, "NONEXISTENT_ID", None)


def test_a_customer_with_a_billing_account_cannot_be_deleted(svc: RecordService) -> None:
    cid = customer(svc)
    account = billing_account(svc, cid)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.delete("customer", f"{cid}")
    assert "dependent records" in expect_problem(raised, 400, "USER_ERROR", None).detail
    svc.delete("billingAccount", account)
    svc.delete("customer", cid)


# --- custom records, seeds, reset, rows --------------------------------------------------------


def test_custom_records_take_free_fields_and_unchecked_custom_refs(svc: RecordService) -> None:
    body = {"name": "PKG", "custrecord_subscription": {"id": "4242"}, "anything": [1, 2]}
    rid = svc.upsert("customrecord_cpq_package", "SFPKG-1", body, strict_fields=True)
    got = svc.get("customrecord_cpq_package", rid, base_url=BASE)
    assert (got["custrecord_subscription"], got["anything"]) == ({"id": "4242"}, [1, 2])
    (row,) = svc.rows("customrecord_cpq_package") or []
    assert (row["custrecord_subscription"], row["externalid"]) == ("4242", "SFPKG-1")
    assert svc.rows("customrecord_never_written") is None


def test_rows_are_flat_lower_case_and_raw(svc: RecordService) -> None:
    cid = customer(svc, externalId="SFACC-9", currency=ref("1"))
    (row,) = [r for r in svc.rows("customer") or [] if r["id"] == cid]
    assert row["externalid"] == "SFACC-9"
    assert (row["companyname"], row["subsidiary"], row["currency"]) == ("Acme Corp", "1", "1")
    assert (row["isinactive"], row["email"]) == (False, None)
    assert svc.rows("nosuchtable") is None
    assert {"id", "externalid", "companyname"} <= (svc.columns("CUSTOMER") or set())
    assert svc.columns("nosuchtable") is None


def test_reference_data_is_loaded_and_reset_restores_only_it(svc: RecordService) -> None:
    symbols = [c["symbol"] for c in svc.dump("currency")]
    assert symbols == ["USD", "GBP", "EUR", "CAD", "AUD", "JPY"]
    assert [s["name"] for s in svc.dump("subsidiary")][:2] == ["Parent Company", "UK Ltd"]
    items = svc.dump("item")
    assert len(items) == len(ITEMS) >= 30
    assert len({i["itemId"] for i in items}) == len(items)
    customer(svc)
    svc.reset()
    assert svc.dump("customer") == []
    assert sum(len(svc.dump(t)) for t in REFERENCE_DATA) == sum(map(len, REFERENCE_DATA.values()))


def test_seeds_keep_their_ids_and_move_the_counter(svc: RecordService) -> None:
    svc.load_seed(
        {
            "item": [{"id": 500, "itemId": "SEEDED"}],
            "customer": [{"id": "200", "companyName": "Seeded", "subsidiary": 1}],
        }
    )
    assert svc.get("item", "500", base_url=BASE)["itemId"] == "SEEDED"
    assert customer(svc) == "201"
    svc.load_seed({"customer": [{"id": 200, "companyName": "Replaced", "subsidiary": 1}]})
    assert svc.get("customer", "200", base_url=BASE)["companyName"] == "Replaced"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"invoice": [{}]}, 404, "INVALID_RCRD_TYPE"),
        ({"item": [{"id": "x1"}]}, 400, "INVALID_CONTENT"),
        ({"customer": [{"companyName": "No subsidiary"}]}, 400, "USER_ERROR"),
    ],
)
def test_a_bad_seed_is_refused_whole(
    svc: RecordService, data: dict[str, Any], status: int, code: str
) -> None:
    before = svc.dump("item")
    with pytest.raises(NetSuiteProblem) as raised:
        svc.load_seed({"item": [{"itemId": "FIRST"}], **data} if "item" not in data else data)
    assert (raised.value.status, raised.value.code) == (status, code)
    assert svc.dump("item") == before
