"""``diff_record``: the field-level diff between a planned payload and NetSuite's GET answer."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.core.records import PendingRef, RecordKey
from dealbridge.mapping.diff import NEW_RECORD, FieldChange, diff_record

CUSTOMER = RecordKey("customer", "SFACC-1")
PLAN = RecordKey("subscriptionPlan", "SFPLAN-1")


def ref(record_id: str, name: str = "Some record") -> dict[str, Any]:
    """A reference as a GET answers it (contracts §2.1)."""
    links = [{"rel": "self", "href": f"https://x/record/v1/t/{record_id}"}]
    return {"links": links, "id": record_id, "refName": name}


def sublist(*lines: dict[str, Any]) -> dict[str, Any]:
    """An expanded sublist as a GET answers it."""
    items = [{"links": [], **line} for line in lines]
    count = len(items)
    page = {"totalResults": count, "count": count, "hasMore": False, "offset": 0}
    return {"links": [{"rel": "self", "href": "https://x/sub"}], "items": items, **page}


def paths(changes: tuple[FieldChange, ...]) -> list[str]:
    return [change.path for change in changes]


# -- actions --------------------------------------------------------------------------------------


def test_no_current_record_is_a_create_listing_every_planned_field() -> None:
    planned = {
        "companyName": "Acme",
        "subsidiary": {"id": 1},
        "addressBook": {"items": [{"label": "Billing", "addressBookAddress": {"city": "Paris"}}]},
    }
    diff = diff_record(planned, None, replace=("addressBook",))
    assert diff.action == "create"
    assert diff.as_list() == [
        {
            "path": "addressBook[1]",
            "before": None,
            "after": {"addressBookAddress": {"city": "Paris"}, "label": "Billing"},
        },
        {"path": "companyName", "before": None, "after": "Acme"},
        {"path": "subsidiary", "before": None, "after": "1"},
    ]


def test_a_record_that_matches_is_unchanged() -> None:
    current = {"links": [], "id": "7", "companyName": "Acme", "subsidiary": ref("1")}
    diff = diff_record({"companyName": "Acme", "subsidiary": {"id": "1"}}, current)
    assert diff.action == "unchanged"
    assert diff.changes == ()


def test_one_changed_field_is_an_update_with_before_and_after() -> None:
    current = {"id": "7", "companyName": "Acme Inc", "phone": "555"}
    diff = diff_record({"companyName": "Acme", "phone": "555"}, current)
    assert diff.action == "update"
    assert diff.changes == (FieldChange("companyName", "Acme Inc", "Acme"),)


def test_fields_netsuite_has_but_the_plan_does_not_set_are_not_changes() -> None:
    current = {"id": "7", "companyName": "Acme", "comments": "kept", "dateCreated": "2026-01-01"}
    assert diff_record({"companyName": "Acme"}, current).action == "unchanged"


# -- references -----------------------------------------------------------------------------------


@pytest.mark.parametrize("planned", [{"id": "3"}, {"id": 3}, {"id": 3.0}])
def test_references_compare_by_id_only(planned: dict[str, Any]) -> None:
    current = {"id": "9", "currency": ref("3", "British pound")}
    assert diff_record({"currency": planned}, current).action == "unchanged"


def test_a_changed_reference_shows_both_ids() -> None:
    current = {"id": "9", "currency": ref("3", "British pound")}
    diff = diff_record({"currency": {"id": 1}}, current)
    assert diff.changes == (FieldChange("currency", "3", "1"),)


def test_a_bare_id_in_the_answer_is_a_reference_too() -> None:
    assert diff_record({"customer": {"id": "5"}}, {"id": "1", "customer": 5}).action == "unchanged"


def test_a_select_answered_as_a_reference_compares_its_id_to_the_planned_text() -> None:
    current = {"id": "1", "frequency": {"id": "MONTHLY", "refName": "Monthly"}}
    assert diff_record({"frequency": "MONTHLY"}, current).action == "unchanged"
    changed = diff_record({"frequency": "ANNUALLY"}, current)
    assert changed.changes == (FieldChange("frequency", "MONTHLY", "ANNUALLY"),)


def test_a_pending_ref_to_a_known_record_compares_to_its_internal_id() -> None:
    current = {"id": "2", "company": ref("41", "Acme")}
    planned = {"company": PendingRef(CUSTOMER)}
    assert diff_record(planned, current, known_ids={CUSTOMER: "41"}).action == "unchanged"
    moved = diff_record(planned, current, known_ids={CUSTOMER: "42"})
    assert moved.changes == (FieldChange("company", "41", "42"),)


def test_a_pending_ref_to_a_record_still_to_create_is_a_new_record() -> None:
    current = {"id": "2", "company": ref("41", "Acme")}
    diff = diff_record({"company": PendingRef(CUSTOMER)}, current)
    assert diff.changes == (FieldChange("company", "41", NEW_RECORD),)
    created = diff_record({"company": PendingRef(CUSTOMER)}, None)
    assert created.changes == (FieldChange("company", None, NEW_RECORD),)


# -- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned", "current"),
    [(10, 10.0), (10.0, 10), (0, 0.0), (12.5, "12.5"), ("12", 12), (0.1, 0.1)],
)
def test_numbers_compare_numerically(planned: Any, current: Any) -> None:
    assert diff_record({"quantity": planned}, {"id": "1", "quantity": current}).changes == ()


@pytest.mark.parametrize(
    ("planned", "current"),
    [(10, 11), ("01", "1"), (True, 1), (1, True), (False, None), ("2026-01-01", "2026-01-02")],
)
def test_different_values_are_changes(planned: Any, current: Any) -> None:
    diff = diff_record({"field": planned}, {"id": "1", "field": current})
    assert diff.changes == (FieldChange("field", current, planned),)


def test_dates_compare_as_text() -> None:
    current = {"id": "1", "startDate": "2026-01-01"}
    assert diff_record({"startDate": "2026-01-01"}, current).action == "unchanged"


def test_empty_text_and_an_absent_field_are_the_same() -> None:
    assert diff_record({"memo": ""}, {"id": "1"}).action == "unchanged"
    assert diff_record({"memo": None}, {"id": "1", "memo": ""}).action == "unchanged"


def test_subrecord_fields_compare_one_by_one_under_their_path() -> None:
    current = {"id": "1", "address": {"links": [], "city": "Paris", "zip": "75001",
                                      "country": {"id": "FR", "refName": "France"}}}  # fmt: skip
    planned = {"address": {"city": "Lyon", "country": {"id": "FR"}}}
    assert diff_record(planned, current).changes == (FieldChange("address.city", "Paris", "Lyon"),)


def test_a_plain_list_compares_as_a_whole() -> None:
    current = {"id": "1", "tags": [ref("1"), ref("2")]}
    assert diff_record({"tags": [{"id": 1}, {"id": 2}]}, current).action == "unchanged"
    diff = diff_record({"tags": [{"id": 1}]}, current)
    assert diff.changes == (FieldChange("tags", ["1", "2"], ["1"]),)


# -- keyed sublists -------------------------------------------------------------------------------


def member(number: int, item: str, **extra: Any) -> dict[str, Any]:
    return {"lineNumber": number, "item": {"id": item}, **extra}


def test_keyed_lines_match_by_key_whatever_their_order() -> None:
    current = {"id": "1", "member": sublist(
        {**member(2, "b"), "item": ref("b")}, {**member(1, "a"), "item": ref("a")})}  # fmt: skip
    planned = {"member": {"items": [member(1, "a"), member(2, "b")]}}
    assert diff_record(planned, current, replace=("member",)).action == "unchanged"


def test_a_changed_field_of_a_keyed_line_is_named_by_its_key() -> None:
    current = {"id": "1", "member": sublist({**member(1, "a"), "item": ref("a")},
                                            {**member(2, "b"), "item": ref("b")})}  # fmt: skip
    planned = {"member": {"items": [member(1, "a"), member(2, "c")]}}
    diff = diff_record(planned, current, replace=("member",))
    assert diff.changes == (FieldChange("member[lineNumber=2].item", "b", "c"),)


def test_with_replace_unlisted_lines_are_removals() -> None:
    current = {"id": "1", "member": sublist({**member(1, "a"), "item": ref("a")},
                                            {**member(2, "b"), "item": ref("b")})}  # fmt: skip
    planned = {"member": {"items": [member(1, "a")]}}
    diff = diff_record(planned, current, replace=("member",))
    assert diff.changes == (
        FieldChange("member[lineNumber=2]", {"item": "b", "lineNumber": 2}, None),
    )


def test_without_replace_unlisted_lines_are_kept() -> None:
    current = {"id": "1", "subscriptionLine": sublist(member(1, "a"), member(2, "b"))}
    planned = {"subscriptionLine": {"items": [member(2, "b")]}}
    assert diff_record(planned, current).action == "unchanged"


def test_a_new_keyed_line_is_one_addition() -> None:
    current = {"id": "1", "member": sublist({**member(1, "a"), "item": ref("a")})}
    planned = {"member": {"items": [member(1, "a"), member(2, "b", isRequired=True)]}}
    diff = diff_record(planned, current, replace=("member",))
    assert diff.changes == (
        FieldChange(
            "member[lineNumber=2]", None, {"isRequired": True, "item": "b", "lineNumber": 2}
        ),
    )


def test_line_fields_netsuite_adds_are_not_changes_even_when_replaced() -> None:
    line = {
        **member(1, "a"),
        "item": ref("a"),
        "billingMode": "IN_ADVANCE",
        "renewalOption": "ALWAYS",
    }
    current = {"id": "1", "member": sublist(line)}
    planned = {"member": {"items": [member(1, "a")]}}
    assert diff_record(planned, current, replace=("member",)).action == "unchanged"


def interval(number: int, offset: int | None, quantity: float) -> dict[str, Any]:
    line: dict[str, Any] = {"subscriptionPlanLineNumber": number, "quantity": quantity}
    if offset is not None:
        line["startOffsetValue"] = offset
    return line


def test_price_intervals_match_on_line_number_and_start_offset() -> None:
    current = {"id": "1", "priceInterval": sublist(interval(1, 1, 5.0), interval(1, 13, 6.0))}
    planned = {"priceInterval": {"items": [interval(1, 1, 5), interval(1, 13, 7)]}}
    diff = diff_record(planned, current, replace=("priceInterval",))
    assert diff.changes == (
        FieldChange(
            "priceInterval[subscriptionPlanLineNumber=1,startOffsetValue=13].quantity", 6.0, 7
        ),
    )


def test_a_price_interval_without_start_offset_matches_on_the_line_number() -> None:
    current = {"id": "1", "priceInterval": sublist(interval(1, 1, 5.0), interval(2, 1, 1.0))}
    planned = {"priceInterval": {"items": [interval(2, None, 3)]}}
    diff = diff_record(planned, current)
    assert diff.changes == (
        FieldChange("priceInterval[subscriptionPlanLineNumber=2].quantity", 1.0, 3),
    )


def test_a_line_without_its_key_is_added() -> None:
    current = {"id": "1", "item": sublist({"line": 1, "quantity": 1})}
    diff = diff_record({"item": {"items": [{"quantity": 2}, {"line": 1, "quantity": 1}]}}, current)
    assert diff.changes == (FieldChange("item[new]", None, {"quantity": 2}),)


def test_a_replaced_sublist_planned_empty_removes_every_line() -> None:
    current = {"id": "1", "member": sublist(member(1, "a"))}
    diff = diff_record({"member": {"items": []}}, current, replace=("member",))
    assert diff.changes == (
        FieldChange("member[lineNumber=1]", {"item": "a", "lineNumber": 1}, None),
    )


# -- non-keyed sublists ---------------------------------------------------------------------------


def address(label: str, city: str) -> dict[str, Any]:
    return {"label": label, "addressBookAddress": {"city": city}}


def test_non_keyed_replaced_lines_compare_by_position() -> None:
    current = {"id": "1", "addressBook": sublist(
        {"label": "Billing", "addressBookAddress": {"links": [], "city": "Paris"}, "id": "77"},
        {"label": "Shipping", "addressBookAddress": {"links": [], "city": "Lyon"}, "id": "78"},
        {"label": "Old", "addressBookAddress": {"links": [], "city": "Nice"}, "id": "79"},
    )}  # fmt: skip
    planned = {
        "addressBook": {"items": [address("Billing", "Paris"), address("Shipping", "Lille")]}
    }
    diff = diff_record(planned, current, replace=("addressBook",))
    assert diff.as_list() == [
        {"path": "addressBook[2].addressBookAddress.city", "before": "Lyon", "after": "Lille"},
        {
            "path": "addressBook[3]",
            "before": {"addressBookAddress": {"city": "Nice"}, "id": "79", "label": "Old"},
            "after": None,
        },
    ]


def test_non_keyed_replaced_extra_planned_lines_are_additions() -> None:
    current = {"id": "1", "addressBook": sublist(address("Billing", "Paris"))}
    planned = {"addressBook": {"items": [address("Billing", "Paris"), address("Ship", "Lyon")]}}
    diff = diff_record(planned, current, replace=("addressBook",))
    assert paths(diff.changes) == ["addressBook[2]"]
    assert diff.changes[0].before is None


def test_non_keyed_without_replace_appends_every_planned_line() -> None:
    current = {"id": "1", "priceTiers": sublist({"fromVal": 0, "value": 10.0})}
    planned = {"priceTiers": {"items": [{"fromVal": 0, "value": 10}]}}
    diff = diff_record(planned, current)
    assert diff.changes == (FieldChange("priceTiers[2]", None, {"fromVal": 0, "value": 10}),)
    assert diff_record(planned, current, replace=("priceTiers",)).action == "unchanged"


# -- order ----------------------------------------------------------------------------------------


def test_order_is_deterministic_whatever_the_payload_order() -> None:
    current = {"id": "1", "a": 1, "b": 1, "c": 1}
    forward = diff_record({"a": 2, "b": 2, "c": 2}, current)
    backward = diff_record({"c": 2, "b": 2, "a": 2}, current)
    assert paths(forward.changes) == paths(backward.changes) == ["a", "b", "c"]
    assert forward == backward


def test_changes_are_json_ready() -> None:
    diff = diff_record({"company": PendingRef(PLAN), "n": 1}, {"id": "1", "n": 2})
    assert diff.as_list() == [
        {"path": "company", "before": None, "after": NEW_RECORD},
        {"path": "n", "before": 2, "after": 1},
    ]
