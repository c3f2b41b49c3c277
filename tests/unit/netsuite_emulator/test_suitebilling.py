"""SuiteBilling: draft subscriptions from plan and price book, then lines by key (contracts §3)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.records import RecordService
from dealbridge.connectors.netsuite.emulator.suitebilling import shift
from tests.unit.netsuite_emulator.records_support import (
    ANALYTICS,
    BASE,
    GBP,
    SUPPORT_STD,
    Catalogue,
    billing_account,
    catalogue,
    customer,
    expect_problem,
    lines_by,
    new_service,
    price_plan,
    ref,
    subscription_body,
)


@pytest.fixture
def svc() -> RecordService:
    return new_service()


@pytest.fixture
def cat(svc: RecordService) -> Catalogue:
    return catalogue(svc)


@pytest.fixture
def draft(svc: RecordService, cat: Catalogue) -> str:
    """Oracle's case-2 draft: a subscription created with references only."""
    cust = customer(svc)
    account = billing_account(svc, cust)
    return svc.create("subscription", subscription_body(cust, account, cat), strict_fields=True)


def _subscription(svc: RecordService, record_id: str) -> dict[str, Any]:
    return next(doc for doc in svc.dump("subscription") if doc["id"] == record_id)


def test_a_draft_takes_its_lines_from_the_plan_and_price_book(
    svc: RecordService, draft: str, cat: Catalogue
) -> None:
    doc = _subscription(svc, draft)
    assert (doc["status"], doc["startDate"], doc["endDate"]) == (
        "DRAFT",
        "2025-01-01",
        "2025-12-31",
    )
    assert (doc["currency"], doc["subsidiary"]) == ("1", "1")
    lines = lines_by(doc, "subscriptionLine", "lineNumber")
    assert sorted(lines) == [1, 2, 3, 4]
    assert [lines[n]["isIncluded"] for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert [lines[n]["subscriptionLineStatus"] for n in (3, 4)] == ["DRAFT", "NOT_INCLUDED"]
    assert (lines[1]["subscriptionLineType"], lines[4]["item"]) == ("1", SUPPORT_STD)
    intervals = lines_by(doc, "priceInterval", "subscriptionPlanLineNumber")
    assert sorted(intervals) == [1, 2, 3, 4]
    assert intervals[3]["pricePlan"] == cat.price_plans[3]
    assert [intervals[1][k] for k in ("quantity", "discount", "price", "frequency")] == [
        1.0,
        0.0,
        100.0,
        "ONETIME",
    ]
    assert (intervals[2]["startDate"], intervals[2]["item"]) == ("2025-01-01", "2")


def test_the_contract_flow_patches_lines_and_intervals_by_key(
    svc: RecordService, draft: str
) -> None:
    patch = {
        "subscriptionLine": {"items": [{"lineNumber": 4, "isIncluded": True}]},
        "priceInterval": {
            "items": [
                {"subscriptionPlanLineNumber": 1, "discount": 50.0},
                {"subscriptionPlanLineNumber": 3, "quantity": 25},
            ]
        },
    }
    assert svc.update("subscription", draft, patch, strict_fields=True) == draft
    doc = _subscription(svc, draft)
    lines = lines_by(doc, "subscriptionLine", "lineNumber")
    assert (lines[4]["isIncluded"], lines[4]["subscriptionLineStatus"]) == (True, "DRAFT")
    intervals = lines_by(doc, "priceInterval", "subscriptionPlanLineNumber")
    assert (intervals[1]["discount"], intervals[1]["quantity"]) == (50.0, 1.0)
    assert (intervals[3]["quantity"], intervals[3]["price"]) == (25.0, 6.0)  # tier 21-50 seats
    assert (intervals[2]["discount"], intervals[2]["quantity"]) == (0.0, 1.0)  # untouched
    assert intervals[4]["status"] == "DRAFT"
    rendered = svc.get("subscription", draft, base_url=BASE, expand_sub_resources=True)
    assert rendered["priceInterval"]["totalResults"] == 4
    assert rendered["customer"]["refName"] == "Acme Corp"
    assert rendered["subscriptionPlan"]["refName"] == "DEFEND Package"


@pytest.mark.parametrize(("quantity", "price"), [(1, 7.0), (20, 7.0), (21, 6.0), (51, 5.0)])
def test_the_price_follows_the_tier_the_quantity_reaches(
    svc: RecordService, draft: str, quantity: int, price: float
) -> None:
    patch = {"priceInterval": {"items": [{"subscriptionPlanLineNumber": 3, "quantity": quantity}]}}
    svc.update("subscription", draft, patch, strict_fields=True)
    intervals = lines_by(_subscription(svc, draft), "priceInterval", "subscriptionPlanLineNumber")
    assert intervals[3]["price"] == price  # tiers 0 / 20 / 50 mean 0-20, 21-50, 51+ (case-1)


def test_an_add_on_line_brings_its_item_and_its_price_interval(
    svc: RecordService, draft: str
) -> None:
    add_on_plan = price_plan(svc, (0, 50.0))
    patch = {
        "subscriptionLine": {
            "items": [
                {
                    "lineNumber": 7,
                    "item": ref(ANALYTICS),
                    "subscriptionLineType": "2",
                    "billingMode": "IN_ADVANCE",
                    "renewalOption": "ALWAYS",
                    "prorateStartDate": True,
                }
            ]
        },
        "priceInterval": {
            "items": [
                {
                    "subscriptionPlanLineNumber": 7,
                    "pricePlan": ref(add_on_plan),
                    "frequency": "MONTHLY",
                    "repeatEvery": "1",
                    "startOffsetUnit": "MONTH",
                    "startOffsetValue": 1,
                    "prorateBy": "DAY",
                }
            ]
        },
    }
    svc.update("subscription", draft, patch, strict_fields=True)
    doc = _subscription(svc, draft)
    line = lines_by(doc, "subscriptionLine", "lineNumber")[7]
    assert (line["isIncluded"], line["subscriptionLineStatus"], line["item"]) == (
        True,
        "DRAFT",
        ANALYTICS,
    )
    interval = lines_by(doc, "priceInterval", "subscriptionPlanLineNumber")[7]
    assert (interval["price"], interval["quantity"], interval["startDate"]) == (
        50.0,
        1.0,
        "2025-01-01",
    )
    table = svc.rows("subscriptionline") or []
    assert [r["linenumber"] for r in table if r["subscription"] == draft] == [1, 2, 3, 4, 7]


def test_an_add_on_line_without_its_item_is_refused(svc: RecordService, draft: str) -> None:
    patch = {"subscriptionLine": {"items": [{"lineNumber": 7, "subscriptionLineType": "2"}]}}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscription", draft, patch, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "subscriptionLine.items[0].item")


def test_a_price_interval_for_a_line_that_does_not_exist_is_refused(
    svc: RecordService, draft: str
) -> None:
    patch = {
        "priceInterval": {
            "items": [
                {"subscriptionPlanLineNumber": 2, "discount": 5.0},
                {"subscriptionPlanLineNumber": 99, "discount": 5.0},
            ]
        }
    }
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscription", draft, patch, strict_fields=True)
    problem = expect_problem(
        raised, 400, "INVALID_KEY_OR_REF", "priceInterval.items[1].subscriptionPlanLineNumber"
    )
    assert "Invalid Field Value 99" in problem.detail
    assert (
        lines_by(_subscription(svc, draft), "priceInterval", "subscriptionPlanLineNumber")[2][
            "discount"
        ]
        == 0.0
    )  # the refused PATCH changed nothing


def test_a_required_line_cannot_be_excluded(svc: RecordService, draft: str) -> None:
    patch = {
        "subscriptionLine": {
            "items": [{"lineNumber": 4, "isIncluded": True}, {"lineNumber": 2, "isIncluded": False}]
        }
    }
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscription", draft, patch, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "subscriptionLine.items[1].isIncluded")


def test_excluding_an_optional_line_marks_it_and_its_intervals(
    svc: RecordService, draft: str
) -> None:
    svc.update(
        "subscription",
        draft,
        {"subscriptionLine": {"items": [{"lineNumber": 4, "isIncluded": True}]}},
        strict_fields=True,
    )
    svc.update(
        "subscription",
        draft,
        {"subscriptionLine": {"items": [{"lineNumber": 4, "isIncluded": False}]}},
        strict_fields=True,
    )
    doc = _subscription(svc, draft)
    assert lines_by(doc, "subscriptionLine", "lineNumber")[4]["subscriptionLineStatus"] == (
        "NOT_INCLUDED"
    )
    assert lines_by(doc, "priceInterval", "subscriptionPlanLineNumber")[4]["status"] == (
        "NOT_INCLUDED"
    )


def test_lines_sent_on_create_merge_over_the_defaults(svc: RecordService, cat: Catalogue) -> None:
    cust = customer(svc)
    account = billing_account(svc, cust)
    body = subscription_body(
        cust,
        account,
        cat,
        startDate="2025-03-15",
        name="Acme DEFEND",
        subscriptionLine={"items": [{"lineNumber": 4, "isIncluded": True}]},
        priceInterval={"items": [{"subscriptionPlanLineNumber": 3, "quantity": 60}]},
    )
    for _ in range(3):  # an upsert retried keeps one record with the same lines
        sub = svc.upsert("subscription", "SFSUB-1", body, strict_fields=True)
    doc = _subscription(svc, sub)
    assert (doc["startDate"], doc["endDate"], doc["name"]) == (
        "2025-03-15",
        "2026-03-14",
        "Acme DEFEND",
    )
    assert len(doc["subscriptionLine"]) == 4
    assert lines_by(doc, "subscriptionLine", "lineNumber")[4]["isIncluded"] is True
    interval = lines_by(doc, "priceInterval", "subscriptionPlanLineNumber")[3]
    assert (interval["quantity"], interval["price"], interval["startDate"]) == (
        60.0,
        5.0,
        "2025-03-15",
    )
    assert len(svc.dump("subscription")) == 1


def test_a_billing_account_of_another_customer_is_refused(
    svc: RecordService, cat: Catalogue
) -> None:
    account = billing_account(svc, customer(svc, "Owner"))
    body = subscription_body(customer(svc, "Someone Else"), account, cat)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("subscription", body, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "billingAccount")


def test_a_price_book_of_another_plan_is_refused(svc: RecordService, cat: Catalogue) -> None:
    other = catalogue(svc)
    cust = customer(svc)
    body = subscription_body(cust, billing_account(svc, cust), cat)
    body["priceBook"] = ref(other.price_book)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("subscription", body, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "priceBook")


def test_a_price_book_in_another_currency_is_refused(svc: RecordService, cat: Catalogue) -> None:
    cust = customer(svc)
    body = subscription_body(cust, billing_account(svc, cust, currency=GBP), cat)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("subscription", body, strict_fields=True)
    assert "currency" in expect_problem(raised, 400, "USER_ERROR", "priceBook").detail


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        ({"initialTerm": None}, "initialTerm", "USER_ERROR"),
        ({"startDate": "01/03/2025"}, "startDate", "INVALID_CONTENT"),
        ({"priceBook": ref("9999")}, "priceBook", "INVALID_KEY_OR_REF"),
    ],
)
def test_bad_subscription_fields_are_refused(
    svc: RecordService, cat: Catalogue, change: dict[str, Any], path: str, code: str
) -> None:
    cust = customer(svc)
    body = {**subscription_body(cust, billing_account(svc, cust), cat), **change}
    with pytest.raises(NetSuiteProblem) as raised:
        svc.create("subscription", body, strict_fields=True)
    expect_problem(raised, 400, code, path)


