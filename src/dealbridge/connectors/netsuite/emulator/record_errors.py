"""The record service's errors, worded once in NetSuite's style (contracts §5).

Codes and statuses follow ``shared/contracts/netsuite.md`` §5; where the contract leaves the
REST code UNCONFIRMED the choice is noted next to the function. Details start with NetSuite's
own prefix "Error while accessing a resource." so clients that log them read naturally.
"""

from __future__ import annotations

from typing import Any

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.models import (
    INSUFFICIENT_PERMISSION,
    INVALID_CONTENT,
    INVALID_KEY_OR_REF,
    NONEXISTENT_ID,
    USER_ERROR,
)

# Not in §5's table: the code for a malformed query parameter (limit, offset, q). UNCONFIRMED;
# NetSuite's REST responses carry it together with ``o:errorQueryParam``.
INVALID_PARAMETER = "INVALID_PARAMETER"
# UNCONFIRMED for REST: SOAP's code for a record type that does not exist. A 404 either way.
INVALID_RCRD_TYPE = "INVALID_RCRD_TYPE"

_PREFIX = "Error while accessing a resource. "


def invalid_content(detail: str, path: str | None = None) -> NetSuiteProblem:
    """400 ``INVALID_CONTENT``: the JSON has the wrong shape or type (§5)."""
    return NetSuiteProblem(400, INVALID_CONTENT, _PREFIX + detail, path)


def user_error(detail: str, path: str | None = None) -> NetSuiteProblem:
    """400 ``USER_ERROR``: a business rule of the record refused the write (§5)."""
    return NetSuiteProblem(400, USER_ERROR, _PREFIX + detail, path)


def invalid_reference(value: Any, field: str, path: str) -> NetSuiteProblem:
    """400 ``INVALID_KEY_OR_REF``: a reference names no record of the right type (§5 fixture)."""
    detail = f"You have entered an Invalid Field Value {value} for the following field: {field}"
    return NetSuiteProblem(400, INVALID_KEY_OR_REF, _PREFIX + detail, path)


def invalid_key(value: Any, field: str, path: str) -> NetSuiteProblem:
    """400 ``INVALID_KEY_OR_REF`` for a list value outside its choices, as NetSuite words it."""
    return NetSuiteProblem(400, INVALID_KEY_OR_REF, f"Invalid {field} reference key {value}.", path)


def missing_value(caption: str, path: str) -> NetSuiteProblem:
    """400 ``USER_ERROR`` for an empty mandatory field, with the field's UI label."""
    return user_error(f"Please enter value(s) for: {caption}.", path)


def too_long(field: str, limit: int, path: str) -> NetSuiteProblem:
    """400 ``USER_ERROR`` for a string over its length (NetSuite's record-level wording).

    The REST code is UNCONFIRMED; USER_ERROR because the record layer, not the JSON parser,
    enforces lengths (the same layer as mandatory fields).
    """
    detail = (
        f"The field {field} contained more than the maximum number ( {limit} ) "
        "of characters allowed."
    )
    return user_error(detail, path)


def not_found() -> NetSuiteProblem:
    """404 ``NONEXISTENT_ID``: no such instance, or no such eid (§5, UNCONFIRMED code)."""
    detail = "The record instance does not exist. Provide a valid record instance ID."
    return NetSuiteProblem(404, NONEXISTENT_ID, detail)


def unknown_type(record_type: str) -> NetSuiteProblem:
    """404 for a record type the emulator does not have (code UNCONFIRMED, see above)."""
    return NetSuiteProblem(404, INVALID_RCRD_TYPE, f"Record type '{record_type}' does not exist.")


def read_only_type(record_type: str) -> NetSuiteProblem:
    """403: reference data (items, currencies…) is seeded, never written over REST here."""
    detail = (
        f"Permission Violation: your role cannot create, edit or delete {record_type} "
        "records in this account."
    )
    return NetSuiteProblem(403, INSUFFICIENT_PERMISSION, detail)


def invalid_parameter(detail: str) -> NetSuiteProblem:
    """400 ``INVALID_PARAMETER`` for a bad ``limit``, ``offset`` or ``q``."""
    return NetSuiteProblem(400, INVALID_PARAMETER, detail)
