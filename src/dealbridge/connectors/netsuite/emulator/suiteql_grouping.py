"""GROUP BY and aggregates: operands evaluated on a group of rows rather than on one row.

A grouped query's SELECT, HAVING and ORDER BY see one group at a time. Inside an aggregate the
operand is a row expression again, so ``GroupCompiler`` wraps a ``RowCompiler``; outside one only
GROUP BY expressions (read from the group's first row), constants and functions of those are
allowed, as in Oracle, which answers anything else with "not a GROUP BY expression".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dealbridge.connectors.netsuite.emulator.suiteql_ast import Call, Column, Expr
from dealbridge.connectors.netsuite.emulator.suiteql_compiler import (
    AGGREGATES,
    RowCompiler,
    call_closure,
    constant,
    has_aggregate,
    scalar_function,
)
from dealbridge.connectors.netsuite.emulator.suiteql_grammar import search_error
from dealbridge.connectors.netsuite.emulator.suiteql_scope import ValueFn
from dealbridge.connectors.netsuite.emulator.suiteql_values import (
    Number,
    as_text,
    group_token,
    order_key,
    to_number,
)


def _numbers(values: list[Any]) -> list[Number]:
    """SUM and AVG need numbers; Oracle rejects text that is not one (ORA-01722)."""
    numbers = []
    for value in values:
        number = to_number(value)
        if number is None:
            raise search_error(f"Invalid number: '{as_text(value)}'.")
        numbers.append(number)
    return numbers


def _sum(values: list[Any]) -> Number | None:
    return sum(_numbers(values)) if values else None


def _average(values: list[Any]) -> Number | None:
    return sum(_numbers(values)) / len(values) if values else None


def _minimum(values: list[Any]) -> Any:
    return min(values, key=order_key) if values else None


def _maximum(values: list[Any]) -> Any:
    return max(values, key=order_key) if values else None


# Every reducer receives the group's non-null values: SQL aggregates skip NULLs, and an
# aggregate over no values is NULL except COUNT, which is 0.
_REDUCERS: dict[str, Callable[[list[Any]], Any]] = {
    "count": len,
    "sum": _sum,
    "avg": _average,
    "min": _minimum,
    "max": _maximum,
}


def aggregate(call: Call, rows: RowCompiler) -> ValueFn:
    """A closure computing ``COUNT(*)``, ``COUNT([DISTINCT] x)``, ``SUM(x)``… over a group."""
    if call.star:
        if call.name != "count":
            raise search_error(f"'*' is allowed only in COUNT(*), not in {call.name.upper()}.")
        return len
    if len(call.args) != 1:
        raise search_error(f"Wrong number of arguments to '{call.name.upper()}'.")
    if has_aggregate(call.args[0]):
        raise search_error("Group functions cannot be nested.")
    operand, reduce, distinct = rows.value(call.args[0]), _REDUCERS[call.name], call.distinct

    def evaluate(group: Sequence[Any]) -> Any:
        present = [value for value in map(operand, group) if value is not None]
        if distinct:
            present = list({group_token(value): value for value in present}.values())
        return reduce(present)

    return evaluate


class GroupCompiler:
    """Operands evaluated on a group: the SELECT, HAVING and ORDER BY of a grouped query."""

    def __init__(self, rows: RowCompiler, group_by: Sequence[Expr]) -> None:
        self.rows = rows
        self._grouped = set(group_by)
        self._grouped_columns = {
            (rows.scope.resolve(expr), expr.name) for expr in group_by if isinstance(expr, Column)
        }

    def value(self, expr: Expr) -> ValueFn:
        """A closure computing ``expr`` from a group (a list of rows)."""
        is_constant, fixed = constant(expr)
        if is_constant:
            return lambda _group: fixed
        if self._is_grouped(expr):
            read = self.rows.value(expr)
            return lambda group: read(group[0]) if group else None
        if isinstance(expr, Call) and expr.name in AGGREGATES:
            return aggregate(expr, self.rows)
        if isinstance(expr, Call):
            return call_closure(scalar_function(expr), [self.value(arg) for arg in expr.args])
        assert isinstance(expr, Column)  # noqa: S101 - a Literal is always constant
        raise search_error(f"Not a GROUP BY expression: '{expr.text}'.")

    def _is_grouped(self, expr: Expr) -> bool:
        if expr in self._grouped:
            return True
        if not isinstance(expr, Column):
            return False
        return (self.rows.scope.resolve(expr), expr.name) in self._grouped_columns


def groups(rows: Sequence[Any], keys: Sequence[ValueFn]) -> list[Sequence[Any]]:
    """Rows split by their GROUP BY values, first-seen order; no GROUP BY makes one group."""
    if not keys:
        return [rows]
    found: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        found.setdefault(tuple(group_token(key(row)) for key in keys), []).append(row)
    return list(found.values())
