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
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

from dealbridge.mapping.deal_values import (
    FREQUENCY_MONTHS,
    billing_mode,
    charge_kind,
    first_text,
    iso_date,
    normalise_frequency,
    number,
    record,
    text,
    whole,
)

Row = Mapping[str, Any]
View = dict[str, Any]

LINE_TYPES = {"recurring": "2", "one_time": "1", "usage": "3"}  # contracts §2.1
ONE_TIME_FREQUENCY = "ONETIME"
_VARIANT_CHARS = 8


class LineFacts:
    """What the views need of one quote line, read once: the graph is walked several times.

    ``base`` holds the fields every entry of this line shares (see ``PackageBuilder.entry``);
    ``order`` is the line's place on the quote: ``SBQQ__Number__c`` (blanks last), ties settled
    by Id, so output is stable.
    """

    __slots__ = ("base", "id", "kind", "order", "parent", "row")

    def __init__(self, row: Row) -> None:
        get = row.get
        product = get("SBQQ__Product__r")
        if type(product) is not dict:
            product = record(product)
        position = number(get("SBQQ__Number__c"))
        parent = get("SBQQ__RequiredBy__c")
        self.row = row
        self.id = first_text(get("Id"), None)
        self.order = (position is None, position or 0.0, self.id or "")
        self.parent = None if parent is None else text(parent)
        self.kind = charge_kind(row, product)
        self.base: View = {
            "line": row,
            "product": product,
            "product_id": first_text(get("SBQQ__Product__c"), product.get("Id")),
            "code": first_text(product.get("ProductCode"), get("SBQQ__ProductCode__c")),
            "name": first_text(product.get("Name"), get("SBQQ__ProductName__c")),
            "line_id": self.id,
            "line_number": whole(position),
            "kind": self.kind,
            "line_type": LINE_TYPES[self.kind],
            "billing_mode": billing_mode(row, product),
            "quantity": number(get("SBQQ__Quantity__c")),
            "list_price": number(get("SBQQ__ListPrice__c")),
            "discount": number(get("SBQQ__Discount__c")) or 0.0,
            "net_total": number(get("SBQQ__NetTotal__c")),
        }


def quote_order(rows: Iterable[Row]) -> list[LineFacts]:
    """The facts of every line, in quote order (``LineFacts.order``)."""
    return sorted([LineFacts(row) for row in rows], key=_ORDER)


Walk = list[tuple[LineFacts, int]]
_LINE = itemgetter(0)
_ORDER = attrgetter("order")


