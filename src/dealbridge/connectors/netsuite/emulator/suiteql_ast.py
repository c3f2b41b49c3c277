"""The SuiteQL syntax tree: what the parser produces and the compiler consumes.

Frozen dataclasses with tuples only, so a parsed query is hashable, can be memoised and shared
between threads, and two references to the same column compare equal (GROUP BY matching).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral


@dataclass(frozen=True)
class Column:
    """A column reference; ``qualifier`` is a table alias (or name) when written ``t.col``."""

    qualifier: str | None
    name: str

    @property
    def text(self) -> str:
        """The reference as written (lower-cased), for error messages."""
        return f"{self.qualifier}.{self.name}" if self.qualifier else self.name


@dataclass(frozen=True)
class Literal:
    """A string, number or NULL written in the query."""

    value: str | int | float | None


@dataclass(frozen=True)
class Call:
    """A function or aggregate call; ``star`` is ``COUNT(*)``; names are lower-case, dotted."""

    name: str
    args: tuple[Expr, ...] = ()
    star: bool = False
    distinct: bool = False


Expr = Column | Literal | Call


@dataclass(frozen=True)
class Compare:
    """``left op right`` with op one of = <> != < > <= >=."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList:
    """``operand [NOT] IN (items)``."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    """``operand [NOT] LIKE pattern [ESCAPE escape]``."""

    operand: Expr
    pattern: Expr
    escape: Expr | None
    negated: bool


@dataclass(frozen=True)
class IsNull:
    """``operand IS [NOT] NULL``."""

    operand: Expr
    negated: bool


@dataclass(frozen=True)
class Between:
    """``operand [NOT] BETWEEN low AND high`` (inclusive)."""

    operand: Expr
    low: Expr
    high: Expr
    negated: bool


@dataclass(frozen=True)
class And:
    """Conjunction of two or more conditions."""

    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more conditions."""

    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    """Negation of a condition."""

    part: Cond


Cond = Compare | InList | Like | IsNull | Between | And | Or | Not


@dataclass(frozen=True)
class SelectItem:
    """One output column: an expression and its optional alias."""

    expr: Expr
    alias: str | None


@dataclass(frozen=True)
class Star:
    """``*`` (qualifier None) or ``t.*``."""

    qualifier: str | None


@dataclass(frozen=True)
class TableRef:
    """A table in FROM or JOIN; ``label`` is how columns may qualify it."""

    name: str
    alias: str | None

    @property
    def label(self) -> str:
        """The alias if given, else the table name."""
        return self.alias or self.name


@dataclass(frozen=True)
class Join:
    """``[INNER|LEFT [OUTER]] JOIN table ON condition``."""

    kind: TypingLiteral["inner", "left"]
    table: TableRef
    on: Cond


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key; ``nulls_last`` None means Oracle's default for the direction."""

    expr: Expr
    descending: bool
    nulls_last: bool | None


@dataclass(frozen=True)
class Query:
    """A whole SELECT statement."""

    distinct: bool
    top: int | None
    items: tuple[SelectItem | Star, ...]
    table: TableRef
    joins: tuple[Join, ...]
    where: Cond | None
    group_by: tuple[Expr, ...]
    having: Cond | None
    order_by: tuple[OrderItem, ...]
    fetch: int | None
