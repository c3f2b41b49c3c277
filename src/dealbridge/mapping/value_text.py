"""How values become text: in templates, in ``string``/``concat``/``join``, and in error messages.

One rule everywhere, so an external id built by a template, a lookup key and a joined list agree:
``None`` is empty, booleans are ``true``/``false`` (the language's own literals), integral numbers
have no ``.0`` (Salesforce sends every number as a JSON float, and ``SFBA-…-12`` must not become
``SFBA-…-12.0``), dates are ISO 8601, lists and mappings are compact JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

SHORT_REPR_LENGTH = 80
_EXACT_FLOAT_LIMIT = 1e16  # beyond this a float's integer digits are not all meaningful


def display(value: Any) -> str:
    """The text of ``value`` as a template renders it."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return _float_text(value)
    if kind is int:
        return str(value)
    return _other_text(value)


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
        return str(int(value))
    return repr(value)


def _other_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=display, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    whole = value.to_integral_value()
    if value == whole:
        return format(whole, "f")
    return format(value.normalize(), "f")


def short_repr(value: Any) -> str:
    """A repr safe to put in an error message: at most 80 characters."""
    text = repr(value)
    if len(text) <= SHORT_REPR_LENGTH:
        return text
    return text[: SHORT_REPR_LENGTH - 1] + "…"


def type_name(value: Any) -> str:
    """The language's name for a value's type, as error messages say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return type(value).__name__
