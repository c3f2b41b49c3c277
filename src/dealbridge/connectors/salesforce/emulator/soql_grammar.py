"""The SOQL dialect the emulator understands: its lark grammar, its parser, its syntax errors.

The subset of contracts/salesforce.md §1.2-§1.4 and §6: field lists with dot paths, child
subqueries (nested), ``COUNT()`` / ``COUNT(field)``, WHERE with AND / OR / NOT and parentheses,
comparisons, ``[NOT] IN``, ``LIKE``, every literal of §1.4, ORDER BY … NULLS FIRST|LAST, LIMIT
and OFFSET. As in Salesforce, keywords are reserved, and AND and OR cannot be mixed at one level
without parentheses (``a AND b OR c`` is ``unexpected token: 'OR'``).

The LALR parser with its basic lexer is built once per process, and the tree is built by an
inline transformer during the parse; parses are memoised because clients repeat queries.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dealbridge.connectors.salesforce.emulator import soql_ast as ast
from dealbridge.connectors.salesforce.emulator.soql_errors import (
    SoqlError,
    malformed,
    unexpected_token,
)
from dealbridge.connectors.salesforce.emulator.soql_literals import (
    FIXED_DATE_LITERALS,
    N_DATE_LITERALS,
    LiteralError,
    parse_date,
    parse_datetime,
)

GRAMMAR = rf"""
?start: query
query: SELECT _select_list "FROM"i path [where] [order_by] [limit] [offset]
_select_list: select_item ("," select_item)*
?select_item: path
            | "(" query ")"
            | COUNT "(" ")"                 -> count_all
            | COUNT "(" path ")" [NAME]     -> count_field
path: NAME ("." NAME)*

where: "WHERE"i condition
?condition: unary
          | unary ("AND"i unary)+           -> and_
          | unary ("OR"i unary)+            -> or_
?unary: "NOT"i unary                        -> not_
      | "(" condition ")"
      | path OP value                       -> compare
      | path "IN"i "(" _values ")"          -> in_list
      | path "NOT"i "IN"i "(" _values ")"   -> not_in_list
      | path "LIKE"i value                  -> like
_values: value ("," value)*
?value: STRING                              -> string
      | NUMBER                              -> number
      | DATE                                -> date
      | DATETIME                            -> datetime
      | TRUE                                -> true
      | FALSE                               -> false
      | NULL                                -> null
      | DATE_LITERAL                        -> relative_date
      | N_DATE_LITERAL ":" NUMBER           -> relative_date

order_by: "ORDER"i "BY"i order_item ("," order_item)*
order_item: path [ASC | DESC] [_NULLS (FIRST | LAST)]
limit: "LIMIT"i NUMBER
offset: "OFFSET"i NUMBER

