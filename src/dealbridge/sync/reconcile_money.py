"""Money: what each deal's NetSuite subscriptions are worth, against its quote's net amount.

Method (documented in ``docs/reconciliation.md``). A subscription is valued from its price
intervals with the flow's arithmetic:

    value = Σ quantity * price * (1 - discount / 100) * periods

``price`` is the per-unit value of the interval's price plan for one billing period, ``discount``
a percent, and ``periods`` the billing periods in the subscription's term: term months (start
date to the day after the end date) divided by the months of the interval's frequency (MONTHLY
1, QUARTERLY 3, SEMIANNUALLY 6, ANNUALLY 12); a ONETIME interval counts once.

Three figures per deal, all in the deal's currency:

- ``salesforce`` — the primary quote's ``SBQQ__NetAmount__c`` (Σ net unit price * quantity *
  term / 12 over its lines, as CPQ computes it);
- ``planned`` — the same formula over the subscriptions and price plans the flow plans now;
- ``netsuite`` — the same formula over the price intervals NetSuite holds (``price`` is the
  interval's price, which NetSuite derives from the price plan).

``planned`` and ``salesforce`` differ only by the flow's rounding: it stores each price plan per
billing period rounded to cents (a 0.76/year price billed monthly becomes 0.06/month), which on
thousands of units is real money. That gap is shown, per deal and per currency, as ``rounding``.
A finding is raised when ``netsuite`` is not ``planned`` (beyond a cent per interval): a
quantity, price or discount changed in NetSuite, a lost interval — what a person must look at.
When the plan cannot be valued, ``netsuite`` is compared with ``salesforce`` instead, within the
largest rounding the flow could cause (half a cent per unit and period, a cent per line).

A deal is checked when every subscription it plans exists (a missing one is already a
``missing`` finding). Totals add each figure up per currency over the deals checked.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dealbridge.connectors.netsuite.suiteql import Row, as_decimal
from dealbridge.core.records import PendingRef, RecordKey, SyncPlan
from dealbridge.errors import UnexpectedResponseError
from dealbridge.mapping.deal_values import FREQUENCY_MONTHS
from dealbridge.sync.reconcile_compare import Actual, suiteql_date
from dealbridge.sync.reconcile_expect import SUBSCRIPTION_TYPE, DealExpectation, Expectation
from dealbridge.sync.reconcile_report import Item

ONE_TIME = "ONETIME"
CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
_DAYS_PER_MONTH = Decimal("30.4375")
_FIGURES = ("salesforce", "planned", "netsuite")


@dataclass(frozen=True)
class Valuation:
    """A value, its interval and unit-period counts (for tolerances), or why it is unknown."""

    value: Decimal = Decimal(0)
    intervals: int = 0
    unit_periods: Decimal = Decimal(0)
    problem: str | None = None

    def plus(self, other: Valuation) -> Valuation:
        """Both together (the first problem wins)."""
        return Valuation(
            self.value + other.value,
            self.intervals + other.intervals,
            self.unit_periods + other.unit_periods,
            self.problem or other.problem,
        )


@dataclass(frozen=True)
class DealMoney:
    """The three figures of one deal."""

    opportunity_id: str
    currency: str
    salesforce: Decimal
    planned: Valuation
    netsuite: Valuation

    def finding(self) -> Item | None:
        """A ``money`` item when NetSuite's value is off (module docstring), else None."""
        if self.netsuite.problem:
            problem = self.netsuite.problem
            return self._item(f"The NetSuite subscriptions cannot be valued: {problem}.")
        if self.planned.problem is None:
            gap = self.netsuite.value - self.planned.value
            allowed = CENT * (self.netsuite.intervals + 1)
        else:
            gap = self.netsuite.value - self.salesforce
            allowed = HALF_CENT * self.netsuite.unit_periods + CENT * self.netsuite.intervals
        if abs(gap) <= allowed:
            return None
        return self._item(
            f"NetSuite bills {_money(self.netsuite.value)} {self.currency} for this deal; the "
            f"flow plans {_money(self.planned.value)} and the quote says "
            f"{_money(self.salesforce)}."
        )

    def _item(self, message: str) -> Item:
        return Item(
            category="money",
            record_type=SUBSCRIPTION_TYPE,
            opportunities=(self.opportunity_id,),
            message=message,
            amounts={
                "currency": self.currency,
                "salesforce": _money(self.salesforce),
                "planned": _money(self.planned.value),
                "netsuite": _money(self.netsuite.value),
                "difference": _money(self.netsuite.value - self.salesforce),
                "rounding": _money(self.planned.value - self.salesforce),
            },
        )


@dataclass
class MoneyResult:
    """Money findings, per-currency totals and how many intervals were read."""

    items: list[Item]
    totals: dict[str, dict[str, Any]]
    intervals: int


def money_findings(
    expectation: Expectation, actual: Actual, intervals: Mapping[str, list[Row]]
) -> MoneyResult:
    """Check every deal whose subscriptions all exist (module docstring)."""
    checked = [
        found
        for expected in expectation.deals.values()
        if (found := check_deal(expected, actual, intervals)) is not None
    ]
    items = [item for deal in checked if (item := deal.finding()) is not None]
    return MoneyResult(items, totals(checked), sum(deal.netsuite.intervals for deal in checked))


