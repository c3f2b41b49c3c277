"""Runs a SuiteQL query over the emulator's tables and answers as NetSuite's JSON does.

The order of work is Oracle's: FROM and JOIN, WHERE (ROWNUM counts the rows that pass it),
GROUP BY and HAVING, SELECT, ORDER BY, DISTINCT, then FETCH FIRST / TOP. The HTTP layer pages
the full result with ``limit``/``offset`` and adds ``links``; this module does neither
(contracts/netsuite.md §4).

Output rows follow §4: lower-case column names, every value a string, booleans "T"/"F", and a
NULL column left out of its row. An unaliased expression is named ``expr1``, ``expr2``… in select
order, as client code reads ``items[0].expr1`` for ``SELECT COUNT(*)`` (3P; UNCONFIRMED whether
the numbering also counts plain columns — here it counts only expressions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dealbridge.connectors.netsuite.emulator.suiteql_ast import (
    And,
    Column,
    Compare,
    Cond,
    Join,
    Literal,
    OrderItem,
    Query,
    SelectItem,
    Star,
)
from dealbridge.connectors.netsuite.emulator.suiteql_compiler import (
    Predicate,
    RowCompiler,
    ValueCompiler,
    compile_condition,
    has_aggregate,
)
from dealbridge.connectors.netsuite.emulator.suiteql_grammar import (
    parse_query,
    search_error,
    unknown_table_error,
)
from dealbridge.connectors.netsuite.emulator.suiteql_grouping import GroupCompiler, groups
from dealbridge.connectors.netsuite.emulator.suiteql_scope import Scope, Source, ValueFn
from dealbridge.connectors.netsuite.emulator.suiteql_values import (
    EqualityIndex,
    as_text,
    sort_key,
)

RowSource = Callable[[str], Sequence[Mapping[str, Any]] | None]
ColumnSource = Callable[[str], set[str] | None]
Writer = Callable[[Any, dict[str, str]], None]


def execute_suiteql(
    query: str, rows_for: RowSource, *, columns_for: ColumnSource | None = None
) -> list[dict[str, str]]:
    """Run one SuiteQL SELECT and return every result row, unpaged.

    Args:
        query: The ``q`` of ``POST /query/v1/suiteql``.
        rows_for: Table name (lower-case) to its rows, or None when no such table exists.
            Rows have lower-case keys and raw values; dates are 'YYYY-MM-DD' strings.
        columns_for: Table name to its known columns, so that an unknown column is caught even
            when the table has no rows to show which columns exist; None if not known.

    Returns:
        Rows as NetSuite sends them: lower-case names, string values, NULLs omitted.

    Raises:
        NetSuiteProblem: 400 ``INVALID_PARAMETER`` for a syntax error, an unknown table or
            column, or anything else outside the supported subset.
    """
    parsed = parse_query(query)
    scope = Scope(_sources(parsed, rows_for, columns_for))
    where, rownum = _split_rownum(parsed.where)
    rows = _filtered(_joined_rows(parsed, scope), where, scope)
    if rownum is not None:
        rows = rows[:rownum]
    return _Plan.of(parsed, scope).run(rows)


def _sources(query: Query, rows_for: RowSource, columns_for: ColumnSource | None) -> list[Source]:
    sources: list[Source] = []
    for ref in (query.table, *(join.table for join in query.joins)):
        if any(source.ref.label == ref.label for source in sources):
            raise search_error(f"Duplicate table alias '{ref.label}'.")
        rows = rows_for(ref.name)
        if rows is None:
            raise unknown_table_error(ref.name)
        sources.append(Source(ref, rows, columns_for))
    return sources


def _split_rownum(where: Cond | None) -> tuple[Cond | None, int | None]:
    """Take ``ROWNUM <= n`` / ``< n`` / ``= 1`` out of WHERE's top-level AND as a row limit."""
    parts = where.parts if isinstance(where, And) else () if where is None else (where,)
    kept: list[Cond] = []
    limit: int | None = None
    for part in parts:
        bound = _rownum_bound(part)
        if bound is None:
            kept.append(part)
        else:
            limit = bound if limit is None else min(limit, bound)
    rest = None if not kept else kept[0] if len(kept) == 1 else And(tuple(kept))
    return rest, limit


