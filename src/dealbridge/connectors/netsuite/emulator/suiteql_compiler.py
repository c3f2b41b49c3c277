"""Turns a parsed SuiteQL expression or condition into a Python closure, once per query.

Evaluating a closure per row is several times faster than walking the syntax tree per row, and
work that does not depend on the row (an IN list's lookup table, a LIKE regex, a TO_DATE of a
literal) is done here, once. Conditions follow SQL's three-valued logic: a predicate returns
True, False or None (unknown), and WHERE keeps only True.

The same condition compiler serves WHERE and JOIN ... ON (evaluated on a row) and HAVING
(evaluated on a group of rows): it only asks its ``ValueCompiler`` for the operands.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any, Protocol

from dealbridge.connectors.netsuite.emulator.suiteql_ast import (
    And,
    Between,
    Call,
    Column,
    Compare,
    Cond,
    Expr,
    InList,
    IsNull,
    Like,
    Literal,
    Not,
    Or,
)
from dealbridge.connectors.netsuite.emulator.suiteql_grammar import search_error
from dealbridge.connectors.netsuite.emulator.suiteql_scope import Scope, ValueFn
from dealbridge.connectors.netsuite.emulator.suiteql_values import (
    EqualityIndex,
    as_text,
    compare,
    equal,
    like_regex,
)

Predicate = Callable[[Any], bool | None]

AGGREGATES = frozenset({"count", "sum", "min", "max", "avg"})


def _to_date(text: Any, fmt: Any = None) -> str | None:
    """TO_DATE: rows keep dates as 'YYYY-MM-DD' strings, so a date literal becomes one too."""
    if text is None:
        return None
    pattern = "%Y-%m-%d" if fmt is None else str(fmt).upper()
    for oracle, python in (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d")):
        pattern = pattern.replace(oracle, python)
    try:
        return dt.datetime.strptime(str(text), pattern).date().isoformat()
    except ValueError:
        raise search_error(f"Invalid date '{text}' for format '{fmt}'.") from None


def _text_case(method: Callable[[str], str]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else method(as_text(value))


# name -> (min args, max args, implementation). BUILTIN.DF returns the display text of a
# reference in NetSuite; the emulator has no display names, so it returns the value itself.
_SCALARS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "upper": (1, 1, _text_case(str.upper)),
    "lower": (1, 1, _text_case(str.lower)),
    "nvl": (2, 2, lambda value, fallback: fallback if value is None else value),
    "coalesce": (1, 255, lambda *values: next((v for v in values if v is not None), None)),
    "builtin.df": (1, 1, lambda value: value),
    "to_date": (1, 2, _to_date),
}


def scalar_function(call: Call) -> Callable[..., Any]:
    """The implementation of a non-aggregate function, after checking its name and arity."""
    if call.name not in _SCALARS or call.star or call.distinct:
        raise search_error(f"Unknown or unsupported function '{call.name.upper()}'.")
    low, high, implementation = _SCALARS[call.name]
    if not low <= len(call.args) <= high:
        raise search_error(f"Wrong number of arguments to '{call.name.upper()}'.")
    return implementation


def constant(expr: Expr) -> tuple[bool, Any]:
    """``(True, value)`` when ``expr`` does not depend on the row, so it is computed once."""
    if isinstance(expr, Literal):
        return True, expr.value
    if isinstance(expr, Column) or expr.name in AGGREGATES:
        return False, None
    implementation = scalar_function(expr)
    folded = [constant(arg) for arg in expr.args]
    if all(is_constant for is_constant, _ in folded):
        return True, implementation(*(value for _, value in folded))
    return False, None


def has_aggregate(expr: Expr) -> bool:
    """Whether an aggregate appears anywhere in ``expr`` (which makes the query grouped)."""
    if not isinstance(expr, Call):
        return False
    return expr.name in AGGREGATES or any(has_aggregate(arg) for arg in expr.args)


class ValueCompiler(Protocol):
    """Compiles an operand for one evaluation mode (a row, or a group of rows)."""

    def value(self, expr: Expr) -> ValueFn:
        """A closure computing ``expr``."""
        ...


class RowCompiler:
    """Operands evaluated on one row: WHERE, JOIN ... ON, and SELECT without grouping."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def value(self, expr: Expr) -> ValueFn:
        """A closure computing ``expr`` from a row."""
        is_constant, fixed = constant(expr)
        if is_constant:
            return lambda _row: fixed
        if isinstance(expr, Column):
            return self.scope.accessor(expr)
        assert isinstance(expr, Call)  # noqa: S101 - a Literal is always constant
        if expr.name in AGGREGATES:
            raise search_error(f"Group function {expr.name.upper()} is not allowed here.")
        return call_closure(scalar_function(expr), [self.value(arg) for arg in expr.args])


def call_closure(implementation: Callable[..., Any], args: list[ValueFn]) -> ValueFn:
    """Apply a scalar function to operands computed from the same row or group."""
    return lambda row: implementation(*(arg(row) for arg in args))


