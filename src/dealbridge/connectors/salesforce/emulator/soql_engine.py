"""Runs SOQL over the emulated org and answers in the REST JSON shape (contracts §1.2-§1.4, §4.1).

The HTTP layer owns batching, locators and ``done``: this module returns every record of the
statement, each ``{"attributes": {"type", "url"}, <fields in SELECT order>}``, parents nested
(null when the lookup is empty), child subqueries as ``{"totalSize", "done": true, "records"}``
or null when there are none (§1.3, observed). Records come from a ``RecordSource``: parents by
``get`` (memoised per run), children by ``children`` (the store indexes them), and a statement
pinned to ids by ``WHERE Id = …`` / ``Id IN (…)`` is served by ``get`` instead of a scan — so
the §4.1 deal query costs a handful of lookups whatever the size of the org.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from dealbridge.connectors.salesforce.emulator import soql_plan as plan
from dealbridge.connectors.salesforce.emulator.soql_binder import bind
from dealbridge.connectors.salesforce.emulator.soql_errors import SoqlError
from dealbridge.connectors.salesforce.emulator.soql_filter import Predicate, compile_condition
from dealbridge.connectors.salesforce.emulator.soql_values import (
    Converter,
    as_bool,
    comparable,
    field_getter,
    sortable,
    stored,
)
from dealbridge.connectors.salesforce.models import is_salesforce_id, sobject_url, to_id18

__all__ = ["RecordSource", "SoqlError", "SoqlResult", "execute_soql"]

Row = Mapping[str, Any]
_Render = Callable[[Row], dict[str, Any]]


class RecordSource(Protocol):
    """What the engine reads: the store's records keyed by canonical API field names.

    Every record has ``Id``; ``IsDeleted`` is a bool (absent means false).
    """

    def records(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        """Every record of ``sobject`` in creation order (deleted ones only when asked)."""
        ...

    def get(self, sobject: str, record_id: str) -> Mapping[str, Any] | None:
        """One record by its 18-character id, deleted or not, or None."""
        ...

    def children(
        self, sobject: str, field: str, parent_id: str, *, include_deleted: bool
    ) -> Iterable[Mapping[str, Any]]:
        """The ``sobject`` records whose lookup ``field`` holds ``parent_id``."""
        ...


@dataclass
class SoqlResult:
    """Every record of a statement; ``total_size`` is the REST ``totalSize``.

    For ``COUNT()`` the records are empty and ``total_size`` is the count (§1.2).
    """

    records: list[dict[str, Any]]
    total_size: int
    sobject: str


def execute_soql(
    soql: str,
    source: RecordSource,
    *,
    api_version: str,
    include_deleted: bool = False,
    now: datetime | None = None,
) -> SoqlResult:
    """Run one SOQL statement.

    Args:
        soql: The statement, as received in ``?q=``.
        source: The org's records.
        api_version: ``"65.0"``-style version of the request (record URLs, nesting rules).
        include_deleted: True for ``queryAll`` (§1.2): deleted rows are visible.
        now: The instant date literals are relative to; the current time if None.

    Raises:
        SoqlError: The statement is not one Salesforce would run (§1.8 codes and wording).
    """
    bound = bind(soql, api_version)
    instant = now or datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    run = _Run(source, api_version, include_deleted, instant)
    rows = run.select(bound, _candidates(bound, run))
    if bound.counts:
        return _aggregate(bound, rows, run)
    render = run.renderer(bound.items, bound.sobject.name)
    records = [render(row) for row in rows]
    return SoqlResult(records, len(records), bound.sobject.name)


def _candidates(bound: plan.BoundQuery, run: _Run) -> Iterable[Row]:
    """The rows the WHERE will see: by id or by a pinned lookup where it can, else all of them.

    Both narrowed reads keep creation order, as the scan does (an unordered query's order).
    """
    name = bound.sobject.name
    if bound.ids is None and bound.reference is not None:
        field, parent_id = bound.reference
        return run.source.children(
            name, field, to_id18(parent_id), include_deleted=run.include_deleted
        )
    if bound.ids is None:
        return run.source.records(name, include_deleted=run.include_deleted)
    found = (run.source.get(name, to_id18(record_id)) for record_id in dict.fromkeys(bound.ids))
    return [row for row in found if row is not None and run.visible(row)]


def _aggregate(bound: plan.BoundQuery, rows: list[Row], run: _Run) -> SoqlResult:
    """``COUNT()`` answers only totalSize; ``COUNT(field)`` one AggregateResult row."""
    if bound.counts[0].path is None:
        return SoqlResult([], len(rows), bound.sobject.name)
    record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
    for count in bound.counts:
        assert count.path is not None  # noqa: S101 - COUNT() never mixes with COUNT(field)
        read = run.reader(count.path, comparable(count.path.field))
        record[count.key] = sum(1 for row in rows if read(row) is not None)
    return SoqlResult([record], 1, bound.sobject.name)


class _Run:
    """One execution: the source, the visibility rule, ``now``, and per-run memos."""

    def __init__(
        self, source: RecordSource, api_version: str, include_deleted: bool, now: datetime
    ) -> None:
        self.source = source
        self.api_version = api_version
        self.include_deleted = include_deleted
        self.now = now
        self._parents: dict[tuple[str, str], Row | None] = {}
        self._predicates: dict[int, Predicate | None] = {}
        self._renderers: dict[int, _Render] = {}

    def visible(self, row: Row) -> bool:
        """Deleted rows exist only for queryAll."""
        return self.include_deleted or not as_bool(row.get("IsDeleted"))

    def parent(self, hop: plan.Hop, row: Row) -> Row | None:
        """The record ``row``'s lookup points at, or None when empty, unknown or deleted."""
        ref = row.get(hop.field.name)
        if not ref or not is_salesforce_id(str(ref)):
            return None  # empty, or not an id at all: nothing to follow
        key = (hop.target.name, str(ref))
        if key not in self._parents:
            found = self.source.get(hop.target.name, to_id18(str(ref)))
            self._parents[key] = found if found is not None and self.visible(found) else None
        return self._parents[key]

    def reader(self, path: plan.BoundPath, convert: Converter) -> Callable[[Row], Any]:
        """Reads ``path`` from a root row through its parents, converted."""
        fdef, hops = path.field, path.hops
        if not hops:
            return lambda row: convert(stored(row, fdef))

        def read(row: Row) -> Any:
            target: Row | None = row
            for hop in hops:
                target = self.parent(hop, target) if target is not None else None
            return None if target is None else convert(stored(target, fdef))

        return read

    def select(self, bound: plan.BoundQuery, rows: Iterable[Row]) -> list[Row]:
        """WHERE, then ORDER BY, then OFFSET and LIMIT."""
        predicate = self._predicate(bound)
        kept = [row for row in rows if predicate(row)] if predicate else list(rows)
        for order in reversed(bound.order_by):
            self._sort(kept, order)
        end = None if bound.limit is None else bound.offset + bound.limit
        return kept[bound.offset : end]

    def _predicate(self, bound: plan.BoundQuery) -> Predicate | None:
        key = id(bound)  # plans are cached and immutable: identity is a safe key within a run
        if key not in self._predicates:
            where = bound.where
            compiled = (
                compile_condition(where, self._comparable_reader, self.now) if where else None
            )
            self._predicates[key] = compiled
        return self._predicates[key]

    def _comparable_reader(self, path: plan.BoundPath) -> Callable[[Row], Any]:
        return self.reader(path, comparable(path.field))

    def _sort(self, rows: list[Row], order: plan.BoundOrder) -> None:
        """One stable pass; nulls get a rank that lands them first or last after any reverse."""
        read = self.reader(order.path, sortable(order.path.field))
        null_rank = 1 if order.descending == order.nulls_first else 0

        def key(row: Row) -> tuple[int, Any]:
            value = read(row)
            return (null_rank, None) if value is None else (1 - null_rank, value)

        rows.sort(key=key, reverse=order.descending)

    def renderer(self, items: tuple[plan.OutItem, ...], sobject: str) -> _Render:
        """A function rendering rows of this shape in the REST form, fields in SELECT order.

        Compiled once per run into (key, getter) pairs, so rows render without dispatching on
        item kinds again: a 5,000-row page is mostly this loop.
        """
        cached = self._renderers.get(id(items))
        if cached is not None:
            return cached
        parts = [(item.key, self._getter(item)) for item in items]
        version = self.api_version

        def render(row: Row) -> dict[str, Any]:
            url = sobject_url(version, sobject, str(row["Id"]))
            out: dict[str, Any] = {"attributes": {"type": sobject, "url": url}}
            for key, get in parts:
                out[key] = get(row)
            return out

        self._renderers[id(items)] = render
        return render

    def _getter(self, item: plan.OutItem) -> Callable[[Row], Any]:
        if isinstance(item, plan.FieldOut):
            return field_getter(item.field, item.convert)
        if isinstance(item, plan.ParentOut):
            hop, nested = item.hop, self.renderer(item.items, item.hop.target.name)

            def parent(row: Row) -> dict[str, Any] | None:
                found = self.parent(hop, row)
                return None if found is None else nested(found)

            return parent
        return lambda row: self._children(item, row)

    def _children(self, item: plan.ChildOut, row: Row) -> dict[str, Any] | None:
        """A subquery's result for one parent row; null when it has no rows (§1.3)."""
        relationship = item.relationship
        found = self.source.children(
            relationship.child_sobject,
            relationship.field,
            str(row["Id"]),
            include_deleted=self.include_deleted,
        )
        rows = self.select(item.query, found)
        if not rows:
            return None
        name = item.query.sobject.name
        render = self.renderer(item.query.items, name)
        records = [render(child) for child in rows]
        return {"totalSize": len(records), "done": True, "records": records}
