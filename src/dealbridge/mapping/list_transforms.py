"""List transforms: join, pluck, sum, min, max, unique, first, last and count.

They work on lists such as the quote's lines: ``lines | pluck('SBQQ__NetTotal__c') | sum``.
Nulls inside a list are skipped by ``join``, ``sum``, ``min`` and ``max`` (an empty Salesforce
field is not a zero), and a null list stays null, except for ``count``, which gives 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from dealbridge.mapping.expression_errors import TransformError
from dealbridge.mapping.transform_args import is_number, list_arg, text_arg
from dealbridge.mapping.value_text import display


def join(value: Any, separator: Any = ", ") -> Any:
    """The items as text, joined by the separator; nulls are skipped.

    ``['A', null, 'B'] | join(' / ')`` → ``'A / B'``.
    """
    sep = text_arg("join", separator)
    if value is None:
        return None
    return sep.join(display(item) for item in list_arg("join", value) if item is not None)


def pluck(value: Any, key: Any) -> Any:
    """The ``key`` of each item, null for items that are not mappings.

    ``lines | pluck('ProductCode')`` → ``['P-1', 'P-2']``.
    """
    name = text_arg("pluck", key)
    if value is None:
        return None
    return [
        item.get(name) if isinstance(item, Mapping) else None for item in list_arg("pluck", value)
    ]


def _numbers(name: str, value: Any) -> list[Any]:
    items = [item for item in list_arg(name, value) if item is not None]
    for item in items:
        if not is_number(item):
            raise TransformError(name, "expects a list of numbers", item)
    return items


def total(value: Any) -> Any:
    """The sum of the numbers (nulls skipped; an empty list gives 0).

    Added as written in decimal, so ``[0.1, 0.2] | sum`` is ``0.3``, not ``0.30000000000000004``.
    """
    if value is None:
        return None
    items = _numbers("sum", value)
    if all(isinstance(item, int) for item in items):
        return sum(items)
    exact = sum(Decimal(repr(item)) if isinstance(item, float) else Decimal(item) for item in items)
    return float(exact)


def _extreme(name: str, value: Any, pick: Callable[..., Any]) -> Any:
    if value is None:
        return None
    items = [item for item in list_arg(name, value) if item is not None]
    if not items:
        return None
    try:
        return pick(items)
    except TypeError:
        raise TransformError(name, "expects items of one comparable kind", value) from None


def minimum(value: Any) -> Any:
    """The smallest item (numbers, text or ISO dates; nulls skipped; empty gives null)."""
    return _extreme("min", value, min)


def maximum(value: Any) -> Any:
    """The largest item (numbers, text or ISO dates; nulls skipped; empty gives null)."""
    return _extreme("max", value, max)


def unique(value: Any) -> Any:
    """The items without repeats, first occurrence kept: ``['A', 'B', 'A']`` → ``['A', 'B']``."""
    if value is None:
        return None
    kept: list[Any] = []
    seen: set[Any] = set()
    for item in list_arg("unique", value):
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:  # unhashable (a mapping or a list): compare by equality
            if item in kept:
                continue
        kept.append(item)
    return kept


def first(value: Any) -> Any:
    """The first item, or null for an empty list."""
    if value is None:
        return None
    items = list_arg("first", value)
    return items[0] if items else None


def last(value: Any) -> Any:
    """The last item, or null for an empty list."""
    if value is None:
        return None
    items = list_arg("last", value)
    return items[-1] if items else None


def count(value: Any) -> Any:
    """The number of items; null counts as an empty list (0)."""
    return 0 if value is None else len(list_arg("count", value))


LIST_TRANSFORMS: dict[str, Callable[..., Any]] = {
    "join": join,
    "pluck": pluck,
    "sum": total,
    "min": minimum,
    "max": maximum,
    "unique": unique,
    "first": first,
    "last": last,
    "count": count,
}