SELECT: "SELECT"i
COUNT: "COUNT"i
TRUE: "TRUE"i
FALSE: "FALSE"i
NULL: "NULL"i
ASC: "ASC"i
DESC: "DESC"i
_NULLS: "NULLS"i
FIRST: "FIRST"i
LAST: "LAST"i
DATE_LITERAL.2: /(?i:{"|".join(FIXED_DATE_LITERALS)})\b/
N_DATE_LITERAL.2: /(?i:{"|".join(N_DATE_LITERALS)})\b/
DATETIME.3: /\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}(\.\d+)?(Z|[+-]\d{{2}}:?\d{{2}})/i
DATE.2: /\d{{4}}-\d{{2}}-\d{{2}}/
NUMBER: /-?\d+(\.\d+)?/
OP: /!=|<>|<=|>=|=|<|>/
NAME: /[a-z_][a-z0-9_]*/i
STRING: /'(?:[^'\\]|\\.)*'/s
%ignore /\s+/
"""


class _PositionedError(Exception):
    """Raised inside the transformer, which does not know the statement; parse_soql frames it."""

    def __init__(self, pos: ast.Position, reason: str) -> None:
        super().__init__(pos, reason)
        self.pos = pos
        self.reason = reason


def _pos(token: Token) -> ast.Position:
    return ast.Position(token.line or 1, token.column or 1)


def _integer(token: Token) -> int:
    """LIMIT and OFFSET take whole numbers."""
    text = str(token)
    if not text.isdigit():
        raise _PositionedError(_pos(token), f"unexpected token: '{text}'")
    return int(text)


@v_args(inline=True)
class _TreeBuilder(Transformer[Token, Any]):
    """Builds ``soql_ast`` nodes as the LALR parser reduces (no intermediate tree)."""

    def query(self, select: Token, *rest: Any) -> ast.Query:
        *items, source, where, order_by, limit, offset = rest
        offset_value, offset_pos = offset if offset is not None else (None, None)
        return ast.Query(
            items=tuple(items),
            source=source,
            where=where,
            order_by=order_by or (),
            limit=limit,
            offset=offset_value,
            offset_pos=offset_pos,
            pos=_pos(select),
        )

    def count_all(self, count: Token) -> ast.CountAll:
        return ast.CountAll(_pos(count))

    def count_field(self, count: Token, path: ast.FieldPath, alias: Token | None) -> Any:
        return ast.CountField(path, str(alias) if alias is not None else None, _pos(count))

    def path(self, *names: Token) -> ast.FieldPath:
        return ast.FieldPath(tuple(str(n) for n in names), _pos(names[0]))

    def where(self, condition: ast.Condition) -> ast.Condition:
        return condition

    def and_(self, *parts: ast.Condition) -> ast.And:
        return ast.And(parts)

    def or_(self, *parts: ast.Condition) -> ast.Or:
        return ast.Or(parts)

    def not_(self, part: ast.Condition) -> ast.Not:
        return ast.Not(part)

    def compare(self, path: ast.FieldPath, op: Token, value: ast.Literal) -> ast.Compare:
        return ast.Compare(path, "!=" if op == "<>" else str(op), value)

    def in_list(self, path: ast.FieldPath, *values: ast.Literal) -> ast.InList:
        return ast.InList(path, values, negated=False)

    def not_in_list(self, path: ast.FieldPath, *values: ast.Literal) -> ast.InList:
        return ast.InList(path, values, negated=True)

    def like(self, path: ast.FieldPath, pattern: ast.Literal) -> ast.Like:
        return ast.Like(path, pattern)

    def string(self, token: Token) -> ast.StringLit:
        return ast.StringLit(str(token)[1:-1], _pos(token))

    def number(self, token: Token) -> ast.NumberLit:
        return ast.NumberLit(Decimal(str(token)), str(token), _pos(token))

    def date(self, token: Token) -> ast.DateLit:
        try:
            return ast.DateLit(parse_date(str(token)), _pos(token))
        except LiteralError as error:
            raise _PositionedError(_pos(token), str(error)) from None

    def datetime(self, token: Token) -> ast.DateTimeLit:
        try:
            return ast.DateTimeLit(parse_datetime(str(token)), _pos(token))
        except LiteralError as error:
            raise _PositionedError(_pos(token), str(error)) from None

    def true(self, token: Token) -> ast.BoolLit:
        return ast.BoolLit(True, _pos(token))

    def false(self, token: Token) -> ast.BoolLit:
        return ast.BoolLit(False, _pos(token))

    def null(self, token: Token) -> ast.NullLit:
        return ast.NullLit(_pos(token))

    def relative_date(self, name: Token, n: Token | None = None) -> ast.RelativeDateLit:
        count = _integer(n) if n is not None else None
        return ast.RelativeDateLit(str(name).upper(), count, _pos(name))

    def order_by(self, *items: ast.OrderItem) -> tuple[ast.OrderItem, ...]:
        return items

    def order_item(
        self, path: ast.FieldPath, direction: Token | None, nulls: Token | None
    ) -> ast.OrderItem:
        descending = direction is not None and direction.type == "DESC"
        nulls_first = None if nulls is None else nulls.type == "FIRST"
        return ast.OrderItem(path, descending, nulls_first)

    def limit(self, number: Token) -> int:
        return _integer(number)

    def offset(self, number: Token) -> tuple[int, ast.Position]:
        return _integer(number), _pos(number)


_PARSER = Lark(
    GRAMMAR,
    parser="lalr",
    lexer="basic",
    transformer=_TreeBuilder(),
    maybe_placeholders=True,
    cache=True,  # the grammar analysis is cached in the temp dir: faster emulator start-up
)


@functools.lru_cache(maxsize=512)
def parse_soql(soql: str) -> ast.Query:
    """Parse one SOQL statement (syntax only: names are checked by the binder).

    Raises:
        SoqlError: MALFORMED_QUERY with the row and column at fault.
    """
    try:
        result = _PARSER.parse(soql)
    except _PositionedError as error:
        raise malformed(soql, error.pos, error.reason) from None
    except UnexpectedInput as error:
        raise _syntax_error(soql, error) from None
    if not isinstance(result, ast.Query):  # pragma: no cover - the grammar's start is a query
        raise malformed(soql, ast.Position(1, 1), "unexpected token: '<EOF>'")
    return result


def _syntax_error(soql: str, error: UnexpectedInput) -> SoqlError:
    """Word a lark failure as Salesforce's parser does (``unexpected token: 'X'``)."""
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        return unexpected_token(soql, _pos(error.token), str(error.token))
    if isinstance(error, UnexpectedCharacters):
        pos = ast.Position(error.line, error.column)
        reason = (
            f"line {error.line}:{error.column} no viable alternative at character '{error.char}'"
        )
        return malformed(soql, pos, reason)
    lines = soql.split("\n")
    return unexpected_token(soql, ast.Position(len(lines), len(lines[-1]) + 1), "<EOF>")
