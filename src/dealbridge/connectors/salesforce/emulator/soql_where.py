"""Type-checking a WHERE clause: every literal must suit its field, as Salesforce insists.

A date field takes only a date or a date literal, a dateTime field only a dateTime or a date
literal (§1.4), text fields only quoted strings, numbers and booleans only bare values. A
mismatch is INVALID_FIELD "value of filter criterion for field 'X' must be of type date and
should not be enclosed in quotes" — the wording of public error logs, which quote the code as
INVALID_FIELD in two independent projects and MALFORMED_QUERY in one (UNCONFIRMED; INVALID_FIELD
chosen). An id that is not 15 or 18 characters, and LIKE on a non-text field, are
INVALID_QUERY_FILTER_OPERATOR ("invalid ID field: abc", "invalid operator on id field").
"""

from __future__ import annotations

from collections.abc import Callable

from dealbridge.connectors.salesforce.emulator import soql_ast as ast
from dealbridge.connectors.salesforce.emulator import soql_plan as plan
from dealbridge.connectors.salesforce.emulator.schema_types import (
    ID_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    FieldDef,
    FieldType,
    SObjectDef,
)
from dealbridge.connectors.salesforce.emulator.soql_errors import (
    invalid_field,
    invalid_operator,
    malformed,
)
from dealbridge.connectors.salesforce.emulator.soql_literals import (
    LiteralError,
    like_pattern,
    plain_string,
)
from dealbridge.connectors.salesforce.emulator.soql_values import id_key
from dealbridge.connectors.salesforce.models import is_salesforce_id

Resolve = Callable[[ast.FieldPath, SObjectDef], plan.BoundPath]

# How a type is named in "must be of type X" (Salesforce's SOAP type names).
_TYPE_WORDS = {
    FieldType.INT: "integer",
    FieldType.DOUBLE: "double",
    FieldType.CURRENCY: "currency",
    FieldType.PERCENT: "double",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
    FieldType.DATETIME: "dateTime",
    FieldType.ID: "id",
    FieldType.REFERENCE: "id",
}
_QUOTED = TEXT_TYPES | ID_TYPES


class WhereBinder:
    """Binds one statement's conditions; ``resolve`` turns a written path into a field."""

    def __init__(self, soql: str, resolve: Resolve) -> None:
        self._soql = soql
        self._resolve = resolve

    def condition(self, cond: ast.Condition, defn: SObjectDef) -> plan.BoundCondition:
        """Check ``cond`` against ``defn`` and type its literals."""
        if isinstance(cond, ast.And):
            return plan.BAnd(tuple(self.condition(part, defn) for part in cond.parts))
        if isinstance(cond, ast.Or):
            return plan.BOr(tuple(self.condition(part, defn) for part in cond.parts))
        if isinstance(cond, ast.Not):
            return plan.BNot(self.condition(cond.part, defn))
        path = self._filterable(cond.path, defn)
        if isinstance(cond, ast.Compare):
            return plan.BCompare(path, cond.op, self._literal(path.field, cond.value))
        if isinstance(cond, ast.InList):
            values = tuple(self._literal(path.field, value) for value in cond.values)
            return plan.BIn(path, values, cond.negated)
        return self._like(path, cond)

    def _filterable(self, written: ast.FieldPath, defn: SObjectDef) -> plan.BoundPath:
        path = self._resolve(written, defn)
        if not path.field.filterable:
            reason = f"field '{path.field.name}' can not be filtered in query call"
            raise invalid_field(self._soql, written.pos, reason)
        return path

    def _like(self, path: plan.BoundPath, cond: ast.Like) -> plan.BLike:
        fdef = path.field
        if fdef.type not in TEXT_TYPES:
            word = _TYPE_WORDS.get(fdef.type, fdef.type.value)
            reason = f"invalid operator on {word} field"
            raise invalid_operator(self._soql, cond.path.pos, reason)
        if isinstance(cond.pattern, ast.NullLit):
            return plan.BLike(path, None)
        if not isinstance(cond.pattern, ast.StringLit):
            raise self._mismatch(fdef, cond.pattern)
        try:
            return plan.BLike(path, like_pattern(cond.pattern.raw))
        except LiteralError as error:
            raise malformed(self._soql, cond.pattern.pos, str(error)) from None

    def _literal(self, fdef: FieldDef, literal: ast.Literal) -> plan.Value:
        """The typed value of ``literal`` compared with ``fdef``."""
        if isinstance(literal, ast.NullLit):
            return None
        if fdef.type in _QUOTED:
            return self._quoted(fdef, literal)
        if fdef.type is FieldType.BOOLEAN and isinstance(literal, ast.BoolLit):
            return literal.value
        if fdef.type in NUMBER_TYPES and isinstance(literal, ast.NumberLit):
            return float(literal.value)
        return self._temporal(fdef, literal)

    def _quoted(self, fdef: FieldDef, literal: ast.Literal) -> plan.Value:
        if not isinstance(literal, ast.StringLit):
            raise self._mismatch(fdef, literal)
        try:
            text = plain_string(literal.raw)
        except LiteralError as error:
            raise malformed(self._soql, literal.pos, str(error)) from None
        if fdef.type not in ID_TYPES:
            return text.upper()  # text compares case-insensitively
        if text == "":
            return None  # an empty id is no id: it matches only an empty lookup
        if not is_salesforce_id(text):
            raise invalid_operator(self._soql, literal.pos, f"invalid ID field: {text}")
        return id_key(text)

    def _temporal(self, fdef: FieldDef, literal: ast.Literal) -> plan.Value:
        if isinstance(literal, ast.RelativeDateLit) and fdef.type in (
            FieldType.DATE,
            FieldType.DATETIME,
        ):
            return plan.RelativeDate(literal.name, literal.n)
        if fdef.type is FieldType.DATE and isinstance(literal, ast.DateLit):
            return literal.value
        if fdef.type is FieldType.DATETIME and isinstance(literal, ast.DateTimeLit):
            return literal.value
        raise self._mismatch(fdef, literal)

    def _mismatch(self, fdef: FieldDef, literal: ast.Literal) -> Exception:
        quoted = fdef.type in _QUOTED
        word = "string" if fdef.type in TEXT_TYPES else _TYPE_WORDS[fdef.type]
        advice = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        reason = (
            f"value of filter criterion for field '{fdef.name}' must be of type {word} and {advice}"
        )
        return invalid_field(self._soql, literal.pos, reason)


