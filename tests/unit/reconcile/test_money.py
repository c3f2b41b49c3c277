"""Money: the flow's arithmetic over NetSuite's price intervals, against plan and quote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dealbridge.sync.reconcile_compare import Actual
from dealbridge.sync.reconcile_expect import Expectation
from dealbridge.sync.reconcile_money import (
    billing_periods,
    money_findings,
    planned_value,
    term_months,
    tier_price,
    value_subscription,
)
from tests.unit.reconcile.plans import (
    PRICE_PLAN,
    SUBSCRIPTION,
    expectation,
    graph,
    operation,
    price_plan_payload,
    subscription_payload,
)

SUBSCRIPTION_ROW = {
    "id": "40",
    "externalid": SUBSCRIPTION.external_id,
    "startdate": "2025-06-01",
    "enddate": "2026-05-31",
}


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2025-06-01", "2026-05-31", 12),
        ("2025-01-31", "2025-02-27", 1),  # CPQ's end of a month from the 31st
        ("6/1/2025", "5/31/2028", 36),
        ("2025-06-01", "2025-06-15", Decimal(15) / Decimal("30.4375")),
    ],
)
def test_term_months_from_start_to_the_day_after_the_end(
    start: str, end: str, months: Decimal | int
) -> None:
    assert term_months(start, end) == months


def test_an_unknown_term_is_none() -> None:
    assert term_months(None, "2025-01-01") is None


def test_periods_per_frequency_and_once_for_one_time() -> None:
    assert billing_periods("MONTHLY", Decimal(12)) == 12
    assert billing_periods("QUARTERLY", Decimal(24)) == 8
    assert billing_periods("ANNUALLY", Decimal(36)) == 3
    assert billing_periods("ONETIME", None) == 1
    assert billing_periods("USAGE", Decimal(12)) is None


def test_the_price_is_the_last_tier_the_quantity_passes() -> None:
    tiers = [{"fromVal": 0, "value": 10}, {"fromVal": 20, "value": 8}, {"fromVal": 50, "value": 6}]
    assert tier_price(tiers, Decimal(5)) == 10
    assert tier_price(tiers, Decimal(21)) == 8
    assert tier_price(tiers, Decimal(51)) == 6


def test_a_subscription_is_worth_quantity_price_discount_and_periods() -> None:
    intervals = [
        {"frequency": "MONTHLY", "quantity": "10", "price": "8.33", "discount": "10"},
        {"frequency": "ONETIME", "quantity": "1", "price": "500", "discount": "0"},
    ]

    value = value_subscription(SUBSCRIPTION_ROW, intervals)

    assert value.value == Decimal("10") * Decimal("8.33") * Decimal("0.9") * 12 + 500
    assert value.intervals == 2
    assert value.problem is None


def test_a_subscription_without_intervals_cannot_be_valued() -> None:
    assert value_subscription(SUBSCRIPTION_ROW, []).problem


def _held(quantity: str) -> tuple[Actual, dict[str, list[dict[str, str]]]]:
    actual = Actual({"subscription": {SUBSCRIPTION.external_id: SUBSCRIPTION_ROW}})
    interval = {"frequency": "MONTHLY", "quantity": quantity, "price": "8.33", "discount": "0"}
    return actual, {"40": [interval]}


def _planned(quote: float) -> Expectation:
    planned = expectation(
        ("006A", operation(PRICE_PLAN, price_plan_payload(8.33))),
        ("006A", operation(SUBSCRIPTION, subscription_payload(10))),
    )
    planned.deals["006A"].graph = graph(quote)
    planned.deals["006A"].currency = "USD"
    return planned


def test_what_the_flow_planned_matches_what_netsuite_bills_despite_its_rounding() -> None:
    planned = _planned(quote=1000.00)  # 100/year list price: the flow bills 8.33 a month
    actual, intervals = _held("10")

    result = money_findings(planned, actual, intervals)

    assert result.items == []
    assert result.totals["USD"] == {
        "salesforce": "1000.00",
        "planned": "999.60",
        "netsuite": "999.60",
        "difference": "-0.40",
        "rounding": "-0.40",
        "deals": 1,
    }
    assert result.intervals == 1


def test_a_quantity_changed_in_netsuite_is_a_finding_with_all_three_figures() -> None:
    planned = _planned(quote=1000.00)
    actual, intervals = _held("11")

    [item] = money_findings(planned, actual, intervals).items

    assert item.category == "money"
    assert item.opportunities == ("006A",)
    assert item.amounts == {
        "currency": "USD",
        "salesforce": "1000.00",
        "planned": "999.60",
        "netsuite": "1099.56",
        "difference": "99.56",
        "rounding": "-0.40",
    }


def test_a_deal_whose_subscription_is_missing_is_left_to_the_missing_finding() -> None:
    planned = _planned(quote=1000.00)
    result = money_findings(planned, Actual(), {})
    assert result.items == []
    assert result.totals == {}


def test_the_planned_value_follows_the_plan_payloads() -> None:
    planned = _planned(quote=1000.00)
    plan = planned.deals["006A"].plan
    assert plan is not None
    assert planned_value(plan, SUBSCRIPTION).value == Decimal("999.60")