def _rownum_bound(cond: Cond) -> int | None:
    if not (isinstance(cond, Compare) and cond.left == Column(None, "rownum")):
        return None
    value = cond.right.value if isinstance(cond.right, Literal) else None
    if not isinstance(value, int | float):
        return None
    bounds = {"<=": math.floor(value), "<": math.ceil(value) - 1, "=": 1 if value == 1 else 0}
    return max(bounds[cond.op], 0) if cond.op in bounds else None


def _joined_rows(query: Query, scope: Scope) -> Sequence[Any]:
    """The FROM rows: the table's own mappings, or tuples with one entry per joined table."""
    first = scope.sources[0].rows
    if not scope.joined:
        return first
    rows: list[tuple[Any, ...]] = [(row,) for row in first]
    for position, join in enumerate(query.joins, start=1):
        rows = _join(rows, join, position, scope)
    return rows


def _join(
    left_rows: list[tuple[Any, ...]], join: Join, position: int, scope: Scope
) -> list[tuple[Any, ...]]:
    """Nested loop, or a hash join on the first ``left.col = right.col`` of the ON clause."""
    visible = scope.narrowed(position + 1)
    candidates, residual = _candidates(join.on, scope.sources[position].rows, position, visible)
    keep = compile_condition(residual, RowCompiler(visible)) if residual else None
    joined: list[tuple[Any, ...]] = []
    for left in left_rows:
        matches = [(*left, right) for right in candidates(left)]
        if keep is not None:
            matches = [row for row in matches if keep(row)]
        joined.extend(matches)
        if not matches and join.kind == "left":
            joined.append((*left, None))
    return joined


def _candidates(
    on: Cond, right_rows: Sequence[Mapping[str, Any]], position: int, scope: Scope
) -> tuple[Callable[[tuple[Any, ...]], Sequence[Any]], Cond | None]:
    """Which right rows to try for a left row, and what of ON is left to check on them."""
    equi = _equi_join(on, position, scope)
    if equi is None:
        return (lambda _left: right_rows), on
    probe, right_name, residual = equi
    index = EqualityIndex((row.get(right_name), row) for row in right_rows)
    return (lambda left: index.find(probe(left))), residual


def _equi_join(on: Cond, position: int, scope: Scope) -> tuple[ValueFn, str, Cond | None] | None:
    """Find ``earlier.col = new.col`` in ON: the probe, the new table's column, the rest."""
    parts = on.parts if isinstance(on, And) else (on,)
    for number, part in enumerate(parts):
        if not (isinstance(part, Compare) and part.op == "="):
            continue
        if not (isinstance(part.left, Column) and isinstance(part.right, Column)):
            continue
        sides = {scope.resolve(part.left): part.left, scope.resolve(part.right): part.right}
        if position in sides and len(sides) == 2:
            other = next(column for index, column in sides.items() if index != position)
            rest = parts[:number] + parts[number + 1 :]
            residual = None if not rest else rest[0] if len(rest) == 1 else And(rest)
            return scope.accessor(other), sides[position].name, residual
    return None


def _filtered(rows: Sequence[Any], where: Cond | None, scope: Scope) -> list[Any]:
    if where is None:
        return list(rows)
    keep = compile_condition(where, RowCompiler(scope))
    return [row for row in rows if keep(row)]


@dataclass
class _Plan:
    """The compiled SELECT, HAVING, ORDER BY, DISTINCT and FETCH of one query."""

    writers: list[Writer]
    group_keys: list[ValueFn] | None
    having: Predicate | None
    order: list[tuple[ValueFn, bool, bool]]
    distinct: bool
    limit: int | None

    @classmethod
    def of(cls, query: Query, scope: Scope) -> _Plan:
        """Compile in row mode, or in group mode when the query groups or aggregates."""
        rows = RowCompiler(scope)
        values: ValueCompiler = rows
        group_keys = None
        if _is_grouped(query):
            if any(isinstance(item, Star) for item in query.items):
                raise search_error("'*' cannot be selected in a grouped query.")
            values = GroupCompiler(rows, query.group_by)
            group_keys = [rows.value(expr) for expr in query.group_by]
        named = _named_values(query.items, values)
        limits = [n for n in (query.top, query.fetch) if n is not None]
        return cls(
            writers=[_writer(name, fn, item, scope) for name, fn, item in named],
            group_keys=group_keys,
            having=compile_condition(query.having, values) if query.having else None,
            order=[_order_key(item, values, named) for item in query.order_by],
            distinct=query.distinct,
            limit=min(limits) if limits else None,
        )

    def run(self, rows: list[Any]) -> list[dict[str, str]]:
        """Rows (or groups) to output rows, sorted, de-duplicated and cut to the limit."""
        units = rows if self.group_keys is None else groups(rows, self.group_keys)
        if self.having is not None:
            units = [unit for unit in units if self.having(unit)]
        results = [(self._project(unit), [key(unit) for key, _, _ in self.order]) for unit in units]
        for position in reversed(range(len(self.order))):
            _, descending, nulls_high = self.order[position]
            results.sort(key=_by_key(position, nulls_high), reverse=descending)
        output = [row for row, _ in results]
        if self.distinct:
            output = list({tuple(row.items()): row for row in output}.values())
        return output if self.limit is None else output[: self.limit]

    def _project(self, unit: Any) -> dict[str, str]:
        row: dict[str, str] = {}
        for write in self.writers:
            write(unit, row)
        return row


