r"""The ``q`` parameter of record collections: ``field OP value`` joined by AND / OR and ``()``.

Contracts §2.3 and Oracle's "Record Collection Filtering" (O:section_1545222128): operators by
field type, ``EMPTY``/``EMPTY_NOT`` take no value, ``BETWEEN`` two values and ``ANY_OF`` any
number, written as a bracketed list (``id ANY_OF [1, 2]``, ``id BETWEEN [1, 42]``). Every
operator has an ``_NOT`` form. Strings may be double-quoted (``\\"`` escapes a quote) or bare;
matching is case-insensitive, as NetSuite searches are. AND binds tighter than OR. Dates are
``YYYY-MM-DD`` or NetSuite's default ``M/D/YYYY``. Anything else is 400 ``INVALID_PARAMETER``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.record_errors import invalid_parameter
from dealbridge.connectors.netsuite.emulator.schema_types import Kind, RecordDef, is_custom_field

View = Mapping[str, Any]  # a record's values by lower-case field name, plus id and externalid
Predicate = Callable[[View], bool]
Test = Callable[[Any], bool]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[()\[\],]|[^\s()\[\],"]+')
_ALIASES = {"NOT_EQUAL": "EQUAL_NOT", "ENDWITH": "END_WITH", "ENDWITH_NOT": "END_WITH_NOT"}
_ARITY = {"EMPTY": 0, "ANY_OF": -1, "BETWEEN": 2, "WITHIN": 2}
_FAMILY_OPS = {
    "text": {"IS", "CONTAIN", "START_WITH", "END_WITH", "ANY_OF", "EMPTY"},
    "number": {
        "IS",
        "EQUAL",
        "GREATER",
        "LESS",
        "GREATER_OR_EQUAL",
        "LESS_OR_EQUAL",
        "BETWEEN",
        "WITHIN",
        "ANY_OF",
        "EMPTY",
    },
    "date": {"ON", "AFTER", "BEFORE", "ON_OR_AFTER", "ON_OR_BEFORE", "BETWEEN", "WITHIN", "EMPTY"},
    "bool": {"IS", "EMPTY"},
}
_FAMILY = {
    Kind.STRING: "text",
    Kind.ENUM: "text",
    Kind.SELECT: "text",
    Kind.INT: "number",
    Kind.FLOAT: "number",
    Kind.REF: "number",
    Kind.DATE: "date",
    Kind.DATETIME: "date",
    Kind.BOOL: "bool",
}
_ALL_OPS = set().union(*_FAMILY_OPS.values())


def bad_query(reason: str) -> NetSuiteProblem:
    """400 ``INVALID_PARAMETER`` naming what is wrong with ``q``."""
    return invalid_parameter(f"Invalid query parameter q: {reason}.")


def compile_query(q: str, definition: RecordDef) -> Predicate:
    """A predicate over record views; raises 400 ``INVALID_PARAMETER`` for a bad ``q``."""
    parser = _Parser(_tokenize(q), definition)
    predicate = parser.expression()
    if not parser.at_end():
        raise bad_query(f"unexpected {parser.peek()!r}")
    return predicate


def record_view(record_id: int, ext_id: str | None, doc: Mapping[str, Any]) -> dict[str, Any]:
    """What ``q`` sees of a record."""
    view = {name.lower(): value for name, value in doc.items()}
    view.update(id=record_id, externalid=ext_id)
    return view


def _tokenize(q: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    for match in _TOKEN.finditer(q):
        if q[position : match.start()].strip():
            raise bad_query("unterminated string")
        tokens.append(match.group())
        position = match.end()
    if q[position:].strip():
        raise bad_query("unterminated string")
    if not tokens:
        raise bad_query("empty query")
    return tokens


class _Parser:
    """Recursive descent: expression := term (OR term)*; term := factor (AND factor)*."""

    def __init__(self, tokens: list[str], definition: RecordDef) -> None:
        self._tokens = tokens
        self._pos = 0
        self._def = definition

    def at_end(self) -> bool:
        return self._pos >= len(self._tokens)

    def peek(self) -> str:
        return self._tokens[self._pos] if not self.at_end() else ""

    def _next(self, what: str) -> str:
        if self.at_end():
            raise bad_query(f"{what} expected at the end")
        self._pos += 1
        return self._tokens[self._pos - 1]

    def _accept(self, word: str) -> bool:
        if self.peek().upper() == word:
            self._pos += 1
            return True
        return False

    def expression(self) -> Predicate:
        parts = [self._term()]
        while self._accept("OR"):
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else (lambda v: any(p(v) for p in parts))

    def _term(self) -> Predicate:
        parts = [self._factor()]
        while self._accept("AND"):
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else (lambda v: all(p(v) for p in parts))

    def _factor(self) -> Predicate:
        if self._accept("("):
            inner = self.expression()
            if not self._accept(")"):
                raise bad_query("missing ')'")
            return inner
        return self._condition()

    def _condition(self) -> Predicate:
        field = self._next("a field name")
        family = self._family(field)
        operator = self._next("an operator").upper()
        operator = _ALIASES.get(operator, operator)
        negate = operator.endswith("_NOT") and operator not in _ALL_OPS
        base = operator.removesuffix("_NOT") if negate else operator
        if base not in _FAMILY_OPS[family]:
            raise bad_query(f"operator {operator} does not apply to field {field}")
        test = _make_test(base, family, self._arguments(_ARITY.get(base, 1)))
        column = field.lower()
        if negate:
            return lambda v: not test(v.get(column))
        return lambda v: test(v.get(column))

    def _family(self, field: str) -> str:
        if field.lower() == "id":
            return "number"
        if field.lower() == "externalid" or is_custom_field(field) or self._def.free_fields:
            return "text"
        fdef = self._def.field(field)
        if fdef is None or fdef.kind not in _FAMILY:
            raise bad_query(f"unknown field {field}")
        return _FAMILY[fdef.kind]

    def _arguments(self, arity: int) -> list[str]:
        if arity == 0:
            return []
        if not self._accept("["):
            if arity == 2:
                raise bad_query("BETWEEN takes two values in brackets, e.g. [1, 42]")
            return [self._value()]
        values = [self._value()]
        while self._accept(","):
            values.append(self._value())
        if not self._accept("]"):
            raise bad_query("missing ']'")
        if arity > 0 and len(values) != arity:
            raise bad_query(f"{arity} values expected, {len(values)} given")
        return values

    def _value(self) -> str:
        token = self._next("a value")
        if token in ("(", ")", "[", "]", ","):
            raise bad_query(f"a value expected, {token!r} found")
        if token.startswith('"'):
            return re.sub(r"\\(.)", r"\1", token[1:-1])
        return token


def _make_test(operator: str, family: str, args: list[str]) -> Test:
    if operator == "EMPTY":
        return lambda value: value in (None, "")
    return _BUILDERS[family](operator, args)


def _text_test(operator: str, args: list[str]) -> Test:
    wanted = [a.lower() for a in args]
    checks: dict[str, Callable[[str], bool]] = {
        "IS": lambda s: s == wanted[0],
        "CONTAIN": lambda s: wanted[0] in s,
        "START_WITH": lambda s: s.startswith(wanted[0]),
        "END_WITH": lambda s: s.endswith(wanted[0]),
        "ANY_OF": lambda s: s in wanted,
    }
    check = checks[operator]
    return lambda value: value is not None and check(str(value).lower())


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise bad_query(f"{text!r} is not a number") from None


def _date(text: str) -> date:
    for layout in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise bad_query(f"{text!r} is not a date (YYYY-MM-DD or M/D/YYYY)")


def _ordered_test(operator: str, args: list[Any]) -> Callable[[Any], bool]:
    """Comparisons shared by numbers and dates, on already converted values."""
    first = args[0]
    checks: dict[str, Callable[[Any], bool]] = {
        "IS": lambda x: x == first,
        "EQUAL": lambda x: x == first,
        "ON": lambda x: x == first,
        "GREATER": lambda x: x > first,
        "AFTER": lambda x: x > first,
        "LESS": lambda x: x < first,
        "BEFORE": lambda x: x < first,
        "GREATER_OR_EQUAL": lambda x: x >= first,
        "ON_OR_AFTER": lambda x: x >= first,
        "LESS_OR_EQUAL": lambda x: x <= first,
        "ON_OR_BEFORE": lambda x: x <= first,
        "ANY_OF": lambda x: x in args,
        "BETWEEN": lambda x: args[0] <= x <= args[-1],
        "WITHIN": lambda x: args[0] <= x <= args[-1],
    }
    return checks[operator]


def _number_test(operator: str, args: list[str]) -> Test:
    check = _ordered_test(operator, [_number(a) for a in args])

    def test(value: Any) -> bool:
        try:
            return value is not None and check(float(value))
        except (TypeError, ValueError):
            return False

    return test


def _date_test(operator: str, args: list[str]) -> Test:
    check = _ordered_test(operator, [_date(a) for a in args])

    def test(value: Any) -> bool:
        if not isinstance(value, str) or len(value) < 10:
            return False
        try:
            return check(date.fromisoformat(value[:10]))
        except ValueError:
            return False

    return test


def _bool_test(operator: str, args: list[str]) -> Test:
    word = args[0].lower()
    if word not in ("true", "false"):
        raise bad_query(f"{args[0]!r} is not true or false")
    wanted = word == "true"
    return lambda value: (value is True) == wanted


_BUILDERS: dict[str, Callable[[str, list[str]], Test]] = {
    "text": _text_test,
    "number": _number_test,
    "date": _date_test,
    "bool": _bool_test,
}
