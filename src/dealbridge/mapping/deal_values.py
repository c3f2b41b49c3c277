"""Salesforce field values read leniently: numbers, texts, picklists as the views need them.

A deal graph may arrive as ``DealGraph`` (``Decimal`` numbers, ``date`` objects), as JSON
(floats, ISO strings) or hand-written (ints, numeric text), and any field may be null or, in a
damaged record, of an unexpected type. The views never fail on such a value: an unreadable
number is ``None`` and the flow's rules then report the gap in words a finance user reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

# CPQ billing frequencies (contracts/salesforce.md §4) → NetSuite interval frequencies (§3).
_FREQUENCIES = {
    "monthly": "MONTHLY",
    "month": "MONTHLY",
    "quarterly": "QUARTERLY",
    "quarter": "QUARTERLY",
    "semiannual": "SEMIANNUALLY",
    "semiannually": "SEMIANNUALLY",
    "semi-annual": "SEMIANNUALLY",
    "semi-annually": "SEMIANNUALLY",
    "annual": "ANNUALLY",
    "annually": "ANNUALLY",
    "yearly": "ANNUALLY",
}
FREQUENCY_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "SEMIANNUALLY": 6, "ANNUALLY": 12}
_ONE_TIME = frozenset({"one-time", "onetime", "one time", "one_time"})


_EMPTY: Mapping[str, Any] = {}


def record(value: Any) -> Mapping[str, Any]:
    """A related record, or an empty mapping when it is null (or, in damaged data, not one)."""
    if type(value) is dict:  # the common case, without the slower ABC check
        return value
    return value if isinstance(value, Mapping) else _EMPTY


def number(value: Any) -> float | None:
    """A finite float from a number or numeric text; anything else is None."""
    kind = type(value)
    if kind is float or kind is int:  # the common case first: JSON numbers
        result = float(value)
        return result if math.isfinite(result) else None
    if value is None or kind is bool:
        return None
    if isinstance(value, int | float | Decimal):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def text(value: Any) -> str | None:
    """A non-empty string, or None (Salesforce sends null for empty fields)."""
    if type(value) is str:
        return value if value and not value.isspace() else None
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value)


def first_text(first: Any, second: Any) -> str | None:
    """``text(first) or text(second)``: a field of the line, else of its product.

    The common cases — text or null — cost no further call: a deal asks this hundreds of times.
    """
    if type(first) is str and first and not first.isspace():
        return first
    if first is not None:
        found = text(first)
        if found is not None:
            return found
    if type(second) is str:
        return second if second and not second.isspace() else None
    return None if second is None else text(second)


def iso_date(value: Any) -> str | None:
    """A date as ``YYYY-MM-DD`` text; other text passes through for the date rule to judge."""
    if type(value) is str:  # JSON dates, the common case
        return value if value and not value.isspace() else None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return text(value)


def whole(value: float | None) -> int | float | None:
    """A number as people read it (``SBQQ__Number__c``): 3, not 3.0."""
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def normalise_frequency(value: str | None) -> str | None:
    """``Monthly`` → ``MONTHLY``, ``Annual`` → ``ANNUALLY``…; unknown ones (Invoice Plan) None."""
    if value is None:
        return None
    return _FREQUENCIES.get(value.strip().lower())


def charge_kind(line: Mapping[str, Any], product: Mapping[str, Any]) -> str:
    """``recurring``, ``one_time`` or ``usage``, from the line's charge type, else the product's.

    A line without any charge type is recurring unless its subscription type says one-time:
    Salesforce Billing leaves the frequency of one-time products blank, never their type.
    """
    charge = first_text(line.get("SBQQ__ChargeType__c"), product.get("SBQQ__ChargeType__c"))
    if charge is not None:
        lowered = charge.strip().lower()
        if lowered in _ONE_TIME:
            return "one_time"
        if lowered == "usage":
            return "usage"
        return "recurring"
    subscription = first_text(
        line.get("SBQQ__SubscriptionType__c"), product.get("SBQQ__SubscriptionType__c")
    )
    if subscription is not None and subscription.strip().lower() in _ONE_TIME:
        return "one_time"
    return "recurring"


def billing_mode(line: Mapping[str, Any], product: Mapping[str, Any]) -> str:
    """``IN_ARREARS`` when CPQ bills the line in arrears, else ``IN_ADVANCE`` (its default)."""
    kind = first_text(line.get("SBQQ__BillingType__c"), product.get("SBQQ__BillingType__c"))
    return "IN_ARREARS" if kind is not None and kind.strip().lower() == "arrears" else "IN_ADVANCE"


def model_data(model: BaseModel) -> dict[str, Any]:
    """A ``DealGraph`` (or any of its records) as JSON-like data with API field names.

    pydantic's JSON mode does the work in Rust — dates become ISO text, which every flow
    writes (contracts/netsuite.md §2) and compares as text — except that it writes ``Decimal``
    as text; those fields, found once per model class from its annotations, become numbers
    again (whole ones without a fraction in the text as ints). This is on the path of every
    deal, hence the care.
    """
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    _numbers_back(data, type(model))
    return data


def _numbers_back(data: dict[str, Any], model: type[BaseModel]) -> None:
    decimals, children = _shape(model)
    for alias in decimals:  # inline, not a function: a deal has hundreds of these
        text = data.get(alias)
        if type(text) is not str:
            continue
        try:
            number = float(text)
        except ValueError:
            continue
        if not math.isfinite(number):
            continue
        if number.is_integer() and "." not in text and "e" not in text.lower():
            data[alias] = int(number)
        else:
            data[alias] = number
    for alias, child in children:
        value = data.get(alias)
        if type(value) is dict:
            _numbers_back(value, child)
        elif type(value) is list:
            for item in value:
                if type(item) is dict:
                    _numbers_back(item, child)


@functools.cache
def _shape(
    model: type[BaseModel],
) -> tuple[tuple[str, ...], tuple[tuple[str, type[BaseModel]], ...]]:
    """The aliases of a model's ``Decimal`` fields, and of its nested models with their class."""
    decimals: list[str] = []
    children: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        kinds = _kinds(info.annotation)
        if Decimal in kinds:
            decimals.append(alias)
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                children.append((alias, kind))
    return tuple(decimals), tuple(children)


def _kinds(annotation: Any) -> set[Any]:
    """Every type inside an annotation: ``list[X] | None`` → {list, X, None}."""
    found = {annotation}
    for argument in typing.get_args(annotation):
        found |= _kinds(argument)
    return found
