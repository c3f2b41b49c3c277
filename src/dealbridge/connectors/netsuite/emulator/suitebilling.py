"""SuiteBilling behaviour: what NetSuite adds when a subscription or price book is written.

Contracts §3 (after Oracle's devo.build SuiteBilling use cases 1 and 2): a subscription is
created as a draft whose ``subscriptionLine`` sublist defaults from the plan's members and
whose ``priceInterval`` sublist defaults from the price book; request lines are then merged by
key like any keyed sublist, so a create can already include or re-price lines, and a later
PATCH by key changes them. A line number outside the plan is an add-on line and must bring its
``item`` and ``subscriptionLineType``; a price interval must name an existing line.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from dealbridge.connectors.netsuite.emulator.field_values import parse_date
from dealbridge.connectors.netsuite.emulator.record_errors import invalid_reference, user_error

# (record type, internal id) -> the stored document, or None if there is no such record
Fetch = Callable[[str, str], dict[str, Any] | None]
Doc = dict[str, Any]

DRAFT = "DRAFT"
NOT_INCLUDED = "NOT_INCLUDED"
_LINE_COPIED = (
    "item",
    "subscriptionLineType",
    "billingMode",
    "renewalOption",
    "prorateStartDate",
    "prorateEndDate",
)
_INTERVAL_COPIED = (
    "subscriptionPlanLineNumber",
    "pricePlan",
    "frequency",
    "repeatEvery",
    "startOffsetUnit",
    "startOffsetValue",
    "prorateBy",
)
_FIXED_AFTER_CREATE = ("subscriptionPlan", "priceBook")


def body_items(body: Mapping[str, Any], sublist: str) -> list[Any]:
    """The raw request lines of a sublist, whatever the casing of its name (§2.2)."""
    for name, value in body.items():
        if name.lower() == sublist.lower() and isinstance(value, dict):
            items = value.get("items")
            return items if isinstance(items, list) else []
    return []


def shift(start: date, unit: str, amount: int) -> date:
    """``start`` moved by ``amount`` days, weeks, months or years (month ends clamp)."""
    unit = unit.upper()
    if unit.startswith("DAY"):
        return start + timedelta(days=amount)
    if unit.startswith("WEEK"):
        return start + timedelta(weeks=amount)
    months = start.month - 1 + amount * (12 if unit.startswith("YEAR") else 1)
    year, month = start.year + months // 12, months % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class SuiteBillingRules:
    """Hooks the record service calls around a write of any record type.

    Args:
        fetch: Reads another stored record (plan, price book, billing account…).
    """

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch

    def defaults(self, record_type: str, doc: Doc, old: Doc | None) -> None:
        """Fill fields NetSuite derives before the mandatory-field check.

        Oracle's case-2 creates a subscription without ``startDate``; we take the billing
        account's start date then (UNCONFIRMED: NetSuite's own default is not documented).
        """
        if record_type != "subscription" or old is not None or doc.get("startDate"):
            return
        account = self._get("billingAccount", doc.get("billingAccount"))
        if account and account.get("startDate"):
            doc["startDate"] = account["startDate"]

    def before_sublists(
        self, record_type: str, doc: Doc, old: Doc | None, body: Mapping[str, Any]
    ) -> None:
        """Cross-record checks, and a new subscription's default lines."""
        if record_type == "subscription":
            self._check_subscription(doc, old)
            if old is None:
                self._draft(doc)
            lines = {line.get("lineNumber") for line in doc.get("subscriptionLine", [])}
            self._check_interval_lines(body, lines | _requested_line_numbers(body))
        elif record_type == "priceBook":
            plan = self._get("subscriptionPlan", doc.get("subscriptionPlan")) or {}
            self._check_interval_lines(body, {m.get("lineNumber") for m in plan.get("member", [])})

    def after_sublists(self, record_type: str, doc: Doc, body: Mapping[str, Any]) -> None:
        """Derived line fields: statuses, dates, item and price of each interval."""
        if record_type != "subscription":
            return
        for line in doc.get("subscriptionLine", []):
            self._settle_line(doc, line, body)
        statuses = {ln.get("lineNumber"): ln for ln in doc.get("subscriptionLine", [])}
        for interval in doc.get("priceInterval", []):
            self._settle_interval(
                doc, interval, statuses.get(interval.get("subscriptionPlanLineNumber"))
            )

    def _get(self, record_type: str, record_id: Any) -> Doc | None:
        return self._fetch(record_type, str(record_id)) if record_id else None

    def _check_subscription(self, doc: Doc, old: Doc | None) -> None:
        for name in _FIXED_AFTER_CREATE:
            if old is not None and doc.get(name) != old.get(name):
                raise user_error(
                    f"The {name} of an existing subscription cannot change; "
                    "use a subscription change order.",
                    name,
                )
        account = self._get("billingAccount", doc.get("billingAccount")) or {}
        if account.get("customer") != doc.get("customer"):
            raise user_error(
                "The billing account must belong to the subscription's customer.", "billingAccount"
            )
        book = self._get("priceBook", doc.get("priceBook")) or {}
        if book.get("subscriptionPlan") != doc.get("subscriptionPlan"):
            raise user_error(
                "The price book does not belong to the subscription plan.", "priceBook"
            )
        if book.get("currency") != account.get("currency"):
            raise user_error(
                "The price book currency must match the billing account currency.", "priceBook"
            )
        doc["currency"] = account.get("currency")
        customer = self._get("customer", doc.get("customer")) or {}
        if customer.get("subsidiary"):
            doc["subsidiary"] = customer["subsidiary"]

    def _draft(self, doc: Doc) -> None:
        """A new subscription: DRAFT, an end date from the term, lines from plan and book."""
        doc["status"] = DRAFT
        if not doc.get("endDate"):
            end = self._end_date(doc)
            if end is not None:
                doc["endDate"] = end.isoformat()
        plan = self._get("subscriptionPlan", doc.get("subscriptionPlan")) or {}
        doc["subscriptionLine"] = [_plan_line(m) for m in plan.get("member", [])]
        book = self._get("priceBook", doc.get("priceBook")) or {}
        doc["priceInterval"] = [_book_interval(i) for i in book.get("priceInterval", [])]

    def _end_date(self, doc: Doc) -> date | None:
        term = self._get("subscriptionTerm", doc.get("initialTerm")) or {}
        start = parse_date(str(doc.get("startDate", "")))
        duration = term.get("subscriptionTermDuration")
        if start is None or not duration or term.get("subscriptionTermType") == "EVERGREEN":
            return None
        unit = str(term.get("subscriptionTermUnit") or "MONTHS")
        return shift(start, unit, int(duration)) - timedelta(days=1)

    def _check_interval_lines(self, body: Mapping[str, Any], lines: set[Any]) -> None:
        for index, item in enumerate(body_items(body, "priceInterval")):
            number = item.get("subscriptionPlanLineNumber") if isinstance(item, dict) else None
            if isinstance(number, int) and not isinstance(number, bool) and number not in lines:
                path = f"priceInterval.items[{index}].subscriptionPlanLineNumber"
                raise invalid_reference(number, "subscriptionPlanLineNumber", path)

    def _settle_line(self, doc: Doc, line: Doc, body: Mapping[str, Any]) -> None:
        if line.get("isRequired") and line.get("isIncluded") is False:
            raise user_error(
                f"Line {line.get('lineNumber')} is required by the subscription plan and "
                "cannot be excluded.",
                _line_path(body, line.get("lineNumber")),
            )
        if line.get("isIncluded") is False:
            line["subscriptionLineStatus"] = NOT_INCLUDED
        elif line.get("subscriptionLineStatus") in (None, NOT_INCLUDED):
            line["subscriptionLineStatus"] = DRAFT
        for name in ("startDate", "endDate"):
            if not line.get(name) and doc.get(name):
                line[name] = doc[name]

    def _settle_interval(self, doc: Doc, interval: Doc, line: Doc | None) -> None:
        if line is not None:
            interval["item"] = line.get("item")
            interval["status"] = line.get("subscriptionLineStatus")
        start = parse_date(str(doc.get("startDate", "")))
        if not interval.get("startDate") and start is not None:
            offset = int(interval.get("startOffsetValue") or 1) - 1
            unit = str(interval.get("startOffsetUnit") or "MONTH")
            interval["startDate"] = shift(start, unit, offset).isoformat()
        price = self._price(interval)
        if price is None:
            interval.pop("price", None)
        else:
            interval["price"] = price

    def _price(self, interval: Doc) -> float | None:
        """The value of the last tier whose ``fromVal`` the quantity passes (else the first).

        Oracle's case-1 reads tiers 0 / 20 / 50 as 0-20, 21-50 and 51+ seats.
        """
        plan = self._get("pricePlan", interval.get("pricePlan")) or {}
        quantity = float(interval.get("quantity") or 0)
        tiers = sorted(plan.get("priceTiers", []), key=lambda t: float(t.get("fromVal") or 0))
        price = None
        for tier in tiers:
            if float(tier.get("fromVal") or 0) < quantity or price is None:
                price = tier.get("value")
        return None if price is None else float(price)


