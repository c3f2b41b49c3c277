"""Planned against held: the rules of missing, drift, orphans and duplicates."""

from __future__ import annotations

import pytest

from dealbridge.core.records import PendingRef, RecordKey
from dealbridge.sync.reconcile_compare import (
    Actual,
    drift_items,
    duplicate_items,
    lookalike_values,
    matches,
    missing_items,
    orphan_items,
)
from dealbridge.sync.reconcile_expect import columns_of, comparable_fields
from tests.unit.reconcile.plans import (
    CONTACT,
    CUSTOMER,
    customer_payload,
    expectation,
    operation,
)

CUSTOMER_ROW = {
    "id": "12",
    "externalid": CUSTOMER.external_id,
    "companyname": "Acme",
    "subsidiary": "1",
    "email": "ap@acme.example",
}


def held(*rows: tuple[str, dict[str, object]]) -> Actual:
    actual = Actual()
    for record_type, row in rows:
        actual.rows.setdefault(record_type, {})[str(row["externalid"])] = row
    return actual


@pytest.mark.parametrize(
    ("expected", "value"),
    [
        (True, "T"),
        (False, "F"),
        (True, True),
        (10, "10.0"),
        (12.5, "12.50"),
        ("2025-06-01", "6/1/2025"),
        ("2025-06-01", "2025-06-01"),
        ("", None),
        ("1", 1),
    ],
)
def test_suiteql_spellings_of_the_planned_value_match(expected: object, value: object) -> None:
    assert matches(expected, value)


@pytest.mark.parametrize(
    ("expected", "value"),
    [(True, "F"), (True, "maybe"), (10, "11"), ("2025-06-01", "6/2/2025"), ("Acme", "ACME")],
)
def test_other_values_do_not_match(expected: object, value: object) -> None:
    assert not matches(expected, value)


def test_only_plain_fields_and_references_are_compared() -> None:
    payload = customer_payload(parent=PendingRef(CUSTOMER), tags=["a"], address={"city": "X"})
    assert set(comparable_fields(payload)) == {"companyName", "subsidiary", "email", "parent"}


def test_columns_are_the_lower_case_field_names() -> None:
    planned = expectation(("006A", operation(CUSTOMER, customer_payload())))
    assert columns_of(planned.records.values()) == ["companyname", "email", "subsidiary"]


def test_a_record_that_is_not_there_is_missing_with_the_deals_planning_it() -> None:
    planned = expectation(
        ("006A", operation(CUSTOMER, customer_payload())),
        ("006B", operation(CUSTOMER, customer_payload())),
    )
    [item] = missing_items(planned, Actual())
    assert (item.category, item.external_id, item.opportunities) == (
        "missing",
        CUSTOMER.external_id,
        ("006A", "006B"),
    )


def test_a_held_record_equal_to_its_plan_has_no_drift() -> None:
    planned = expectation(("006A", operation(CUSTOMER, customer_payload())))
    assert drift_items(planned, held(("customer", CUSTOMER_ROW))) == []


def test_drift_names_each_field_with_both_values() -> None:
    planned = expectation(("006A", operation(CUSTOMER, customer_payload())))
    row = {**CUSTOMER_ROW, "companyname": "Acme Renamed", "subsidiary": "2"}

    [item] = drift_items(planned, held(("customer", row)))

    assert item.netsuite_id == "12"
    assert [(d.field, d.expected, d.actual) for d in item.differences] == [
        ("companyName", "Acme", "Acme Renamed"),
        ("subsidiary", "1", "2"),
    ]


def test_a_shared_record_matching_any_deals_variant_is_not_drift() -> None:
    planned = expectation(
        ("006A", operation(CUSTOMER, customer_payload(email="old@acme.example"))),
        ("006B", operation(CUSTOMER, customer_payload())),
    )
    assert drift_items(planned, held(("customer", CUSTOMER_ROW))) == []


def test_a_reference_to_a_record_of_the_plan_compares_by_its_internal_id() -> None:
    contact = operation(CONTACT, {"company": PendingRef(CUSTOMER), "entityId": "Ann Lee"})
    planned = expectation(("006A", operation(CUSTOMER, customer_payload())), ("006A", contact))
    row = {"id": "30", "externalid": CONTACT.external_id, "entityid": "Ann Lee", "company": "99"}

    [item] = drift_items(planned, held(("customer", CUSTOMER_ROW), ("contact", row)))

    assert [(d.field, d.expected, d.actual) for d in item.differences] == [("company", "12", "99")]


def test_a_reference_to_a_missing_record_is_not_compared() -> None:
    contact = operation(CONTACT, {"company": PendingRef(CUSTOMER), "entityId": "Ann Lee"})
    planned = expectation(("006A", contact))
    row = {"id": "30", "externalid": CONTACT.external_id, "entityid": "Ann Lee", "company": "99"}
    assert drift_items(planned, held(("contact", row))) == []


def test_our_records_no_deal_plans_are_orphans_unless_out_of_scope() -> None:
    planned = expectation(("006A", operation(CUSTOMER, customer_payload())))
    stray = {"id": "13", "externalid": "SFACC-001B"}
    other = {"id": "14", "externalid": "SFACC-001C"}
    actual = held(("customer", CUSTOMER_ROW), ("customer", stray), ("customer", other))

    items = orphan_items(planned, actual, {RecordKey("customer", "SFACC-001C")})

    assert [(i.category, i.external_id, i.netsuite_id) for i in items] == [
        ("orphan", "SFACC-001B", "13")
    ]


def test_a_lookalike_by_name_or_email_is_a_probable_duplicate_of_ours() -> None:
    planned = expectation(("006A", operation(CUSTOMER, customer_payload())))
    by_name = {"id": "50", "externalid": None, "companyname": " ACME ", "email": None}
    by_email = {"id": "51", "externalid": "OLD-9", "companyname": "X", "email": "AP@acme.example"}
    unrelated = {"id": "52", "externalid": None, "companyname": "Other", "email": "o@o.example"}

    assert lookalike_values(planned, "customer") == ({"acme"}, {"ap@acme.example"})
    items = duplicate_items(planned, "customer", [by_name, by_email, unrelated])

    assert [(i.netsuite_id, i.external_id, i.opportunities) for i in items] == [
        ("50", None, ("006A",)),
        ("51", "OLD-9", ("006A",)),
    ]
    assert "same name as SFACC-001A" in items[0].message
    assert "same e-mail" in items[1].message
