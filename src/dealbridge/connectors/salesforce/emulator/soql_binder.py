"""Checking a parsed SOQL statement against the schema and planning its output shape.

Names are resolved case-insensitively to their canonical spelling; a dot path walks parent
relationships (≤ 5, §1.3); a subquery's FROM names a child relationship of the object around
it, and subqueries nest up to 5 levels from API v58.0 (one level before, §1.3). Errors carry
Salesforce's codes and wording (§1.8). Plans are memoised per statement and API version.
"""

from __future__ import annotations

import functools

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.emulator import soql_ast as ast
from dealbridge.connectors.salesforce.emulator import soql_plan as plan
from dealbridge.connectors.salesforce.emulator.schema import sobject
from dealbridge.connectors.salesforce.emulator.schema_types import ChildRelationship, SObjectDef
from dealbridge.connectors.salesforce.emulator.soql_errors import (
    NUMBER_OUTSIDE_VALID_RANGE,
    SoqlError,
    bad_child_relationship,
    bad_relationship,
    invalid_field,
    malformed,
    no_such_column,
    unsupported_sobject,
)
from dealbridge.connectors.salesforce.emulator.soql_grammar import parse_soql
from dealbridge.connectors.salesforce.emulator.soql_shape import ShapeBuilder
from dealbridge.connectors.salesforce.emulator.soql_where import (
    WhereBinder,
    id_lookups,
    reference_lookup,
)

MAX_PARENT_HOPS = 5  # §1.3: child-to-parent dot notation up to 5 levels
MAX_QUERY_LEVELS = 5  # §1.3: the statement plus 4 levels of nested subqueries (v58+)
NESTING_MIN_VERSION = 58.0  # §1.3 / R43: nested subqueries over REST from v58.0


@functools.lru_cache(maxsize=512)
def bind(soql: str, api_version: str) -> plan.BoundQuery:
    """Parse and check ``soql`` for ``api_version``; the result is safe to run many times.

    Raises:
        SoqlError: MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD,
            INVALID_QUERY_FILTER_OPERATOR or NUMBER_OUTSIDE_VALID_RANGE.
    """
    query = parse_soql(soql)
    return _Binder(soql, api_version).statement(query)