def check_deal(
    expected: DealExpectation, actual: Actual, intervals: Mapping[str, list[Row]]
) -> DealMoney | None:
    """The three figures of a deal, or None when it cannot be checked."""
    keys = expected.keys(SUBSCRIPTION_TYPE)
    quote = expected.graph.quote if expected.graph is not None else None
    if not keys or quote is None or quote.net_amount is None or expected.plan is None:
        return None
    rows = [actual.row(key) for key in keys]
    held = [row for row in rows if row is not None]
    if len(held) < len(keys):
        return None  # reported as missing
    netsuite = Valuation()
    for row in held:
        netsuite = netsuite.plus(value_subscription(row, intervals.get(str(row.get("id")), [])))
    planned = Valuation()
    for key in keys:
        planned = planned.plus(planned_value(expected.plan, key))
    currency = expected.currency or "?"
    return DealMoney(expected.deal.opportunity_id, currency, quote.net_amount, planned, netsuite)


def value_subscription(subscription: Row, intervals: list[Row]) -> Valuation:
    """One subscription's value from the price interval rows NetSuite holds."""
    months = term_months(subscription.get("startdate"), subscription.get("enddate"))
    total = Valuation()
    for row in intervals:
        try:
            price = as_decimal(row.get("price"))
            quantity = as_decimal(row.get("quantity"))
            discount = as_decimal(row.get("discount"))
        except UnexpectedResponseError as error:
            return total.plus(Valuation(problem=error.message))
        total = total.plus(interval_value(quantity, price, discount, row.get("frequency"), months))
    if not intervals:
        total = total.plus(Valuation(problem="a subscription has no price intervals"))
    return total


def planned_value(plan: SyncPlan, key: RecordKey) -> Valuation:
    """One planned subscription's value, from its planned intervals and price plans."""
    operations = {operation.key: operation for operation in plan.operations}
    payload = operations[key].payload
    months = term_months(payload.get("startDate"), payload.get("endDate"))
    total = Valuation()
    for line in _items(payload.get("priceInterval")):
        quantity = _decimal(line.get("quantity"))
        ref = line.get("pricePlan")
        price_plan = operations.get(ref.key) if isinstance(ref, PendingRef) else None
        tiers = _items(price_plan.payload.get("priceTiers")) if price_plan is not None else []
        price = tier_price(tiers, quantity)
        discount = _decimal(line.get("discount"))
        total = total.plus(interval_value(quantity, price, discount, line.get("frequency"), months))
    return total


def planned_intervals(payload: Mapping[str, Any]) -> int:
    """How many price intervals a planned subscription has."""
    return len(_items(payload.get("priceInterval")))


def interval_value(
    quantity: Decimal | None,
    price: Decimal | None,
    discount: Decimal | None,
    frequency: object,
    months: Decimal | None,
) -> Valuation:
    """``quantity * price * (1 - discount/100) * periods`` (NetSuite's defaults: 1 and 0)."""
    units = Decimal(1) if quantity is None else quantity
    periods = billing_periods(str(frequency or ""), months)
    if price is None or periods is None:
        return Valuation(intervals=1, problem=f"no price or no term for a {frequency} interval")
    value = units * price * (1 - (discount or Decimal(0)) / 100) * periods
    return Valuation(value, 1, units * periods)


def tier_price(tiers: list[Mapping[str, Any]], quantity: Decimal | None) -> Decimal | None:
    """The value of the last tier whose ``fromVal`` the quantity passes (else the first)."""
    units = quantity if quantity is not None else Decimal(1)
    price = None
    ordered = sorted(tiers, key=lambda tier: _decimal(tier.get("fromVal")) or Decimal(0))
    for tier in ordered:
        if price is None or (_decimal(tier.get("fromVal")) or Decimal(0)) < units:
            price = _decimal(tier.get("value"))
    return price


def billing_periods(frequency: str, months: Decimal | None) -> Decimal | None:
    """How often an interval bills during the term; None when that cannot be known."""
    if frequency.upper() == ONE_TIME:
        return Decimal(1)
    per_period = FREQUENCY_MONTHS.get(frequency.upper())
    if per_period is None or months is None:
        return None
    return months / per_period


def term_months(start: object, end: object) -> Decimal | None:
    """Months from ``start`` to the day after ``end`` (whole when the days line up)."""
    first, last = suiteql_date(start), suiteql_date(end)
    if first is None or last is None:
        return None
    after = last + timedelta(days=1)
    whole = (after.year - first.year) * 12 + after.month - first.month
    if add_months(first, whole) > after:
        whole -= 1
    rest = (after - add_months(first, whole)).days
    return Decimal(whole) + (Decimal(rest) / _DAYS_PER_MONTH if rest else Decimal(0))


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, clamped to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def totals(deals: list[DealMoney]) -> dict[str, dict[str, Any]]:
    """Each figure summed per currency, with the difference and the flow's rounding."""
    sums: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, int] = {}
    for deal in deals:
        figures = sums.setdefault(deal.currency, {name: Decimal(0) for name in _FIGURES})
        figures["salesforce"] += deal.salesforce
        figures["planned"] += deal.planned.value
        figures["netsuite"] += deal.netsuite.value
        counts[deal.currency] = counts.get(deal.currency, 0) + 1
    return {
        currency: {
            **{name: _money(value) for name, value in figures.items()},
            "difference": _money(figures["netsuite"] - figures["salesforce"]),
            "rounding": _money(figures["planned"] - figures["salesforce"]),
            "deals": counts[currency],
        }
        for currency, figures in sorted(sums.items())
    }


def _items(sublist: Any) -> list[Mapping[str, Any]]:
    items = sublist.get("items") if isinstance(sublist, Mapping) else None
    return [line for line in items or () if isinstance(line, Mapping)]


def _decimal(value: Any) -> Decimal | None:
    try:
        return as_decimal(value)
    except UnexpectedResponseError:
        return None


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))