def _plan_line(member: Doc) -> Doc:
    """A subscription line defaulted from a plan member: optional members start excluded."""
    required = bool(member.get("isRequired"))
    line: Doc = {"lineNumber": member.get("lineNumber")}
    line.update({k: member[k] for k in _LINE_COPIED if member.get(k) is not None})
    line.update(
        isIncluded=required,
        isRequired=required,
        includeInRenewal=True,
        subscriptionLineStatus=DRAFT if required else NOT_INCLUDED,
    )
    return line


def _book_interval(book_line: Doc) -> Doc:
    """A subscription price interval defaulted from a price-book interval."""
    interval: Doc = {k: book_line[k] for k in _INTERVAL_COPIED if book_line.get(k) is not None}
    interval.update(quantity=1.0, discount=0.0)
    return interval


def _requested_line_numbers(body: Mapping[str, Any]) -> set[Any]:
    return {
        item.get("lineNumber")
        for item in body_items(body, "subscriptionLine")
        if isinstance(item, dict)
    }


def _line_path(body: Mapping[str, Any], number: Any) -> str:
    for index, item in enumerate(body_items(body, "subscriptionLine")):
        if isinstance(item, dict) and item.get("lineNumber") == number:
            return f"subscriptionLine.items[{index}].isIncluded"
    return "subscriptionLine"