def _by_key(position: int, nulls_high: bool) -> Callable[[tuple[Any, list[Any]]], Any]:
    return lambda result: sort_key(result[1][position], nulls_high)


def _is_grouped(query: Query) -> bool:
    expressions = [item.expr for item in query.items if isinstance(item, SelectItem)]
    expressions += [item.expr for item in query.order_by]
    return bool(query.group_by) or query.having is not None or any(map(has_aggregate, expressions))


def _named_values(
    items: Sequence[SelectItem | Star], values: ValueCompiler
) -> list[tuple[str | None, ValueFn | None, SelectItem | Star]]:
    """Each select item's output name and closure (both None for a ``*``)."""
    named: list[tuple[str | None, ValueFn | None, SelectItem | Star]] = []
    unnamed = 0
    for item in items:
        if isinstance(item, Star):
            named.append((None, None, item))
            continue
        name = item.alias or (item.expr.name if isinstance(item.expr, Column) else None)
        if name is None:
            unnamed += 1
            name = f"expr{unnamed}"
        named.append((name, values.value(item.expr), item))
    return named


def _writer(name: str | None, fn: ValueFn | None, item: SelectItem | Star, scope: Scope) -> Writer:
    if name is None or fn is None:
        assert isinstance(item, Star)  # noqa: S101 - only a star has no name
        return _star_writer(item, scope)

    def write(unit: Any, row: dict[str, str]) -> None:
        value = fn(unit)
        if value is not None:
            row[name] = as_text(value)

    return write


def _star_writer(star: Star, scope: Scope) -> Writer:
    """``*`` writes every non-null column; with joins the first table's column wins a clash."""
    if not scope.joined:
        return _copy_non_null
    labels = [source.ref.label for source in scope.sources]
    if star.qualifier is not None and star.qualifier not in labels:
        raise scope.unknown(f"{star.qualifier}.*")
    wanted = [i for i, label in enumerate(labels) if star.qualifier in (None, label)]

    def write(unit: Any, row: dict[str, str]) -> None:
        for index in wanted:
            if unit[index] is not None:
                _copy_non_null(unit[index], row)

    return write


def _copy_non_null(source: Mapping[str, Any], row: dict[str, str]) -> None:
    for key, value in source.items():
        if value is not None and key not in row:
            row[key] = as_text(value)


def _order_key(
    item: OrderItem,
    values: ValueCompiler,
    named: list[tuple[str | None, ValueFn | None, SelectItem | Star]],
) -> tuple[ValueFn, bool, bool]:
    """ORDER BY accepts a select position, a select alias, or any expression."""
    fn: ValueFn | None
    expr = item.expr
    if isinstance(expr, Literal) and isinstance(expr.value, int):
        fn = named[expr.value - 1][1] if 0 < expr.value <= len(named) else None
        if fn is None:
            raise search_error(f"ORDER BY position {expr.value} is not a select-list column.")
    else:
        aliases = {i.alias: f for _, f, i in named if isinstance(i, SelectItem) and i.alias}
        alias = expr.name if isinstance(expr, Column) and expr.qualifier is None else ""
        fn = aliases.get(alias) or values.value(expr)
    nulls_last = not item.descending if item.nulls_last is None else item.nulls_last
    return fn, item.descending, nulls_last != item.descending