def compile_condition(cond: Cond, values: ValueCompiler) -> Predicate:
    """A three-valued predicate for ``cond``."""
    if isinstance(cond, And | Or):
        return _connective(cond, [compile_condition(part, values) for part in cond.parts])
    if isinstance(cond, Not):
        inner = compile_condition(cond.part, values)
        return lambda row: None if (result := inner(row)) is None else not result
    if isinstance(cond, IsNull):
        operand = values.value(cond.operand)
        if cond.negated:
            return lambda row: operand(row) is not None
        return lambda row: operand(row) is None
    compiled = _COMPILERS[type(cond)](cond, values)
    return _negate(compiled) if getattr(cond, "negated", False) else compiled


def _negate(predicate: Predicate) -> Predicate:
    return lambda row: None if (result := predicate(row)) is None else not result


def _connective(cond: And | Or, parts: list[Predicate]) -> Predicate:
    """AND/OR over three values: the deciding value wins, else unknown beats the other."""
    decisive = isinstance(cond, Or)

    def evaluate(row: Any) -> bool | None:
        unknown = False
        for part in parts:
            result = part(row)
            if result is decisive:
                return decisive
            unknown = unknown or result is None
        return None if unknown else not decisive

    return evaluate


def _compare(cond: Compare, values: ValueCompiler) -> Predicate:
    left, right = values.value(cond.left), values.value(cond.right)
    for side, other in ((cond.right, left), (cond.left, right)):
        is_constant, fixed = constant(side)
        if is_constant and fixed is not None and cond.op in ("=", "<>"):
            return _match_constant(other, EqualityIndex([(fixed, True)]), cond.op == "<>")
    if cond.op in ("=", "<>"):
        want = cond.op == "="
        return lambda row: None if (same := equal(left(row), right(row))) is None else same is want
    test = _ORDERINGS[cond.op]
    return lambda row: None if (order := compare(left(row), right(row))) is None else test(order)


_ORDERINGS: dict[str, Callable[[int], bool]] = {
    "<": lambda order: order < 0,
    ">": lambda order: order > 0,
    "<=": lambda order: order <= 0,
    ">=": lambda order: order >= 0,
}


def _match_constant(operand: ValueFn, index: EqualityIndex[bool], negated: bool) -> Predicate:
    """``operand = constant`` (or ``<>``) as one dict lookup per row."""
    contains = index.contains
    if negated:
        return lambda row: None if (value := operand(row)) is None else not contains(value)
    return lambda row: None if (value := operand(row)) is None else contains(value)


def _in_list(cond: InList, values: ValueCompiler) -> Predicate:
    """IN through a set when every item is constant; a NULL item makes a miss unknown."""
    operand = values.value(cond.operand)
    folded = [constant(item) for item in cond.items]
    if not all(is_constant for is_constant, _ in folded):
        either = Or(tuple(Compare("=", cond.operand, item) for item in cond.items))
        return compile_condition(either, values)
    index = EqualityIndex((value, True) for _, value in folded)
    miss = None if any(value is None for _, value in folded) else False
    contains = index.contains

    def evaluate(row: Any) -> bool | None:
        value = operand(row)
        if value is None:
            return None
        return True if contains(value) else miss

    return evaluate


def _like(cond: Like, values: ValueCompiler) -> Predicate:
    """LIKE with the regex built once when the pattern is a constant (the usual case)."""
    operand = values.value(cond.operand)
    fixed_pattern, pattern_text = constant(cond.pattern)
    fixed_escape, escape_text = (True, None) if cond.escape is None else constant(cond.escape)
    if fixed_pattern and fixed_escape:
        if pattern_text is None:
            return lambda _row: None
        match = _cached_like(as_text(pattern_text), _optional_text(escape_text)).fullmatch
        return lambda row: None if (value := operand(row)) is None else bool(match(as_text(value)))
    pattern = values.value(cond.pattern)
    escape = (lambda _row: None) if cond.escape is None else values.value(cond.escape)

    def evaluate(row: Any) -> bool | None:
        value, text = operand(row), pattern(row)
        if value is None or text is None:
            return None
        regex = _cached_like(as_text(text), _optional_text(escape(row)))
        return regex.fullmatch(as_text(value)) is not None

    return evaluate


def _optional_text(value: Any) -> str | None:
    return None if value is None else as_text(value)


@functools.lru_cache(maxsize=512)
def _cached_like(pattern: str, escape: str | None) -> re.Pattern[str]:
    if escape is not None and len(escape) != 1:
        raise search_error(f"Invalid escape character '{escape}': it must be one character.")
    return like_regex(pattern, escape)


def _between(cond: Between, values: ValueCompiler) -> Predicate:
    """``x BETWEEN a AND b`` is ``x >= a AND x <= b``, unknowns included."""
    both = And((Compare(">=", cond.operand, cond.low), Compare("<=", cond.operand, cond.high)))
    return compile_condition(both, values)


_COMPILERS: dict[type, Callable[[Any, ValueCompiler], Predicate]] = {
    Compare: _compare,
    InList: _in_list,
    Like: _like,
    Between: _between,
}
