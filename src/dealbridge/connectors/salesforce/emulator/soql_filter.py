"""Turning a bound WHERE into a row predicate, once per run (date literals need ``now``).

SOQL's null rules are not SQL's: ``field != 'x'`` and ``NOT IN`` keep rows whose field is null,
``= null`` / ``!= null`` test emptiness, and ordering comparisons and LIKE never match a null.
A date literal stands for a range of days: ``= TODAY`` is inside it, ``< TODAY`` before its
start, ``> TODAY`` after its end (Salesforce "Date Formats and Date Literals", §1.4).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dealbridge.connectors.salesforce.emulator import soql_plan as plan
from dealbridge.connectors.salesforce.emulator.schema_types import FieldType
from dealbridge.connectors.salesforce.emulator.soql_literals import day_range

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]
# Reads a path's comparable value (see soql_values.comparable) from a root row.
Reader = Callable[[plan.BoundPath], Callable[[Row], Any]]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_condition(cond: plan.BoundCondition, reader: Reader, now: datetime) -> Predicate:
    """A predicate over root rows equivalent to ``cond`` at the instant ``now``."""
    if isinstance(cond, plan.BAnd):
        parts = [compile_condition(part, reader, now) for part in cond.parts]
        return lambda row: all(part(row) for part in parts)
    if isinstance(cond, plan.BOr):
        parts = [compile_condition(part, reader, now) for part in cond.parts]
        return lambda row: any(part(row) for part in parts)
    if isinstance(cond, plan.BNot):
        inner = compile_condition(cond.part, reader, now)
        return lambda row: not inner(row)
    read = reader(cond.path)
    if isinstance(cond, plan.BCompare):
        test = _comparison(cond, now)
    elif isinstance(cond, plan.BIn):
        test = _membership(cond, now)
    else:
        test = _like(cond)
    return lambda row: test(read(row))


def _comparison(cond: plan.BCompare, now: datetime) -> Callable[[Any], bool]:
    value, op = cond.value, cond.op
    if value is None:
        if op in ("=", "!="):
            wanted = op == "="
            return lambda v: (v is None) is wanted
        return lambda v: False
    if isinstance(value, plan.RelativeDate):
        return _range_comparison(op, _bounds(cond.path, value, now))
    compare = _OPERATORS[op]
    if op == "!=":
        return lambda v: v is None or bool(compare(v, value))
    return lambda v: v is not None and bool(compare(v, value))


def _bounds(path: plan.BoundPath, value: plan.RelativeDate, now: datetime) -> tuple[Any, Any]:
    days = day_range(value.name, value.n, now)
    if path.field.type is FieldType.DATETIME:
        return days.datetimes()
    return days.start, days.end


def _range_comparison(op: str, bounds: tuple[Any, Any]) -> Callable[[Any], bool]:
    start, end = bounds
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: start <= v < end,
        "!=": lambda v: not start <= v < end,
        "<": lambda v: v < start,
        "<=": lambda v: v < end,
        ">": lambda v: v >= end,
        ">=": lambda v: v >= start,
    }
    test = tests[op]
    if op == "!=":
        return lambda v: v is None or test(v)
    return lambda v: v is not None and test(v)


def _membership(cond: plan.BIn, now: datetime) -> Callable[[Any], bool]:
    plain = frozenset(
        v for v in cond.values if v is not None and not isinstance(v, plan.RelativeDate)
    )
    ranges = [_bounds(cond.path, v, now) for v in cond.values if isinstance(v, plan.RelativeDate)]
    has_null = any(v is None for v in cond.values)

    def member(v: Any) -> bool:
        if v is None:
            return has_null
        return v in plain or any(start <= v < end for start, end in ranges)

    if cond.negated:
        return lambda v: not member(v)
    return member


def _like(cond: plan.BLike) -> Callable[[Any], bool]:
    pattern = cond.pattern
    if pattern is None:
        return lambda v: False
    return lambda v: v is not None and pattern.fullmatch(v) is not None