def test_the_plan_of_an_existing_subscription_cannot_change(svc: RecordService, draft: str) -> None:
    other = catalogue(svc)
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("subscription", draft, {"subscriptionPlan": ref(other.plan)}, strict_fields=True)
    expect_problem(raised, 400, "USER_ERROR", "subscriptionPlan")


def test_an_evergreen_term_has_no_end_date(svc: RecordService, cat: Catalogue) -> None:
    cust = customer(svc)
    body = subscription_body(cust, billing_account(svc, cust), cat, initialTerm=ref("5"))
    doc = _subscription(svc, svc.create("subscription", body, strict_fields=True))
    assert "endDate" not in doc


def test_a_price_book_interval_must_name_a_plan_line(svc: RecordService, cat: Catalogue) -> None:
    patch = {
        "priceInterval": {
            "items": [
                {
                    "subscriptionPlanLineNumber": 8,
                    "pricePlan": ref(cat.price_plans[1]),
                    "frequency": "MONTHLY",
                }
            ]
        }
    }
    with pytest.raises(NetSuiteProblem) as raised:
        svc.update("priceBook", cat.price_book, patch, strict_fields=True)
    expect_problem(
        raised, 400, "INVALID_KEY_OR_REF", "priceInterval.items[0].subscriptionPlanLineNumber"
    )


