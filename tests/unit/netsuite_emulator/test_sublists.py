"""Sublists per contracts §2.2: keyed vs non-keyed, with and without ``replace``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.records import RecordService
from dealbridge.connectors.netsuite.emulator.schema_types import Kind, SublistDef, field
from dealbridge.connectors.netsuite.emulator.sublists import merge_lines
from tests.unit.netsuite_emulator.records_support import (
    BASE,
    SEAT_STD,
    SUPPORT_PRM,
    SUPPORT_STD,
    catalogue,
    customer,
    expect_problem,
    lines_by,
    new_service,
    price_plan,
    ref,
)

_KEYED = SublistDef("member", (field("lineNumber", Kind.INT), field("note")), keys=("lineNumber",))
_UNKEYED = SublistDef("addressBook", (field("label"),))


def _as_is(item: Mapping[str, Any], _path: str) -> dict[str, Any]:
    return dict(item)


@pytest.fixture
def svc() -> RecordService:
    return new_service()


# --- the §2.2 table, on the merge itself ------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "expected"),
    [(False, [(1, "one*"), (2, "two"), (3, "three")]), (True, [(1, "one*"), (3, "three")])],
)
def test_keyed_lines_update_by_key_add_the_rest_and_replace_drops_others(
    replace: bool, expected: list[tuple[int, str]]
) -> None:
    existing = [{"lineNumber": 1, "note": "one"}, {"lineNumber": 2, "note": "two"}]
    items = [{"lineNumber": 1, "note": "one*"}, {"lineNumber": 3, "note": "three"}]
    merged = merge_lines(_KEYED, existing, items, replace=replace, normalize=_as_is)
    assert [(line["lineNumber"], line["note"]) for line in merged] == expected
    assert existing[0]["note"] == "one"  # the stored lines are not modified in place


@pytest.mark.parametrize(("replace", "expected"), [(False, ["a", "b", "c"]), (True, ["c"])])
def test_unkeyed_lines_append_or_replace_everything(replace: bool, expected: list[str]) -> None:
    existing = [{"label": "a", "line": 1}, {"label": "b", "line": 2}]
    merged = merge_lines(_UNKEYED, existing, [{"label": "c"}], replace=replace, normalize=_as_is)
    assert [line["label"] for line in merged] == expected
    assert [line["line"] for line in merged] == list(range(1, len(expected) + 1))


def test_a_keyed_line_without_its_key_gets_the_next_number() -> None:
    existing = [{"lineNumber": 4, "note": "four"}]
    merged = merge_lines(_KEYED, existing, [{"note": "new"}], replace=False, normalize=_as_is)
    assert merged[-1] == {"lineNumber": 5, "note": "new"}


# --- non-keyed: customer addressBook ----------------------------------------------------------


def _address(city: str, **extra: Any) -> dict[str, Any]:
    return {
        "defaultBilling": True,
        "addressBookAddress": {
            "addr1": "1 Main St",
            "city": city,
            "country": {"id": "US"},
            **extra,
        },
    }


def test_address_book_lines_are_appended_and_numbered(svc: RecordService) -> None:
    cid = customer(svc, addressBook={"items": [_address("Austin"), _address("Boston")]})
    svc.update(
        "customer", cid, {"addressbook": {"items": [_address("Chicago")]}}, strict_fields=True
    )
    lines = svc.get_sublist("customer", cid, "addressBook", base_url=BASE)
    assert [ln["addressBookAddress"]["city"] for ln in lines["items"]] == [
        "Austin",
        "Boston",
        "Chicago",
    ]
    assert [ln["line"] for ln in lines["items"]] == [1, 2, 3]
    assert (lines["totalResults"], lines["count"], lines["hasMore"]) == (3, 3, False)
    first = lines["items"][0]
    assert first["links"] == []
    assert first["addressBookAddress"]["country"] == {"id": "US", "refName": "US"}


def test_address_book_replace_swaps_all_lines(svc: RecordService) -> None:
    cid = customer(svc, addressBook={"items": [_address("Austin"), _address("Boston")]})
    echoed = {**_address("Denver"), "line": 9, "links": []}  # echoed GET output is ignored
    svc.update(
        "customer",
        cid,
        {"addressBook": {"items": [echoed]}},
        strict_fields=True,
        replace=frozenset({"addressBook"}),
    )
    (line,) = svc.dump("customer")[0]["addressBook"]
    assert (line["line"], line["addressBookAddress"]["city"]) == (1, "Denver")


def test_expanded_get_shows_lines_inline(svc: RecordService) -> None:
    cid = customer(svc, addressBook={"items": [_address("Austin")]})
    got = svc.get("customer", cid, base_url=BASE, expand_sub_resources=True)
    assert got["addressBook"]["items"][0]["addressBookAddress"]["city"] == "Austin"
    assert got["addressBook"]["links"][0]["href"].endswith(f"/customer/{cid}/addressBook")


def test_subrecord_errors_carry_the_full_path(svc: RecordService) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        customer(svc, addressBook={"items": [_address("Austin"), _address("X" * 51)]})
    expect_problem(raised, 400, "USER_ERROR", "addressBook.items[1].addressBookAddress.city")
    with pytest.raises(NetSuiteProblem) as raised:
        customer(svc, addressBook={"items": [_address("Austin", planet="Mars")]})
    expect_problem(raised, 400, "INVALID_CONTENT", "addressBook.items[0].addressBookAddress.planet")


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ([{"label": "x"}], "addressBook"),
        ({"items": {"label": "x"}}, "addressBook"),
        ({"items": ["x"]}, "addressBook.items[0]"),
    ],
)
def test_a_malformed_sublist_is_invalid_content(svc: RecordService, value: Any, path: str) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        customer(svc, addressBook=value)
    expect_problem(raised, 400, "INVALID_CONTENT", path)


# --- keyed: plan members, sales-order items, price-book intervals ------------------------------


def test_plan_members_merge_by_line_number(svc: RecordService) -> None:
    cat = catalogue(svc)
    patch = {
        "member": {
            "items": [
                {"lineNumber": 4, "item": ref(SUPPORT_PRM)},
                {"lineNumber": 5, "item": ref(SEAT_STD), "subscriptionLineType": "2"},
            ]
        }
    }
    svc.update("subscriptionPlan", cat.plan, patch, strict_fields=True)
    members = lines_by(
        svc.get("subscriptionPlan", cat.plan, base_url=BASE, expand_sub_resources=True)["member"],
        "items",
        "lineNumber",
    )
    assert sorted(members) == [1, 2, 3, 4, 5]
    assert members[4]["item"]["id"] == SUPPORT_PRM
    assert (members[5]["isRequired"], members[5]["billingMode"]) == (False, "IN_ADVANCE")


def test_replace_keeps_only_the_lines_sent(svc: RecordService) -> None:
    cat = catalogue(svc)
    patch = {"member": {"items": [{"lineNumber": 2}, {"lineNumber": 3}]}}
    svc.update(
        "subscriptionPlan", cat.plan, patch, strict_fields=True, replace=frozenset({"member"})
    )
    members = svc.dump("subscriptionPlan")[0]["member"]
    assert [m["lineNumber"] for m in members] == [2, 3]


def test_replace_of_a_sublist_not_in_the_body_removes_its_lines(svc: RecordService) -> None:
    cat = catalogue(svc)
    svc.update(
        "subscriptionPlan",
        cat.plan,
        {},
        strict_fields=True,
        replace=frozenset({"MEMBER", "notASublist"}),
    )
    assert svc.dump("subscriptionPlan")[0]["member"] == []


def test_sales_order_lines_without_line_are_added(svc: RecordService) -> None:
    cid = customer(svc)
    order = {
        "entity": ref(cid),
        "tranDate": "2025-01-31",
        "item": {
            "items": [
                {"item": ref(SEAT_STD), "quantity": 10, "rate": 50.0},
                {"item": ref(SUPPORT_STD), "quantity": 1, "rate": 500},
            ]
        },
    }
    so = svc.create("salesOrder", order, strict_fields=True)
    svc.update(
        "salesOrder",
        so,
        {"item": {"items": [{"line": 1, "rate": 45.0}, {"item": ref(SUPPORT_PRM)}]}},
        strict_fields=True,
    )
    lines = lines_by(svc.dump("salesOrder")[0], "item", "line")
    assert sorted(lines) == [1, 2, 3]
    assert (lines[1]["quantity"], lines[1]["rate"]) == (10.0, 45.0)
    assert lines[3]["item"] == SUPPORT_PRM
    rows = svc.rows("transactionline") or []
    assert [(r["transaction"], r["line"]) for r in rows] == [(so, 1), (so, 2), (so, 3)]


def test_a_new_line_missing_a_mandatory_field_is_refused(svc: RecordService) -> None:
    cat = catalogue(svc)
    patch = {"member": {"items": [{"lineNumber": 9, "subscriptionLineType": "2"}]}}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscriptionPlan", cat.plan, patch, strict_fields=True)
    problem = expect_problem(raised, 400, "USER_ERROR", "member.items[0].item")
    assert "Please enter value(s) for: Item" in problem.detail


def test_a_line_reference_to_nothing_names_its_line(svc: RecordService) -> None:
    cat = catalogue(svc)
    patch = {"member": {"items": [{"lineNumber": 1}, {"lineNumber": 2, "item": ref("9999")}]}}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscriptionPlan", cat.plan, patch, strict_fields=True)
    problem = expect_problem(raised, 400, "INVALID_KEY_OR_REF", "member.items[1].item")
    assert "Invalid Field Value 9999 for the following field: item" in problem.detail


def test_unknown_line_fields_are_refused_in_strict_mode(svc: RecordService) -> None:
    cat = catalogue(svc)
    patch = {"member": {"items": [{"lineNumber": 1, "colour": "red", "custcol_x": "ok"}]}}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscriptionPlan", cat.plan, patch, strict_fields=True)
    expect_problem(raised, 400, "INVALID_CONTENT", "member.items[0].colour")
    svc.update("subscriptionPlan", cat.plan, patch, strict_fields=False)
    assert svc.dump("subscriptionPlan")[0]["member"][0]["custcol_x"] == "ok"


def test_price_intervals_are_keyed_by_plan_line_and_start_offset(svc: RecordService) -> None:
    cat = catalogue(svc)
    year_two = price_plan(svc, (0, 20.0))
    add = {
        "priceInterval": {
            "items": [
                {
                    "subscriptionPlanLineNumber": 4,
                    "startOffsetValue": 2,
                    "startOffsetUnit": "YEAR",
                    "pricePlan": ref(year_two),
                    "frequency": "MONTHLY",
                }
            ]
        }
    }
    svc.update("priceBook", cat.price_book, add, strict_fields=True)
    ambiguous = {
        "priceInterval": {"items": [{"subscriptionPlanLineNumber": 4, "frequency": "ANNUALLY"}]}
    }
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("priceBook", cat.price_book, ambiguous, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "priceInterval.items[0].startOffsetValue")
    ambiguous["priceInterval"]["items"][0]["startOffsetValue"] = 2
    svc.update("priceBook", cat.price_book, ambiguous, strict_fields=True)
    intervals = svc.dump("priceBook")[0]["priceInterval"]
    line_four = [
        (i["startOffsetValue"], i["frequency"])
        for i in intervals
        if i["subscriptionPlanLineNumber"] == 4
    ]
    assert line_four == [(1, "MONTHLY"), (2, "ANNUALLY")]


def test_an_unknown_sublist_is_404(svc: RecordService) -> None:
    cid = customer(svc)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.get_sublist("customer", cid, "item", base_url=BASE)
    expect_problem(raised, 404, "NONEXISTENT_ID", None)
