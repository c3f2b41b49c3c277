"""The only way dealbridge builds SOQL: a formatter that quotes every value by its type.

Why a formatter and not string concatenation: account names, e-mail addresses and ids come from
customers' data, and a single ``'`` in one of them would otherwise end a string literal and let the
rest of the value rewrite the query. ``soql()`` takes ``str.format``-style placeholders and turns
each value into a SOQL literal (contracts/salesforce.md §1.4)::

    soql("SELECT Id FROM Account WHERE Name = {} AND CreatedDate > {since}", name, since=moment)
    soql("SELECT Id FROM Contact WHERE Email LIKE {:like}", "%@acme.com")   # % and _ escaped too
    soql("SELECT {:literal} FROM Account", "NetSuite_Customer_Id__c")         # trusted identifier

The result is a ``Soql``, a ``str`` subclass the client insists on, so a query that did not come
through here fails at once (and under mypy) instead of reaching Salesforce.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dealbridge.connectors.salesforce import models
from dealbridge.errors import ConfigError, ValidationError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")

# §1.4: the escapes SOQL knows; any other backslash in a literal is an error on Salesforce's side.
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
# Other control characters go out as \uXXXX (§1.4) so nothing invisible reaches the parser.
_CONTROL_CODES = [*range(0x20), *range(0x7F, 0xA0)]  # C0, DEL and C1
_CONTROL = {chr(code): f"\\u{code:04x}" for code in _CONTROL_CODES if chr(code) not in _ESCAPES}
_STRING_TABLE = str.maketrans({**_ESCAPES, **_CONTROL})
_LIKE_TABLE = str.maketrans({**_ESCAPES, **_CONTROL, "%": "\\%", "_": "\\_"})


class Soql(str):
    """A SOQL statement built by ``soql()``; the client accepts nothing else."""

    __slots__ = ()


def soql(template: str, *args: Any, **kwargs: Any) -> Soql:
    """Fill ``template``'s ``{}`` / ``{name}`` placeholders with quoted SOQL literals.

    Format specs: none (quote by type), ``like`` (a string for ``LIKE``, with ``%`` and ``_``
    escaped as well), ``literal`` (a trusted identifier, checked, inserted as is).

    Raises:
        ConfigError: A value of an unsupported type, a bad identifier or format spec.
        ValidationError: The statement is longer than Salesforce accepts (§1.4).
    """
    text = _SoqlFormatter().vformat(template, args, kwargs)
    if len(text) > models.SOQL_MAX_LENGTH:
        raise ValidationError(
            f"the SOQL statement is {len(text):,} characters; Salesforce accepts at most "
            f"{models.SOQL_MAX_LENGTH:,} (split the IN list into batches)",
            record="SOQL statement",
            field_path="q",
            rule="soql_max_length",
        )
    return Soql(text)


def require_soql(q: object) -> Soql:
    """``q`` if ``soql()`` built it; anything else is refused before it reaches Salesforce."""
    if not isinstance(q, Soql):
        raise ConfigError("SOQL must be built with dealbridge.connectors.salesforce.soql.soql()")
    return q


def quote(value: Any) -> str:
    """One value as a SOQL literal (§1.4): strings quoted and escaped, others by type."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value.translate(_STRING_TABLE)}'"
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, datetime):  # before date: datetime is a date
        return _datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return _in_list(value)
    raise ConfigError(f"cannot put a {type(value).__name__} into SOQL")


def quote_like(value: Any) -> str:
    r"""A string for ``LIKE``: the usual escapes plus ``\%`` and ``\_`` (§1.4)."""
    if not isinstance(value, str):
        raise ConfigError(f"the :like format takes a string, not a {type(value).__name__}")
    return f"'{value.translate(_LIKE_TABLE)}'"


def identifier(value: Any) -> str:
    """A trusted field, object or relationship name, checked so it cannot carry SOQL syntax."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ConfigError(f"not a SOQL identifier: {value!r}")
    return value


def _number(value: float | Decimal) -> str:
    """Plain digits: no exponent (``1e+20``), which SOQL's number literal does not promise."""
    if isinstance(value, int):
        return str(value)
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if not number.is_finite():
        raise ConfigError(f"cannot put {value!r} into SOQL")
    return format(number, "f")


def _datetime(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, unquoted (§1.4).

    Naive datetimes are refused: guessing their zone would shift a watermark by hours. Fractional
    seconds are dropped (the documented formats have none); for ``>`` comparisons on
    ``SystemModstamp`` that re-reads at most one second's records, never skips any.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(f"a datetime in SOQL needs a time zone: {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_list(values: Sequence[Any] | set[Any] | frozenset[Any]) -> str:
    """``('a', 'b')`` for ``IN``; sets are sorted so the same values give the same text."""
    items = sorted(values, key=repr) if isinstance(values, set | frozenset) else list(values)
    if not items:
        raise ConfigError("an empty list cannot be used with IN in SOQL (it is a syntax error)")
    if any(isinstance(item, list | tuple | set | frozenset) for item in items):
        raise ConfigError("SOQL IN lists cannot be nested")
    return "(" + ", ".join(quote(item) for item in items) + ")"


class _SoqlFormatter(string.Formatter):
    """``str.format`` with quoting in place of ``format()`` for every replacement field."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "":
            return quote(value)
        if format_spec == "like":
            return quote_like(value)
        if format_spec == "literal":
            return identifier(value)
        raise ConfigError(f"unknown SOQL format spec {format_spec!r} (use like or literal)")

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:  # !r / !s would hand quoting back to Python's repr/str
            raise ConfigError(f"conversion !{conversion} is not allowed in SOQL templates")
        return value

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            return super().get_value(key, args, kwargs)
        except (IndexError, KeyError):
            raise ConfigError(f"the SOQL template has no value for placeholder {key!r}") from None
