"""The CPQ side of the seeded org: Product2 and option records, quotes and their priced lines.

Pricing arithmetic (contracts §4; kept simple and exact so tests and mapping can recompute it):

- ``SBQQ__ListPrice__c`` = catalogue USD price * the currency's list-price factor, per unit for the
  product's 12-month subscription term (one-time products: per unit); bundled components
  (``SBQQ__Bundled__c``) are included at list price 0.
- ``SBQQ__NetPrice__c`` = list * (1 - ``SBQQ__Discount__c`` / 100), the discount being a percent.
- ``SBQQ__ProrateMultiplier__c`` = quote term / 12 for recurring lines (the price is annual),
  1 for one-time lines.
- ``SBQQ__NetTotal__c`` = net price * quantity * prorate multiplier.
- Quote ``SBQQ__NetAmount__c`` = Σ line net totals (the opportunity's ``Amount`` too);
  ``SBQQ__ListAmount__c`` = Σ list * quantity * multiplier.

Every money value is rounded half-up to cents at each step (``Decimal``), then stored as a float
as the REST API returns it.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from dealbridge.connectors.salesforce.emulator import seed_catalogue as cat
from dealbridge.connectors.salesforce.emulator.seed_ids import SeedIds

Row = dict[str, Any]
_T = TypeVar("_T")
_CENT = Decimal("0.01")
_STANDALONE_SEATS = 0.7  # share of Standard-edition quotes that add standalone seats
_OPTIONAL_PICK = 0.5  # chance that a non-required bundle option is on the quote


def money(value: Decimal) -> Decimal:
    """``value`` rounded half-up to cents, the precision of every CPQ currency field here."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, clamping to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def quote_end(start: date, term: int) -> date:
    """CPQ's end date: start + term months - 1 day (a 12-month quote from Jan 1 ends Dec 31)."""
    return add_months(start, term) - timedelta(days=1)


@dataclass(frozen=True)
class Catalogue:
    """The Product2 and SBQQ__ProductOption__c records, indexed for quote building."""

    products: list[Row]
    options: list[Row]
    by_code: dict[str, Row]
    specs: dict[str, cat.Product]
    options_of: dict[str, list[tuple[cat.Option, str]]]


def build_catalogue(ids: SeedIds) -> Catalogue:
    """Every catalogue product and bundle option as records with preassigned ids."""
    products = [_product_row(ids.next("Product2"), spec) for spec in cat.PRODUCTS]
    by_code = {row["ProductCode"]: row for row in products}
    options: list[Row] = []
    options_of: dict[str, list[tuple[cat.Option, str]]] = {}
    for option in cat.OPTIONS:
        row = _option_row(ids.next("SBQQ__ProductOption__c"), option, by_code)
        options.append(row)
        options_of.setdefault(option.bundle, []).append((option, row["Id"]))
    specs = {spec.code: spec for spec in cat.PRODUCTS}
    return Catalogue(products, options, by_code, specs, options_of)


def _product_row(record_id: str, spec: cat.Product) -> Row:
    recurring = spec.charge == cat.RECURRING
    return {
        "Id": record_id,
        "Name": spec.name,
        "ProductCode": spec.code,
        "Family": spec.family,
        "IsActive": True,
        "SBQQ__ChargeType__c": spec.charge,
        "SBQQ__BillingType__c": "Advance",
        "SBQQ__BillingFrequency__c": spec.frequency,
        "SBQQ__SubscriptionType__c": "Renewable" if recurring else "One-time",
        "SBQQ__SubscriptionPricing__c": "Fixed Price" if recurring else None,
        "SBQQ__SubscriptionTerm__c": 12 if recurring else None,
        "SBQQ__ConfigurationType__c": "Allowed" if spec.bundle else None,
    }


