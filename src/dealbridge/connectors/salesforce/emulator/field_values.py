"""What a client may write into a field, and the errors Salesforce answers when it may not.

One function per concern: the body's field names (unknown → ``INVALID_FIELD``; read-only →
``INVALID_FIELD_FOR_INSERT_UPDATE``), each value against its field type, and the required
fields of a create (contracts §1.8). Values are normalized to the form the store keeps and the
REST API returns (§1.2): dates ``YYYY-MM-DD``, datetimes ``…T…000+0000`` in UTC, references as
18-character Ids.

Wording: Salesforce's JSON parser refuses a value of the wrong JSON type (``"yes"`` for a
checkbox, ``"abc"`` for a number, a malformed date) with 400 ``JSON_PARSER_ERROR`` and a
"Cannot deserialize instance of …" message, before any field-level validation runs; that code is
used here. ``INVALID_TYPE_ON_FIELD_IN_RECORD`` is what Apex/SOAP report for the same mistake —
REST clients do not see it for JSON bodies (observed in public error reports, UNCONFIRMED in docs).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from dealbridge.connectors.salesforce.emulator.schema_types import (
    ID_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    FieldDef,
    FieldType,
    SObjectDef,
)
from dealbridge.connectors.salesforce.emulator.wire import JSON_PARSER_ERROR, SalesforceApiError
from dealbridge.connectors.salesforce.models import (
    INVALID_FIELD,
    REQUIRED_FIELD_MISSING,
    is_salesforce_id,
    to_id18,
)

INVALID_FIELD_FOR_INSERT_UPDATE = "INVALID_FIELD_FOR_INSERT_UPDATE"
STRING_TOO_LONG = "STRING_TOO_LONG"
INVALID_EMAIL_ADDRESS = "INVALID_EMAIL_ADDRESS"
MALFORMED_ID = "MALFORMED_ID"
ID_IN_BODY_MESSAGE = "The Id field should not be specified in the sobject data."  # §1.5 [R10]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_SUFFIX = re.compile(r"([+-]\d{2}):?(\d{2})$")


def writable_fields(defn: SObjectDef, body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The body's values under canonical field names, each checked against its field.

    ``attributes`` (sent by collections and by clients echoing a record) is ignored.

    Raises:
        SalesforceApiError: 400 ``INVALID_FIELD`` for an unknown field or an ``Id``;
            ``INVALID_FIELD_FOR_INSERT_UPDATE`` for read-only fields; a value error otherwise.
    """
    values: dict[str, Any] = {}
    read_only: list[str] = []
    for name, value in body.items():
        if name == "attributes":
            continue
        field = defn.field(name)
        if field is None:
            raise SalesforceApiError(
                400, INVALID_FIELD, f"No such column '{name}' on sobject of type {defn.name}"
            )
        if field.type is FieldType.ID:
            raise SalesforceApiError(400, INVALID_FIELD, ID_IN_BODY_MESSAGE)
        if not (field.createable if creating else field.updateable):
            read_only.append(field.name)
            continue
        values[field.name] = coerce(field, value)
    if read_only:
        verb = "create" if creating else "update"
        raise SalesforceApiError(
            400,
            INVALID_FIELD_FOR_INSERT_UPDATE,
            f"Unable to {verb} fields: {', '.join(read_only)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            read_only,
        )
    return values


def check_required(
    defn: SObjectDef, record: Mapping[str, Any], *, only: Collection[str] | None = None
) -> None:
    """Raise ``REQUIRED_FIELD_MISSING`` naming every required field left empty (§1.8).

    ``only`` limits the check to the fields an update sets: an update must not empty a required
    field, but a stored record that lacks one (seeded flawed data) stays updatable.
    """
    missing = [
        field.name
        for field in defn.fields.values()
        if field.required
        and (only is None or field.name in only)
        and record.get(field.name) in (None, "")
    ]
    if missing:
        raise SalesforceApiError(
            400,
            REQUIRED_FIELD_MISSING,
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )


def coerce(field: FieldDef, value: Any) -> Any:
    """One JSON value as the field stores it; raises SalesforceApiError when it does not fit."""
    if value is None:
        # A checkbox is never null: Salesforce stores false.
        return False if field.type is FieldType.BOOLEAN else None
    if field.type in TEXT_TYPES:
        return _text(field, value)
    if field.type is FieldType.BOOLEAN:
        return _boolean(field, value)
    if field.type in NUMBER_TYPES:
        return _number(field, value)
    if field.type is FieldType.DATE:
        return _date(field, value)
    if field.type is FieldType.DATETIME:
        return format_datetime(parse_datetime(field, value))
    if field.type in ID_TYPES:
        return _reference(field, value)
    raise _cannot_deserialize(field, value)  # pragma: no cover - every type is handled above


def _text(field: FieldDef, value: Any) -> str:
    if isinstance(value, dict | list):
        raise _cannot_deserialize(field, value)
    text = _scalar_text(value)
    if field.length is not None and len(text) > field.length:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise SalesforceApiError(
            400,
            STRING_TOO_LONG,
            f"{field.label}: data value too large: {shown} (max length={field.length})",
            [field.name],
        )
    if field.type is FieldType.EMAIL and text and not _EMAIL.match(text):
        raise SalesforceApiError(
            400,
            INVALID_EMAIL_ADDRESS,
            f"{field.label}: invalid email address: {text}",
            [field.name],
        )
    # Picklists are lenient: an unrestricted picklist takes any value (restricted ones are not
    # modelled), so ``picklist`` values are only what describe offers.
    return text


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _boolean(field: FieldDef, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _cannot_deserialize(field, value)


def _number(field: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool) or isinstance(value, dict | list):
        raise _cannot_deserialize(field, value)
    try:
        number = float(value) if isinstance(value, str) else value
    except ValueError:
        raise _cannot_deserialize(field, value) from None
    if not isinstance(number, int | float) or number != number:  # rejects NaN too
        raise _cannot_deserialize(field, value)
    if field.type is FieldType.INT:
        if float(number) != int(number):
            raise _cannot_deserialize(field, value)
        return int(number)
    return float(number)


def _date(field: FieldDef, value: Any) -> str:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise _cannot_deserialize(field, value)


def parse_datetime(field: FieldDef | None, value: Any) -> datetime:
    """A dateTime in any ISO 8601 form Salesforce accepts, as an aware UTC datetime.

    ``2025-01-01T10:00:00Z``, ``…+00:00``, ``…+0000``, ``….000+0000``; a bare date is midnight
    UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        text = _DATETIME_SUFFIX.sub(r"\1:\2", text)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            return aware.astimezone(UTC)
    raise _cannot_deserialize(field, value)


def format_datetime(moment: datetime) -> str:
    """``2013-05-20T20:49:32.000+0000``: Salesforce's REST dateTime form (§1.2), whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _reference(field: FieldDef, value: Any) -> str:
    if not isinstance(value, str) or not is_salesforce_id(value):
        raise SalesforceApiError(
            400,
            MALFORMED_ID,
            f"{field.label}: id value of incorrect type: {value}",
            [field.name],
        )
    return to_id18(value)


def _cannot_deserialize(field: FieldDef | None, value: Any) -> SalesforceApiError:
    kind = field.type.value if field is not None else "datetime"
    token = "VALUE_STRING" if isinstance(value, str) else type(value).__name__.upper()
    return SalesforceApiError(
        400,
        JSON_PARSER_ERROR,
        f"Cannot deserialize instance of {kind} from {token} value {value} or request may be "
        "missing a required field",
        [field.name] if field is not None else [],
    )
