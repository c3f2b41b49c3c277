"""The output shape of a SELECT list: flat fields, nested parents, child subqueries, counts.

REST renders ``Account.Id, Account.Name`` as one nested ``"Account"`` object placed where the
first of them was selected (§1.3), so paths are merged into a tree keyed by relationship name,
keeping select order. A field selected twice is refused as Salesforce refuses it
(INVALID_FIELD "duplicate field selected: Id", the wording in Salesforce's FIELDS() docs).
"""

from __future__ import annotations

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.emulator import soql_ast as ast
from dealbridge.connectors.salesforce.emulator import soql_plan as plan
from dealbridge.connectors.salesforce.emulator.schema_types import ChildRelationship
from dealbridge.connectors.salesforce.emulator.soql_errors import SoqlError, malformed
from dealbridge.connectors.salesforce.emulator.soql_values import to_wire


class _Node:
    """A mutable level of the tree: the record itself, or one parent relationship under it."""

    def __init__(self, hop: plan.Hop | None = None) -> None:
        self.hop = hop
        self.entries: dict[str, plan.FieldOut | plan.ChildOut | _Node] = {}

    def freeze(self) -> tuple[plan.OutItem, ...]:
        return tuple(_freeze(entry) for entry in self.entries.values())


def _freeze(entry: plan.FieldOut | plan.ChildOut | _Node) -> plan.OutItem:
    if not isinstance(entry, _Node):
        return entry
    assert entry.hop is not None  # noqa: S101 - only the root has no hop
    key = entry.hop.field.relationship_name or entry.hop.field.name
    return plan.ParentOut(key, entry.hop, entry.freeze())


class ShapeBuilder:
    """Collects one SELECT list in order; reports misuse at the position written."""

    def __init__(self, soql: str) -> None:
        self._soql = soql
        self._root = _Node()
        self._counts: list[tuple[plan.CountOut, ast.Position]] = []
        self._first_plain: ast.FieldPath | None = None
        self._has_children = False

    def add_field(self, path: plan.BoundPath, written: ast.FieldPath) -> None:
        """Place a field at the end of its relationship chain."""
        node = self._root
        for hop in path.hops:
            key = (hop.field.relationship_name or hop.field.name).lower()
            child = node.entries.get(key)
            if not isinstance(child, _Node):
                child = node.entries[key] = _Node(hop)
            node = child
        key = path.field.name.lower()
        if key in node.entries:
            canonical = ".".join(
                [*(h.field.relationship_name or "" for h in path.hops), path.field.name]
            )
            raise SoqlError(models.INVALID_FIELD, f"duplicate field selected: {canonical}")
        node.entries[key] = plan.FieldOut(path.field.name, path.field, to_wire(path.field))
        self._first_plain = self._first_plain or written

    def add_child(self, relationship: ChildRelationship, query: plan.BoundQuery) -> None:
        """Place a child subquery under its relationship name."""
        out = plan.ChildOut(relationship.name, relationship, query)
        self._root.entries[relationship.name.lower()] = out
        self._has_children = True

    def add_count(self, path: plan.BoundPath | None, alias: str | None, pos: ast.Position) -> None:
        """Record ``COUNT()`` or ``COUNT(field) [alias]`` (unaliased: ``expr0``, ``expr1``…)."""
        key = alias or f"expr{len(self._counts)}"
        self._counts.append((plan.CountOut(key, path), pos))

    def check_aggregates(self) -> None:
        """Refuse mixes Salesforce refuses: COUNT() with anything, COUNT(x) with plain fields."""
        if not self._counts:
            return
        count_all = [pos for count, pos in self._counts if count.path is None]
        if count_all and (len(self._counts) > 1 or self._root.entries):
            raise malformed(self._soql, count_all[0], "unexpected token: 'COUNT'")
        if self._first_plain is not None:
            reason = f"Field must be grouped or aggregated: {self._first_plain.parts[-1]}"
            raise malformed(self._soql, self._first_plain.pos, reason)
        if self._has_children:
            raise malformed(
                self._soql, self._counts[0][1], "Aggregate query does not support subqueries"
            )

    def items(self) -> tuple[plan.OutItem, ...]:
        """The frozen output shape in select order."""
        return self._root.freeze()

    def counts(self) -> tuple[plan.CountOut, ...]:
        """The aggregates, in select order."""
        return tuple(count for count, _ in self._counts)
