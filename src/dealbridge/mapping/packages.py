"""CPQ bundles as SuiteBilling packages: the quote-line tree flattened into plan members.

A CPQ bundle is a tree of quote lines linked by ``SBQQ__RequiredBy__c`` (the parent *line*;
null = top level, contracts/salesforce.md §4). SuiteBilling has no trees: a subscription plan is
a flat, numbered list of members (contracts/netsuite.md §3). So each top-level line that carries
recurring charges becomes one *package*: the top line first, then every descendant depth-first in
``SBQQ__Number__c`` order (ties by Id), nested bundles flattened in place. The order depends only
on the data, so the same bundle always yields the same member numbers.

Lines are classified by charge: ``One-Time`` lines are billed once, on the subscription of their
package as add-on lines after the plan members; ``Usage`` lines are reported (the flow stops on
them: usage pricing is not supported yet); everything else is recurring. A line whose parent is
missing from the quote, or whose ``RequiredBy`` chain loops, is an *orphan*: it belongs to no
package and the flow stops on it rather than guess.

Pure functions over plain dicts (the ``to_json`` shape of the deal graph); fast, no copying.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dealbridge.mapping.deal_values import (
    FREQUENCY_MONTHS,
    billing_mode,
    charge_kind,
    iso_date,
    line_number,
    normalise_frequency,
    number,
    record,
    text,
)

Row = Mapping[str, Any]
View = dict[str, Any]

LINE_TYPES = {"recurring": "2", "one_time": "1", "usage": "3"}  # contracts §2.1
ONE_TIME_FREQUENCY = "ONETIME"
_VARIANT_CHARS = 8


def line_order(line: Row) -> tuple[bool, float, str]:
    """Quote order: ``SBQQ__Number__c`` (blanks last), ties settled by Id, so output is stable."""
    value = number(line.get("SBQQ__Number__c"))
    return (value is None, value or 0.0, text(line.get("Id")) or "")


class LineTree:
    """The quote lines indexed by parent, with the lines no top-level line reaches.

    Args:
        lines: The quote's lines, already in quote order.
    """

    def __init__(self, lines: Sequence[Row]) -> None:
        self.top: list[Row] = []
        self._children: dict[str, list[Row]] = {}
        for line in lines:
            parent = text(line.get("SBQQ__RequiredBy__c"))
            if parent is None:
                self.top.append(line)
            else:
                self._children.setdefault(parent, []).append(line)
        reached: set[int] = set()
        for line in self.top:
            reached.add(id(line))
            reached.update(id(d) for d, _ in self.descendants(line))
        self.orphans = [line for line in lines if id(line) not in reached]

    def descendants(self, top: Row) -> list[tuple[Row, int]]:
        """Every line under ``top`` with its depth (1 = child), depth-first in quote order."""
        found: list[tuple[Row, int]] = []
        seen = {text(top.get("Id"))}
        stack = [(child, 1) for child in reversed(self.children(top))]
        while stack:
            line, depth = stack.pop()
            line_id = text(line.get("Id"))
            if line_id in seen:  # a duplicate Id or a loop: never walk a line twice
                continue
            seen.add(line_id)
            found.append((line, depth))
            stack.extend((child, depth + 1) for child in reversed(self.children(line)))
        return found

    def children(self, line: Row) -> list[Row]:
        """The lines whose ``SBQQ__RequiredBy__c`` is this line."""
        line_id = text(line.get("Id"))
        return self._children.get(line_id, []) if line_id is not None else []


class PackageBuilder:
    """Builds the package views of one deal.

    Args:
        currency: The deal currency (ISO code) every price is in.
        quote: The primary quote (dates, term, frequency fallbacks), or an empty mapping.
        price_term_months: How many months a CPQ list price covers (the product's term).
    """

    def __init__(self, currency: str, quote: Row, price_term_months: float) -> None:
        self.currency = currency
        self.quote = quote
        self.price_term_months = price_term_months or 12.0

    def entry(self, line: Row, position: int, depth: int, frequency: str | None) -> View:
        """One billed line: a plan member (recurring) or a one-time add-on line."""
        product = record(line.get("SBQQ__Product__r"))
        kind = charge_kind(line, product)
        list_price = number(line.get("SBQQ__ListPrice__c"))
        months = FREQUENCY_MONTHS.get(frequency or "") if kind == "recurring" else None
        unit_price = _unit_price(list_price, months, self.price_term_months)
        product_id = text(line.get("SBQQ__Product__c")) or text(product.get("Id"))
        return {
            "line": line,
            "product": product,
            "product_id": product_id,
            "code": text(product.get("ProductCode")) or text(line.get("SBQQ__ProductCode__c")),
            "name": text(product.get("Name")) or text(line.get("SBQQ__ProductName__c")),
            "line_id": text(line.get("Id")),
            "line_number": line_number(line.get("SBQQ__Number__c")),
            "number": position,
            "depth": depth,
            "kind": kind,
            "line_type": LINE_TYPES[kind],
            "billing_mode": billing_mode(line, product),
            "frequency": frequency if kind == "recurring" else ONE_TIME_FREQUENCY,
            "quantity": number(line.get("SBQQ__Quantity__c")),
            "list_price": list_price,
            "unit_price": unit_price,
            "discount": number(line.get("SBQQ__Discount__c")) or 0.0,
            "net_total": number(line.get("SBQQ__NetTotal__c")),
            "price_plan_key": _price_plan_key(product_id, self.currency, unit_price),
        }

    def package(self, top: Row, tree: LineTree, position: int) -> View | None:
        """The package of a top-level line, or None when it has no recurring line at all."""
        under = tree.descendants(top)
        recurring = [(ln, d) for ln, d in [(top, 0), *under] if _kind(ln) == "recurring"]
        if not recurring:
            return None
        frequency_raw = _frequency_raw(recurring[0][0], self.quote)
        frequency = normalise_frequency(frequency_raw)
        members = [
            self.entry(line, n, depth, frequency)
            for n, (line, depth) in enumerate(recurring, start=1)
        ]
        one_time = [(ln, d) for ln, d in [(top, 0), *under] if _kind(ln) == "one_time"]
        view = self._package_view(top, members, frequency, frequency_raw, position)
        view["one_time"] = self.add_ons(view, one_time)
        view["net_total"] = _money_sum(ln.get("SBQQ__NetTotal__c") for ln, _ in [(top, 0), *under])
        return view

    def add_ons(self, package: View, lines: Iterable[tuple[Row, int]]) -> list[View]:
        """One-time lines on a package's subscription, numbered after its current lines."""
        first = len(package["members"]) + len(package.get("one_time", [])) + 1
        return [
            self.entry(line, n, depth, None) for n, (line, depth) in enumerate(lines, start=first)
        ]

    def _package_view(
        self,
        top: Row,
        members: list[View],
        frequency: str | None,
        frequency_raw: str | None,
        position: int,
    ) -> View:
        product = record(top.get("SBQQ__Product__r"))
        product_id = text(top.get("SBQQ__Product__c")) or text(product.get("Id"))
        variant = _digest(
            f"{m['product_id']}:{m['line_type']}:{m['billing_mode']}" for m in members
        )
        prices = _price_variant(frequency, members)
        start, end = _dates(top, self.quote)
        return {
            "line": top,
            "product": product,
            "product_id": product_id,
            "code": text(product.get("ProductCode")) or text(top.get("SBQQ__ProductCode__c")),
            "name": text(product.get("Name")) or text(top.get("SBQQ__ProductName__c")),
            "line_id": text(top.get("Id")),
            "number": position,
            "members": members,
            "frequency": frequency,
            "frequency_raw": frequency_raw,
            "currency": self.currency,
            "quantity": number(top.get("SBQQ__Quantity__c")),
            "start_date": start,
            "end_date": end,
            "term_months": _term_months(top, self.quote),
            "variant": variant,
            "plan_key": f"{product_id}-{variant}",
            "price_variant": prices,
            "book_key": f"{product_id}-{variant}-{self.currency}-{prices}",
        }


def finish_package(package: View) -> None:
    """Derived fields that need the package's final one-time lines: the subscription intervals."""
    package["intervals"] = [*package["members"], *package["one_time"]]


def _kind(line: Row) -> str:
    return charge_kind(line, record(line.get("SBQQ__Product__r")))


def _frequency_raw(line: Row, quote: Row) -> str | None:
    """The billing frequency as CPQ spells it: the line's, its product's, else the quote's."""
    product = record(line.get("SBQQ__Product__r"))
    for value in (
        line.get("SBQQ__BillingFrequency__c"),
        product.get("SBQQ__BillingFrequency__c"),
        quote.get("SBQQ__BillingFrequency__c"),
    ):
        if text(value):
            return text(value)
    return None


def _dates(top: Row, quote: Row) -> tuple[str | None, str | None]:
    """Line dates win over the quote's (line overrides are often empty, contracts §4)."""
    start = _first_date(
        top.get("SBQQ__EffectiveStartDate__c"),
        top.get("SBQQ__StartDate__c"),
        quote.get("SBQQ__StartDate__c"),
    )
    end = _first_date(
        top.get("SBQQ__EffectiveEndDate__c"),
        top.get("SBQQ__EndDate__c"),
        quote.get("SBQQ__EndDate__c"),
    )
    return start, end


def _term_months(top: Row, quote: Row) -> int | float | None:
    for value in (top.get("SBQQ__SubscriptionTerm__c"), quote.get("SBQQ__SubscriptionTerm__c")):
        months = number(value)
        if months is not None:
            return int(months) if months.is_integer() else months
    return None


def _first_date(*values: Any) -> str | None:
    for value in values:
        found = iso_date(value)
        if found:
            return found
    return None


def _unit_price(list_price: float | None, months: int | None, term: float) -> float | None:
    """The price of one unit per billing period (one-time: per unit), rounded to cents.

    CPQ list prices cover the product's subscription term (``price_term_months``); a NetSuite
    price plan charges its value once per interval, so a monthly interval gets 1/12 of a
    12-month price.
    """
    if list_price is None:
        return None
    value = list_price if months is None else list_price * months / term
    return round(value, 2)


def _price_plan_key(product_id: str | None, currency: str, price: float | None) -> str:
    """Content-addressed: a price plan never changes, so two deals can never flip-flop it."""
    cents = "none" if price is None else str(round(price * 100))
    return f"{product_id}-{currency}-{cents}"


def _price_variant(frequency: str | None, members: Sequence[View]) -> str:
    """A price book differs by billing frequency and by the price plan of each member."""
    return _digest([frequency or "", *(m["price_plan_key"] for m in members)])


def _digest(parts: Iterable[str]) -> str:
    """A short stable fingerprint (not a security measure)."""
    joined = "|".join(parts).encode()
    return hashlib.sha256(joined).hexdigest()[:_VARIANT_CHARS]


def _money_sum(values: Iterable[Any]) -> float:
    return round(sum(number(value) or 0.0 for value in values), 2)