class LineTree:
    """The quote lines indexed by parent, with the lines no top-level line reaches.

    Args:
        lines: The quote's lines, already in quote order (``quote_order``).
    """

    def __init__(self, lines: Sequence[LineFacts]) -> None:
        self.lines = lines
        self.top: list[LineFacts] = []
        self._children: dict[str | None, list[LineFacts]] = {}
        self._below: dict[LineFacts, Walk] = {}
        for line in self.lines:
            if line.parent is None:
                self.top.append(line)
            else:
                self._children.setdefault(line.parent, []).append(line)
        reached: set[int] = set()
        for line in self.top:
            reached.add(id(line))
            reached.update(map(id, map(_LINE, self.descendants(line))))
        self.orphans = [line for line in self.lines if id(line) not in reached]

    def descendants(self, top: LineFacts) -> Walk:
        """Every line under ``top`` with its depth (1 = child), depth-first in quote order.

        Walked once per top line (the views ask several times); the list is shared: read only.
        """
        found = self._below.get(top)
        if found is not None:
            return found
        found = self._below[top] = []
        children = self._children  # parents are never None: a line without one is a top line
        seen = {top.id}
        stack = list(zip(reversed(children.get(top.id, ())), repeat(1)))
        while stack:
            line, depth = stack.pop()
            if line.id in seen:  # a duplicate Id or a loop: never walk a line twice
                continue
            seen.add(line.id)
            found.append((line, depth))
            below = children.get(line.id)
            if below:
                stack.extend(zip(reversed(below), repeat(depth + 1)))
        return found

    def children(self, line: LineFacts) -> list[LineFacts]:
        """The lines whose ``SBQQ__RequiredBy__c`` is this line."""
        return self._children.get(line.id, []) if line.id is not None else []


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

    def entry(self, line: LineFacts, position: int, depth: int, frequency: str | None) -> View:
        """One billed line: a plan member (recurring) or a one-time add-on line."""
        recurring = line.kind == "recurring"
        months = FREQUENCY_MONTHS.get(frequency or "") if recurring else None
        unit_price = _unit_price(line.base["list_price"], months, self.price_term_months)
        return {
            **line.base,
            "number": position,
            "depth": depth,
            "frequency": frequency if recurring else ONE_TIME_FREQUENCY,
            "unit_price": unit_price,
            "price_plan_key": _price_plan_key(line.base["product_id"], self.currency, unit_price),
        }

    def package(self, top: LineFacts, tree: LineTree, position: int) -> View | None:
        """The package of a top-level line, or None when it has no recurring line at all."""
        walk = [(top, 0), *tree.descendants(top)]
        recurring = [(line, depth) for line, depth in walk if line.kind == "recurring"]
        if not recurring:
            return None
        frequency_raw = _frequency_raw(recurring[0][0], self.quote)
        frequency = normalise_frequency(frequency_raw)
        members = [
            self.entry(line, n, depth, frequency)
            for n, (line, depth) in enumerate(recurring, start=1)
        ]
        view = self._package_view(top, members, frequency, frequency_raw, position)
        view["one_time"] = self.add_ons(view, [(ln, d) for ln, d in walk if ln.kind == "one_time"])
        view["net_total"] = _money_sum(line.base["net_total"] for line, _ in walk)
        return view

    def add_ons(self, package: View, lines: Walk) -> list[View]:
        """One-time lines on a package's subscription, numbered after its current lines."""
        first = len(package["members"]) + len(package.get("one_time", [])) + 1
        return [
            self.entry(line, n, depth, None) for n, (line, depth) in enumerate(lines, start=first)
        ]

    def _package_view(
        self,
        top: LineFacts,
        members: list[View],
        frequency: str | None,
        frequency_raw: str | None,
        position: int,
    ) -> View:
        base = top.base
        product_id = base["product_id"]
        variant = _digest(
            f"{m['product_id']}:{m['line_type']}:{m['billing_mode']}" for m in members
        )
        prices = _price_variant(frequency, members)
        start, end = _dates(top.row, self.quote)
        return {
            "line": top.row,
            "product": base["product"],
            "product_id": product_id,
            "code": base["code"],
            "name": base["name"],
            "line_id": top.id,
            "number": position,
            "members": members,
            "frequency": frequency,
            "frequency_raw": frequency_raw,
            "currency": self.currency,
            "quantity": base["quantity"],
            "start_date": start,
            "end_date": end,
            "term_months": _term_months(top.row, self.quote),
            "variant": variant,
            "plan_key": f"{product_id}-{variant}",
            "price_variant": prices,
            "book_key": f"{product_id}-{variant}-{self.currency}-{prices}",
        }


def finish_package(package: View) -> None:
    """Derived fields that need the package's final one-time lines: the subscription intervals."""
    package["intervals"] = [*package["members"], *package["one_time"]]


def _frequency_raw(line: LineFacts, quote: Row) -> str | None:
    """The billing frequency as CPQ spells it: the line's, its product's, else the quote's."""
    product = line.base["product"]
    for value in (
        line.row.get("SBQQ__BillingFrequency__c"),
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
        if value is None:  # the usual empty override, without a call
            continue
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
    return f"{product_id}-{currency}-{price_in_cents(price)}"


def price_in_cents(price: float | None) -> str:
    """The price in whole cents, as text for a key; never raises.

    A price so large that ``price * 100`` overflows a float (regression: a quote line near the
    float maximum crashed planning instead of reaching validation) is scaled exactly instead; a
    non-finite one is ``invalid`` (the flow's rules refuse such a line, naming it).
    """
    if price is None:
        return "none"
    scaled = price * 100
    if math.isfinite(scaled):
        return str(round(scaled))
    if math.isfinite(price):
        return str(round(Decimal(repr(price)) * 100))
    return "invalid"


def _price_variant(frequency: str | None, members: Sequence[View]) -> str:
    """A price book differs by billing frequency and by the price plan of each member."""
    return _digest([frequency or "", *(m["price_plan_key"] for m in members)])


def _digest(parts: Iterable[str]) -> str:
    """A short stable fingerprint (not a security measure)."""
    joined = "|".join(parts).encode()
    return hashlib.sha256(joined).hexdigest()[:_VARIANT_CHARS]


def _money_sum(values: Iterable[float | None]) -> float:
    return round(sum(value or 0.0 for value in values), 2)
