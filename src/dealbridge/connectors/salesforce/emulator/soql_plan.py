"""A SOQL statement checked against the schema: what to read, filter, sort and render.

The binder turns ``soql_ast`` (names as written) into these nodes (canonical names, typed
literals, the nested output shape); the engine runs them. A plan holds nothing that depends on
the moment of execution: date literals stay symbolic until a run knows ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Any

from dealbridge.connectors.salesforce.emulator.schema_types import (
    ChildRelationship,
    FieldDef,
    SObjectDef,
)


@dataclass(frozen=True)
class Hop:
    """One child-to-parent step: the lookup field read and the object it lands on."""

    field: FieldDef
    target: SObjectDef


@dataclass(frozen=True)
class BoundPath:
    """A field reached from the queried object through zero or more parent lookups."""

    hops: tuple[Hop, ...]
    field: FieldDef


@dataclass(frozen=True)
class RelativeDate:
    """``TODAY``, ``LAST_N_DAYS:30``…: resolved to a range of days when the query runs."""

    name: str
    n: int | None


# A literal after type checking: text upper-cased, ids in their id_key form, numbers as floats.
Value = str | float | bool | date | datetime | RelativeDate | None


@dataclass(frozen=True)
class BCompare:
    """``path <op> value``."""

    path: BoundPath
    op: str
    value: Value


@dataclass(frozen=True)
class BIn:
    """``path [NOT] IN (values)``."""

    path: BoundPath
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class BLike:
    """``path LIKE pattern``; a null pattern matches nothing."""

    path: BoundPath
    pattern: re.Pattern[str] | None


@dataclass(frozen=True)
class BAnd:
    """All parts hold."""

    parts: tuple[BoundCondition, ...]


@dataclass(frozen=True)
class BOr:
    """Any part holds."""

    parts: tuple[BoundCondition, ...]


@dataclass(frozen=True)
class BNot:
    """The part does not hold."""

    part: BoundCondition


BoundCondition = BCompare | BIn | BLike | BAnd | BOr | BNot


@dataclass(frozen=True)
class BoundOrder:
    """One ORDER BY key with its null placement decided."""

    path: BoundPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class FieldOut:
    """A field of the record being rendered, under its canonical name."""

    key: str
    field: FieldDef
    convert: Callable[[Any], Any] = dataclass_field(compare=False)


@dataclass(frozen=True)
class ParentOut:
    """A nested parent record (``"Account": {"attributes": …, "Name": …}``) or null."""

    key: str
    hop: Hop
    items: tuple[OutItem, ...]


@dataclass(frozen=True)
class ChildOut:
    """A child subquery's result under its relationship name, or null when empty (§1.3)."""

    key: str
    relationship: ChildRelationship
    query: BoundQuery


OutItem = FieldOut | ParentOut | ChildOut


@dataclass(frozen=True)
class CountOut:
    """``COUNT()`` (``path`` None: only totalSize) or ``COUNT(field)`` under ``key``."""

    key: str
    path: BoundPath | None


@dataclass(frozen=True)
class BoundQuery:
    """A whole SELECT (or a subquery) ready to run."""

    sobject: SObjectDef
    items: tuple[OutItem, ...]
    counts: tuple[CountOut, ...]
    where: BoundCondition | None
    order_by: tuple[BoundOrder, ...]
    limit: int | None
    offset: int
    # Ids named by ``WHERE Id = '…'`` / ``Id IN (…)`` at the top of the WHERE: rows are then
    # fetched by id instead of scanned.
    ids: tuple[str, ...] | None
    # ``(lookup field, parent id)`` from ``WHERE Lookup__c = '…'`` at the top of the WHERE: rows
    # are then read through the reference index (``RecordSource.children``) instead of scanned.
    reference: tuple[str, str] | None = None
