"""Request values in, stored values out: the type, length, date and choice checks of a write.

Stored values are plain JSON: refs as the target's internal id (a string), selects as their id,
dates as ``YYYY-MM-DD``, datetimes as ``YYYY-MM-DDTHH:MM:SSZ`` (contracts §2). ``None`` in a
change set means "clear this field" (PATCH with ``null``, contracts §2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.record_errors import (
    invalid_content,
    invalid_key,
    missing_value,
    too_long,
)
from dealbridge.connectors.netsuite.emulator.schema_types import FieldDef, Kind, is_custom_field

# (field, raw value, error path) -> internal id of the referenced record, or None to clear.
RefResolver = Callable[[FieldDef, Any, str], str | None]

# Keys a client may echo back from a GET; they are output only and never refused.
ECHOED_KEYS = frozenset({"links", "id", "refname"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXPECTED = {
    Kind.STRING: "a string",
    Kind.INT: "an integer",
    Kind.FLOAT: "a number",
    Kind.BOOL: "a boolean",
    Kind.SUBRECORD: "an object",
}


def unknown_field(name: str, path: str) -> NetSuiteProblem:
    """400 ``INVALID_CONTENT`` for a field the record does not have (strict mode only)."""
    return invalid_content(f"Invalid field name {name}: the record has no such field.", path)


def wrong_type(fdef: FieldDef, path: str) -> NetSuiteProblem:
    """400 ``INVALID_CONTENT`` for a JSON value of the wrong type."""
    expected = _EXPECTED.get(fdef.kind, "a valid value")
    return invalid_content(f"Invalid value for field {fdef.name}: expected {expected}.", path)


def parse_date(raw: str) -> date | None:
    """A strict ``YYYY-MM-DD`` date, or None (SuiteBilling insists on this form, §2)."""
    if not _DATE.match(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def utc_stamp(moment: datetime) -> str:
    """A datetime as NetSuite returns it: ISO 8601 in UTC (§2)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FieldWriter:
    """Checks and converts the fields of one request.

    Args:
        resolve_ref: Looks a reference up; raises ``INVALID_KEY_OR_REF`` when it names nothing.
        strict: Refuse unknown field names (``X-NetSuite-PropertyNameValidation: error``, §2);
            otherwise they are dropped. NetSuite's default mode is UNCONFIRMED (§2); dropping
            them matches a lenient default.
    """

    def __init__(self, resolve_ref: RefResolver, *, strict: bool) -> None:
        self._resolve_ref = resolve_ref
        self._strict = strict

    def fields(
        self,
        known: Callable[[str], FieldDef | None],
        raw: Mapping[str, Any],
        path: str = "",
        *,
        skip: Callable[[str], bool] = lambda _name: False,
        free: bool = False,
    ) -> dict[str, Any]:
        """The change set of one object: body, sublist line or subrecord.

        Args:
            known: Finds a field definition by name.
            raw: The request object.
            path: ``o:errorPath`` prefix, e.g. ``member.items[0].``.
            skip: Names handled elsewhere (sublists).
            free: Any name is a field (custom record types).
        """
        changes: dict[str, Any] = {}
        for name, value in raw.items():
            fdef = known(name)
            if fdef is not None:
                if not fdef.read_only:
                    changes[fdef.name] = self.value(fdef, value, path + fdef.name)
            elif is_custom_field(name):
                changes[name.lower()] = value
            elif free:
                changes[name] = value
            elif not skip(name) and name.lower() not in ECHOED_KEYS and self._strict:
                raise unknown_field(name, path + name)
        return changes

    def value(self, fdef: FieldDef, raw: Any, path: str) -> Any:
        """The stored form of one value, or a 400 naming ``path``."""
        if raw is None:
            return None
        if fdef.kind is Kind.REF:
            return self._resolve_ref(fdef, raw, path)
        if fdef.kind is Kind.SUBRECORD:
            return self._subrecord(fdef, raw, path)
        return _CONVERTERS[fdef.kind](fdef, raw, path)

    def _subrecord(self, fdef: FieldDef, raw: Any, path: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise wrong_type(fdef, path)
        changes = self.fields(lambda n: fdef.subfield_index.get(n.lower()), raw, path + ".")
        return {k: v for k, v in changes.items() if v is not None}


def _string(fdef: FieldDef, raw: Any, path: str) -> str:
    if not isinstance(raw, str):
        raise wrong_type(fdef, path)
    if fdef.max_length is not None and len(raw) > fdef.max_length:
        raise too_long(fdef.name, fdef.max_length, path)
    return raw


def _integer(fdef: FieldDef, raw: Any, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise wrong_type(fdef, path)
    return raw


def _number(fdef: FieldDef, raw: Any, path: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise wrong_type(fdef, path)
    return float(raw)


def _boolean(fdef: FieldDef, raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise wrong_type(fdef, path)
    return raw


def _date(fdef: FieldDef, raw: Any, path: str) -> str | None:
    if raw == "":
        return None
    if not isinstance(raw, str) or parse_date(raw) is None:
        detail = f"Invalid date value {raw} for field {fdef.name}. Use the format YYYY-MM-DD."
        raise invalid_content(detail, path)
    return raw


def _datetime(fdef: FieldDef, raw: Any, path: str) -> str | None:
    if raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise invalid_content(f"Invalid date/time value {raw} for field {fdef.name}.", path)
    return utc_stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _choice_text(fdef: FieldDef, raw: Any, path: str) -> str:
    """An enum or select value as a string; ``{"id": …}`` is unwrapped for both."""
    if isinstance(raw, dict) and "id" in raw:
        raw = raw["id"]
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise invalid_content(f"Invalid value for field {fdef.name}: expected a list value.", path)
    return str(raw)


def _enum(fdef: FieldDef, raw: Any, path: str) -> str:
    value = _choice_text(fdef, raw, path)
    if fdef.choices and value not in fdef.choices:
        allowed = ", ".join(repr(c) for c in fdef.choices)
        raise invalid_content(
            f"Invalid value {value!r} for field {fdef.name}. Valid values: {allowed}.", path
        )
    return value


def _select(fdef: FieldDef, raw: Any, path: str) -> str | None:
    value = _choice_text(fdef, raw, path)
    if value == "":
        return None
    if fdef.choices and value not in fdef.choices:
        raise invalid_key(value, fdef.name, path)
    return value


_CONVERTERS: dict[Kind, Callable[[FieldDef, Any, str], Any]] = {
    Kind.STRING: _string,
    Kind.INT: _integer,
    Kind.FLOAT: _number,
    Kind.BOOL: _boolean,
    Kind.DATE: _date,
    Kind.DATETIME: _datetime,
    Kind.ENUM: _enum,
    Kind.SELECT: _select,
}


def is_required(fdef: FieldDef, doc: Mapping[str, Any]) -> bool:
    """Whether ``fdef`` must have a value in ``doc`` (switch fields included)."""
    if fdef.required_if:
        return doc.get(fdef.required_if) is True
    if fdef.required_unless:
        return doc.get(fdef.required_unless) is not True
    return fdef.required


def check_required(fields: Iterable[FieldDef], doc: Mapping[str, Any], path: str = "") -> None:
    """Refuse a record or line that leaves a mandatory field empty."""
    for fdef in fields:
        if is_required(fdef, doc) and doc.get(fdef.name) in (None, ""):
            raise missing_value(fdef.caption, path + fdef.name)


def apply_defaults(fields: Iterable[FieldDef], doc: dict[str, Any]) -> None:
    """Fill the defaults NetSuite shows on a new record or line (false checkboxes…)."""
    for fdef in fields:
        if fdef.default is not None and fdef.name not in doc:
            doc[fdef.name] = fdef.default


def apply_changes(doc: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Merge a change set: a value sets, ``None`` clears, absence leaves unchanged (§2)."""
    for name, value in changes.items():
        if value is None:
            doc.pop(name, None)
        else:
            doc[name] = value