def _option_row(record_id: str, option: cat.Option, by_code: Mapping[str, Row]) -> Row:
    return {
        "Id": record_id,
        "SBQQ__ConfiguredSKU__c": by_code[option.bundle]["Id"],
        "SBQQ__OptionalSKU__c": by_code[option.option]["Id"],
        "SBQQ__Number__c": option.number,
        "SBQQ__Quantity__c": float(option.quantity),
        "SBQQ__Bundled__c": option.bundled,
        "SBQQ__Required__c": option.required,
        "SBQQ__Selected__c": option.required,
        "SBQQ__Type__c": "Component",
    }


@dataclass(frozen=True)
class QuoteSpec:
    """What the opportunity decides about one of its quotes."""

    opportunity_id: str
    account_id: str
    contact_id: str | None
    currency: str
    fx: float
    start: date
    term: int
    primary: bool
    status: str
    unknown_product: bool = False
    end_before_start: bool = False


@dataclass
class _Draft:
    """A quote being filled with lines, numbered in the order they are added."""

    quote_id: str
    spec: QuoteSpec
    lines: list[Row] = field(default_factory=list)


class QuoteFactory:
    """Builds quotes with realistic packages: a platform edition, add-ons and one-time services."""

    def __init__(self, rng: random.Random, ids: SeedIds, catalogue: Catalogue) -> None:
        self._rng = rng
        self._ids = ids
        self._catalogue = catalogue
        self._count = 0
        self._prices: dict[tuple[str, float], Decimal] = {}

    def build(self, spec: QuoteSpec) -> tuple[Row, list[Row]]:
        """One quote and its lines; the quote's totals are the sums of the lines."""
        draft = _Draft(self._ids.next("SBQQ__Quote__c"), spec)
        package = self._pick_weighted(cat.PACKAGES)
        self._add(draft, package, 1.0)
        if package == "PLAT-STD" and self._rng.random() < _STANDALONE_SEATS:
            self._add(draft, "SEAT-STD", self._draw_quantity("SEAT-STD"))
        for code in self._rng.sample(cat.RECURRING_ADD_ONS, self._rng.randint(0, 3)):
            self._add(draft, code, self._draw_quantity(code))
        for code in self._rng.sample(cat.ONE_TIME_ADD_ONS, self._rng.choice((0, 0, 1, 1, 2))):
            self._add(draft, code, self._draw_quantity(code))
        if spec.unknown_product:
            self._add(draft, cat.UNKNOWN_PRODUCT_CODE, 1.0)
        return self._quote_row(draft), draft.lines

    def _add(
        self,
        draft: _Draft,
        code: str,
        quantity: float,
        parent: Row | None = None,
        option: tuple[cat.Option, str] | None = None,
    ) -> None:
        """Add a line for ``code``; a bundle brings its options along, recursively."""
        bundled = option is not None and option[0].bundled
        discount = 0.0 if bundled else self._pick_weighted(cat.DISCOUNTS)
        line = self._line(draft, code, quantity, discount, bundled=bundled)
        line["SBQQ__RequiredBy__c"] = parent["Id"] if parent else None
        line["SBQQ__ProductOption__c"] = option[1] if option else None
        draft.lines.append(line)
        for child in self._catalogue.options_of.get(code, []):
            if child[0].required or self._rng.random() < _OPTIONAL_PICK:
                self._add(draft, child[0].option, self._option_quantity(child[0]), line, child)

    def _line(
        self, draft: _Draft, code: str, quantity: float, discount: float, *, bundled: bool
    ) -> Row:
        spec, product = self._catalogue.specs[code], self._catalogue.by_code[code]
        recurring = spec.charge == cat.RECURRING
        multiplier = Decimal(draft.spec.term) / 12 if recurring else Decimal(1)
        list_price = Decimal(0) if bundled else self._list_price(spec, draft.spec.fx)
        net_price = money(list_price * (100 - Decimal(str(discount))) / 100)
        return {
            "Id": self._ids.next("SBQQ__QuoteLine__c"),
            "SBQQ__Quote__c": draft.quote_id,
            "SBQQ__Number__c": len(draft.lines) + 1,
            "SBQQ__Product__c": product["Id"],
            "SBQQ__ProductCode__c": code,
            "SBQQ__ProductName__c": spec.name,
            "SBQQ__Quantity__c": quantity,
            "SBQQ__ListPrice__c": float(list_price),
            "SBQQ__Discount__c": discount,
            "SBQQ__CustomerPrice__c": float(net_price),
            "SBQQ__NetPrice__c": float(net_price),
            "SBQQ__ProrateMultiplier__c": float(multiplier),
            "SBQQ__NetTotal__c": float(money(net_price * Decimal(str(quantity)) * multiplier)),
            "SBQQ__Bundle__c": spec.bundle,
            "SBQQ__Bundled__c": bundled,
            "SBQQ__ChargeType__c": spec.charge,
            "SBQQ__BillingType__c": "Advance",
            "SBQQ__BillingFrequency__c": spec.frequency,
            "SBQQ__SubscriptionType__c": product["SBQQ__SubscriptionType__c"],
            "SBQQ__SubscriptionPricing__c": product["SBQQ__SubscriptionPricing__c"],
            "SBQQ__SubscriptionTerm__c": draft.spec.term if recurring else None,
            "SBQQ__StartDate__c": None,  # line overrides stay empty: the quote's dates apply
            "SBQQ__EndDate__c": None,
            "CurrencyIsoCode": draft.spec.currency,
        }

    def _quote_row(self, draft: _Draft) -> Row:
        self._count += 1
        spec = draft.spec
        end = quote_end(spec.start, spec.term)
        if spec.end_before_start:
            end = spec.start - timedelta(days=self._rng.randint(1, 60))
        net = sum((Decimal(str(line["SBQQ__NetTotal__c"])) for line in draft.lines), Decimal(0))
        return {
            "Id": draft.quote_id,
            "Name": f"Q-{self._count:05d}",
            "SBQQ__Primary__c": spec.primary,
            "SBQQ__Opportunity2__c": spec.opportunity_id,
            "SBQQ__Account__c": spec.account_id,
            "SBQQ__PrimaryContact__c": spec.contact_id,
            "SBQQ__Status__c": spec.status,
            "SBQQ__Type__c": "Quote",
            "SBQQ__StartDate__c": spec.start.isoformat(),
            "SBQQ__EndDate__c": end.isoformat(),
            "SBQQ__SubscriptionTerm__c": spec.term,
            "SBQQ__BillingFrequency__c": _first_frequency(draft.lines),
            "SBQQ__ListAmount__c": float(_list_amount(draft.lines)),
            "SBQQ__NetAmount__c": float(net),
            "SBQQ__LineItemCount__c": len(draft.lines),
            "CurrencyIsoCode": spec.currency,
        }

    def _list_price(self, spec: cat.Product, fx: float) -> Decimal:
        """The catalogue price in the quote's currency, memoised: it is asked for every line."""
        key = (spec.code, fx)
        if key not in self._prices:
            self._prices[key] = money(Decimal(str(spec.price)) * Decimal(str(fx)))
        return self._prices[key]

    def _option_quantity(self, option: cat.Option) -> float:
        low, high = self._catalogue.specs[option.option].quantity
        return float(option.quantity if low == high else self._rng.randint(low, high))

    def _draw_quantity(self, code: str) -> float:
        low, high = self._catalogue.specs[code].quantity
        return float(self._rng.randint(low, high))

    def _pick_weighted(self, choices: tuple[tuple[_T, int], ...]) -> _T:
        values = [value for value, _ in choices]
        return self._rng.choices(values, [weight for _, weight in choices])[0]


def _first_frequency(lines: list[Row]) -> str | None:
    """The quote-level billing frequency, informational only (contracts §4: lines rule)."""
    return next((ln["SBQQ__BillingFrequency__c"] for ln in lines
                 if ln["SBQQ__BillingFrequency__c"]), None)  # fmt: skip


def _list_amount(lines: list[Row]) -> Decimal:
    total = Decimal(0)
    for line in lines:
        gross = Decimal(str(line["SBQQ__ListPrice__c"])) * Decimal(str(line["SBQQ__Quantity__c"]))
        total += money(gross * Decimal(str(line["SBQQ__ProrateMultiplier__c"])))
    return total