def test_a_plan_used_by_a_price_book_cannot_be_deleted(svc: RecordService, cat: Catalogue) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.delete("subscriptionPlan", cat.plan)
    expect_problem(raised, 400, "USER_ERROR", None)


def test_intervals_starting_later_are_dated_by_their_offset(
    svc: RecordService, cat: Catalogue, draft: str
) -> None:
    year_two = price_plan(svc, (0, 20.0))
    patch = {
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
    svc.update("subscription", draft, patch, strict_fields=True)
    intervals = [
        i
        for i in _subscription(svc, draft)["priceInterval"]
        if i["subscriptionPlanLineNumber"] == 4
    ]
    assert [(i["startOffsetValue"], i["startDate"], i["price"]) for i in intervals] == [
        (1, "2025-01-01", 30.0),
        (2, "2026-01-01", 20.0),
    ]


@pytest.mark.parametrize(
    ("start", "unit", "amount", "expected"),
    [
        (date(2024, 1, 31), "MONTHS", 1, date(2024, 2, 29)),
        (date(2025, 11, 30), "MONTH", 3, date(2026, 2, 28)),
        (date(2025, 1, 1), "YEARS", 2, date(2027, 1, 1)),
        (date(2025, 1, 1), "WEEKS", 2, date(2025, 1, 15)),
        (date(2025, 1, 1), "DAYS", 45, date(2025, 2, 15)),
    ],
)
def test_shift_moves_by_calendar_units(start: date, unit: str, amount: int, expected: date) -> None:
    assert shift(start, unit, amount) == expected