def id_lookups(where: ast.Condition | None, defn: SObjectDef) -> tuple[str, ...] | None:
    """Ids the statement pins with ``Id = '…'`` or ``Id IN (…)`` at its top level, if any.

    Run after binding, so every id literal here is known to be well formed.
    """
    conditions = where.parts if isinstance(where, ast.And) else (where,)
    for cond in conditions:
        if isinstance(cond, ast.Compare) and cond.op == "=" and _is_own_id(cond.path, defn):
            return _ids((cond.value,))
        if isinstance(cond, ast.InList) and not cond.negated and _is_own_id(cond.path, defn):
            return _ids(cond.values)
    return None


def reference_lookup(where: ast.Condition | None, defn: SObjectDef) -> tuple[str, str] | None:
    """``(field, parent id)`` when the WHERE pins a lookup with ``Field = '…'`` at its top level.

    Why: a quote's lines (``WHERE SBQQ__Quote__c = '…'``) are then read through the store's
    reference index instead of a scan of every line in the org, which made each query cost time
    in proportion to the org's size. The WHERE still filters the rows, so this only narrows.
    """
    conditions = where.parts if isinstance(where, ast.And) else (where,)
    for cond in conditions:
        if not isinstance(cond, ast.Compare) or cond.op != "=":
            continue
        fdef = _own_reference(cond.path, defn)
        found = _ids((cond.value,)) if fdef is not None else ()
        if fdef is not None and found and is_salesforce_id(found[0]):
            return fdef.name, found[0]
    return None


def _own_reference(path: ast.FieldPath, defn: SObjectDef) -> FieldDef | None:
    parts = list(path.parts)
    if len(parts) == 2 and parts[0].lower() == defn.name.lower():
        parts = parts[1:]
    fdef = defn.field(parts[0]) if len(parts) == 1 else None
    return fdef if fdef is not None and fdef.type is FieldType.REFERENCE else None


def _is_own_id(path: ast.FieldPath, defn: SObjectDef) -> bool:
    parts = [part.lower() for part in path.parts]
    return parts == ["id"] or parts == [defn.name.lower(), "id"]


def _ids(values: tuple[ast.Literal, ...]) -> tuple[str, ...]:
    texts = (plain_string(v.raw) for v in values if isinstance(v, ast.StringLit))
    return tuple(text for text in texts if text)