class _Binder:
    def __init__(self, soql: str, api_version: str) -> None:
        self._soql = soql
        self._where = WhereBinder(soql, self.path)
        self._max_levels = MAX_QUERY_LEVELS if _version(api_version) >= NESTING_MIN_VERSION else 2

    def statement(self, query: ast.Query) -> plan.BoundQuery:
        defn = sobject(query.source.text)
        if defn is None:
            raise unsupported_sobject(self._soql, query.source.pos, query.source.text)
        if query.offset is not None and query.offset > models.OFFSET_MAX:
            # Salesforce answers without a position here (observed wording).
            message = f"Maximum SOQL offset allowed is {models.OFFSET_MAX}"
            raise SoqlError(NUMBER_OUTSIDE_VALID_RANGE, message)
        return self._query(query, defn, level=1)

    def _query(self, query: ast.Query, defn: SObjectDef, level: int) -> plan.BoundQuery:
        shape = ShapeBuilder(self._soql)
        for item in query.items:
            self._select_item(item, defn, shape, query, level)
        shape.check_aggregates()
        where = self._where.condition(query.where, defn) if query.where else None
        return plan.BoundQuery(
            sobject=defn,
            items=shape.items(),
            counts=shape.counts(),
            where=where,
            order_by=tuple(self._order(item, defn) for item in query.order_by),
            limit=query.limit,
            offset=query.offset or 0,
            ids=id_lookups(query.where, defn) if level == 1 and query.where else None,
            reference=reference_lookup(query.where, defn) if level == 1 and query.where else None,
        )

    def _select_item(
        self,
        item: ast.SelectItem,
        defn: SObjectDef,
        shape: ShapeBuilder,
        outer: ast.Query,
        level: int,
    ) -> None:
        if isinstance(item, ast.FieldPath):
            shape.add_field(self.path(item, defn), item)
        elif isinstance(item, ast.Query):
            self._subquery(item, defn, shape, outer, level + 1)
        elif isinstance(item, ast.CountAll):
            shape.add_count(None, None, item.pos)
        else:
            shape.add_count(self.path(item.path, defn), item.alias, item.pos)

    def _subquery(
        self,
        query: ast.Query,
        parent: SObjectDef,
        shape: ShapeBuilder,
        outer: ast.Query,
        level: int,
    ) -> None:
        if level > self._max_levels:
            # UNCONFIRMED wording: Salesforce's text for too-deep nesting is not published.
            reason = (
                f"SOQL statements cannot nest more than {self._max_levels - 1} levels of subqueries"
            )
            raise malformed(self._soql, query.pos, reason)
        relationship = self._relationship(query.source, parent)
        child = sobject(relationship.child_sobject)
        if child is None:  # pragma: no cover - the schema only declares relationships it has
            raise bad_child_relationship(self._soql, query.source.pos, query.source.text)
        if query.offset is not None and outer.limit != 1:
            # Salesforce: a subquery may use OFFSET only when its parent query has LIMIT 1.
            pos = query.offset_pos or query.pos
            raise malformed(self._soql, pos, "unexpected token: 'OFFSET'")
        bound = self._query(query, child, level)
        if bound.counts:  # aggregates belong to the statement, never to a subquery
            raise malformed(self._soql, query.pos, "unexpected token: 'COUNT'")
        shape.add_child(relationship, bound)

    def _relationship(self, source: ast.FieldPath, parent: SObjectDef) -> ChildRelationship:
        """A subquery's FROM: ``Contacts`` or, qualified by the parent, ``Account.Contacts``."""
        parts = source.parts
        if len(parts) == 2 and parts[0].lower() == parent.name.lower():
            parts = parts[1:]
        relationship = parent.child(parts[0]) if len(parts) == 1 else None
        if relationship is None:
            raise bad_child_relationship(self._soql, source.pos, source.text)
        return relationship

    def _order(self, item: ast.OrderItem, defn: SObjectDef) -> plan.BoundOrder:
        path = self.path(item.path, defn)
        if not path.field.sortable:
            reason = f"field '{path.field.name}' can not be sorted in a query call"
            raise invalid_field(self._soql, item.path.pos, reason)
        # Salesforce: "By default, null values are sorted first" — documented without regard to
        # direction, so DESC also defaults to NULLS FIRST (UNCONFIRMED for DESC).
        nulls_first = True if item.nulls_first is None else item.nulls_first
        return plan.BoundOrder(path, item.descending, nulls_first)

    def path(self, written: ast.FieldPath, defn: SObjectDef) -> plan.BoundPath:
        """Resolve a dot path from ``defn``; the object's own name may qualify it."""
        parts = written.parts
        if len(parts) > 1 and parts[0].lower() == defn.name.lower():
            if defn.parent_relationship(parts[0]) is None:
                parts = parts[1:]
        hops: list[plan.Hop] = []
        current = defn
        for name in parts[:-1]:
            hop = self._hop(current, name, written)
            hops.append(hop)
            current = hop.target
        if len(hops) > MAX_PARENT_HOPS:
            reason = (
                f"SOQL statements cannot query more than {MAX_PARENT_HOPS} levels of relationships"
            )
            raise malformed(self._soql, written.pos, reason)
        fdef = current.field(parts[-1])
        if fdef is None:
            raise no_such_column(self._soql, written.pos, parts[-1], current.name)
        return plan.BoundPath(tuple(hops), fdef)

    def _hop(self, current: SObjectDef, name: str, written: ast.FieldPath) -> plan.Hop:
        lookup = current.parent_relationship(name)
        target = sobject(lookup.reference_to[0]) if lookup and lookup.reference_to else None
        if lookup is None or target is None:
            raise bad_relationship(self._soql, written.pos, name)
        return plan.Hop(lookup, target)


def _version(api_version: str) -> float:
    try:
        return float(api_version)
    except ValueError:
        return float(models.DEFAULT_API_VERSION)
