"""Stored field values read three ways: for comparison, for sorting, and for the REST JSON.

The store may hold a value in its natural Python type or in its wire form (a date as
``date`` or ``"2025-06-30"``, a number as ``float``, ``Decimal`` or text); everything here
accepts both. Comparison follows SOQL: text compares case-insensitively, ids compare in their
case-safe 18-character form whichever length was written, booleans are never null. The JSON
forms are §1.2's: ``"2025-03-31"``, ``"2013-05-20T20:49:32.000+0000"`` (UTC), numbers as JSON
numbers — ``10.0`` for double/currency/percent, ``12`` for int.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dealbridge.connectors.salesforce.emulator.schema_types import (
    ID_TYPES,
    NUMBER_TYPES,
    FieldDef,
    FieldType,
)
from dealbridge.connectors.salesforce.models import is_salesforce_id, to_id18

Row = Mapping[str, Any]
Converter = Callable[[Any], Any]


def id_key(value: str) -> str:
    """An id in a form that equals for its 15- and 18-character spellings."""
    return to_id18(value).lower() if is_salesforce_id(value) else value.lower()


def as_date(value: Any) -> date | None:
    """A stored date (``date``, ``datetime`` or ISO text) as a ``date``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> datetime | None:
    """A stored dateTime as an aware UTC ``datetime``; naive values are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def as_bool(value: Any) -> bool:
    """Checkboxes are never null: a missing value reads as false."""
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def as_number(value: Any) -> float | None:
    """Any stored number as a float (the precision SOQL comparisons need here)."""
    if value is None or value == "":
        return None
    return float(value)


def comparable(fdef: FieldDef) -> Converter:
    """How to read ``fdef``'s stored value for WHERE comparisons."""
    kind = fdef.type
    if kind in ID_TYPES:
        return lambda v: id_key(str(v)) if v else None
    if kind is FieldType.BOOLEAN:
        return as_bool
    if kind in NUMBER_TYPES:
        return as_number
    if kind is FieldType.DATE:
        return as_date
    if kind is FieldType.DATETIME:
        return as_datetime
    return lambda v: str(v).upper() if v is not None else None


def sortable(fdef: FieldDef) -> Converter:
    """How to read ``fdef``'s value for ORDER BY: text by its upper-case form (English locale)."""
    if fdef.type in ID_TYPES:
        return lambda v: str(v) if v else None
    return comparable(fdef)


def to_wire(fdef: FieldDef) -> Converter:
    """How to write ``fdef``'s stored value into a REST record (§1.2)."""
    kind = fdef.type
    if kind is FieldType.BOOLEAN:
        return as_bool
    if kind is FieldType.INT:
        return lambda v: None if v is None or v == "" else int(Decimal(str(v)))
    if kind in NUMBER_TYPES:
        return as_number
    if kind is FieldType.DATE:
        return lambda v: _iso_date(as_date(v))
    if kind is FieldType.DATETIME:
        return lambda v: format_datetime(as_datetime(v))
    return lambda v: None if v is None else str(v)


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def format_datetime(value: datetime | None) -> str | None:
    """``2013-05-20T20:49:32.000+0000``: UTC, milliseconds, offset without a colon (§1.2)."""
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def field_getter(fdef: FieldDef, convert: Converter) -> Callable[[Row], Any]:
    """Reads ``fdef`` from a row and converts it in one call (rendering's inner loop)."""
    if fdef.name == "Name":  # may need computing, see stored()
        return lambda row: convert(stored(row, fdef))
    name = fdef.name
    return lambda row: convert(row.get(name))


def stored(row: Row, fdef: FieldDef) -> Any:
    """The raw value of ``fdef`` on ``row``, computing the fields the org derives.

    ``Contact.Name`` is the compound of FirstName and LastName; a store that does not keep it
    still answers for it.
    """
    value = row.get(fdef.name)
    if value is None and fdef.name == "Name" and "LastName" in row:
        parts = (row.get("FirstName"), row.get("LastName"))
        value = " ".join(str(part) for part in parts if part) or None
    return value
