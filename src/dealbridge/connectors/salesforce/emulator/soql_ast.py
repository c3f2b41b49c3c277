"""The parsed form of a SOQL statement, before any name is checked against the schema.

Every node that can be wrong about the schema (a field path, an object name, a literal) keeps
its row and column, so that the binder's errors point where Salesforce's do
(``ERROR at Row:1:Column:8``, contracts/salesforce.md §1.8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Position:
    """1-based row and column of a token in the statement."""

    line: int
    column: int


@dataclass(frozen=True)
class FieldPath:
    """``Name`` or ``SBQQ__PrimaryQuote__r.SBQQ__PrimaryContact__r.Email`` as written."""

    parts: tuple[str, ...]
    pos: Position

    @property
    def text(self) -> str:
        """The path as written."""
        return ".".join(self.parts)


@dataclass(frozen=True)
class StringLit:
    """A quoted string; ``raw`` is the body with its escapes still in (see soql_literals)."""

    raw: str
    pos: Position


@dataclass(frozen=True)
class NumberLit:
    """A numeric literal, kept exact."""

    value: Decimal
    text: str
    pos: Position


@dataclass(frozen=True)
class BoolLit:
    """``true`` or ``false``."""

    value: bool
    pos: Position


@dataclass(frozen=True)
class NullLit:
    """``null``."""

    pos: Position


@dataclass(frozen=True)
class DateLit:
    """An unquoted date, ``2025-06-30`` (§1.4)."""

    value: date
    pos: Position


@dataclass(frozen=True)
class DateTimeLit:
    """An unquoted dateTime, ``2025-06-30T12:00:00Z`` or with an offset (§1.4); aware."""

    value: datetime
    pos: Position


@dataclass(frozen=True)
class RelativeDateLit:
    """A date literal such as ``TODAY`` or ``LAST_N_DAYS:30``; ``n`` is None for fixed ones."""

    name: str
    n: int | None
    pos: Position


Literal = StringLit | NumberLit | BoolLit | NullLit | DateLit | DateTimeLit | RelativeDateLit


@dataclass(frozen=True)
class Compare:
    """``field <op> literal``; ``op`` is one of ``= != < <= > >=`` (``<>`` arrives as ``!=``)."""

    path: FieldPath
    op: str
    value: Literal


@dataclass(frozen=True)
class InList:
    """``field [NOT] IN (literal, …)``."""

    path: FieldPath
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    """``field LIKE 'pattern'``."""

    path: FieldPath
    pattern: Literal


@dataclass(frozen=True)
class And:
    """Conditions joined by AND (SOQL forbids mixing AND and OR without parentheses)."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    """Conditions joined by OR."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """``NOT condition``."""

    part: Condition


Condition = Compare | InList | Like | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    """``field [ASC|DESC] [NULLS FIRST|LAST]``; ``nulls_first`` is None when not written."""

    path: FieldPath
    descending: bool
    nulls_first: bool | None


@dataclass(frozen=True)
class CountAll:
    """``COUNT()``: the answer is only ``totalSize``."""

    pos: Position


@dataclass(frozen=True)
class CountField:
    """``COUNT(field) [alias]``: one AggregateResult row."""

    path: FieldPath
    alias: str | None
    pos: Position


@dataclass(frozen=True)
class Query:
    """One SELECT: the statement itself, or a child subquery inside its field list."""

    items: tuple[SelectItem, ...]
    source: FieldPath
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    offset_pos: Position | None
    pos: Position


SelectItem = FieldPath | Query | CountAll | CountField
