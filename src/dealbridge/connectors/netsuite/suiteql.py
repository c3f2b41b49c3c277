"""SuiteQL: injection-safe literals, paging across pages and past the row cap, and value typing.

Why a formatter instead of bind parameters: SuiteQL over REST takes one query string
(contracts/netsuite.md §4), so every value that reaches a query goes through ``sql_literal`` /
``sql_in_list`` — the same discipline as simple-salesforce's ``format.py`` for SOQL.

Why key paging: a query returns at most 100,000 rows and pages of at most 1000, with the offset a
multiple of the limit (§4, §2.3). ``iter_by_key`` builds ``… WHERE <key> > :last ORDER BY <key>``
itself and restarts from the last key before reaching the cap.

Why the ``as_*`` helpers: SuiteQL value typing is UNCONFIRMED (§4) — values may come back as strings
or numbers, booleans as ``"T"``/``"F"`` or JSON booleans, and null columns omitted or ``null``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dealbridge.connectors.netsuite import models
from dealbridge.errors import ConfigError, UnexpectedResponseError, ValidationError

Row = dict[str, Any]
PageFetcher = Callable[[str, int, int], Awaitable[models.Page]]
"""``fetch(query, limit, offset)``: one page of a SuiteQL query (or a collection)."""

MAX_LITERAL_CHARS = 4000  # Oracle's limit for a character literal
MAX_IN_LIST = 1000  # Oracle's limit on the expressions of one IN list
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"t", "true", "y", "yes", "1"})
_FALSE = frozenset({"f", "false", "n", "no", "0", ""})


def sql_literal(value: object) -> str:
    """One value as a SuiteQL literal: strings quoted with ``'`` doubled, booleans ``'T'``/``'F'``.

    Raises:
        ValidationError: A string holds a control character (NUL included) or is too long.
        TypeError: The value has no SuiteQL form (e.g. a list: use ``sql_in_list``).
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):  # before int: bool is an int
        return "'T'" if value else "'F'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _number_literal(value)
    if isinstance(value, datetime):
        return f"TO_DATE('{value:%Y-%m-%d %H:%M:%S}', 'YYYY-MM-DD HH24:MI:SS')"
    if isinstance(value, date):
        return f"TO_DATE('{value:%Y-%m-%d}', 'YYYY-MM-DD')"
    if isinstance(value, str):
        return _string_literal(value)
    raise TypeError(f"no SuiteQL literal for a {type(value).__name__}")


def _number_literal(value: float | Decimal) -> str:
    """Plain decimal notation; NaN and infinities have no SQL form."""
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if not number.is_finite():
        raise _literal_error(f"{value} is not a finite number", "sql_literal_number")
    return format(number, "f")


def _string_literal(value: str) -> str:
    """Quote a string; control characters could end or confuse the statement, so refuse them."""
    if _CONTROL.search(value):
        raise _literal_error(
            f"a SuiteQL value may not contain control characters: {value[:40]!r}",
            "sql_literal_chars",
        )
    if len(value) > MAX_LITERAL_CHARS:
        raise _literal_error(
            f"a SuiteQL value is longer than {MAX_LITERAL_CHARS} characters", "sql_literal_length"
        )
    return "'" + value.replace("'", "''") + "'"


def _literal_error(message: str, rule: str) -> ValidationError:
    return ValidationError(message, record="SuiteQL query", field_path="value", rule=rule)


def sql_in_list(values: Iterable[object]) -> str:
    """``(v1, v2, …)`` for ``IN``; empty lists and lists over Oracle's 1000 are refused."""
    if isinstance(values, str | bytes):
        raise TypeError("sql_in_list takes a collection of values, not one string")
    literals = [sql_literal(value) for value in values]
    if not literals:
        raise _literal_error("an IN list needs at least one value", "sql_in_list_empty")
    if len(literals) > MAX_IN_LIST:
        raise _literal_error(
            f"an IN list holds at most {MAX_IN_LIST} values, not {len(literals)}",
            "sql_in_list_length",
        )
    return "(" + ", ".join(literals) + ")"


def sql_identifier(name: str) -> str:
    """A table or column name (optionally ``alias.column``); identifiers are never quoted data."""
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"not a SuiteQL identifier: {name!r}")
    return name


def keyed_query(
    select_list: Sequence[str], table: str, where: str | None, key: str, after: object
) -> str:
    """``SELECT … FROM table WHERE (where) AND key > after ORDER BY key`` (§4 key paging).

    ``where`` is trusted SQL: build any values in it with ``sql_literal``.
    """
    columns = [sql_identifier(column) for column in select_list]
    if key.lower() not in {column.lower() for column in columns}:
        columns.append(sql_identifier(key))
    conditions = [f"({where})"] if where else []
    if after is not None:
        conditions.append(f"{key} > {_key_literal(after)}")
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    # Identifiers are checked and the value went through ``_key_literal``: no injection here.
    table = sql_identifier(table)
    return f"SELECT {', '.join(columns)} FROM {table}{clause} ORDER BY {key}"  # noqa: S608


def _key_literal(value: object) -> str:
    """Ids come back as strings (§4, UNCONFIRMED); compare numeric ids as numbers."""
    if isinstance(value, str) and _INTEGER.match(value):
        return str(int(value))
    return sql_literal(value)


def check_page_size(page_size: int) -> int:
    """Pages hold 1 to 1000 rows (§4)."""
    if not 1 <= page_size <= models.SUITEQL_MAX_PAGE:
        raise ConfigError(f"a SuiteQL page holds 1 to {models.SUITEQL_MAX_PAGE} rows")
    return page_size


async def iter_rows(
    fetch: PageFetcher,
    query: str,
    *,
    page_size: int = models.SUITEQL_MAX_PAGE,
    max_rows: int = models.SUITEQL_MAX_ROWS,
) -> AsyncIterator[Row]:
    """Every row of ``query``, page by page (offset a multiple of the limit, §2.3).

    Raises:
        ConfigError: The query has more rows than NetSuite returns for one query; use
            ``iter_by_key``.
    """
    async for row in _paged(fetch, query, check_page_size(page_size), max_rows, None):
        yield row


async def iter_by_key(
    fetch: PageFetcher,
    select_list: Sequence[str],
    table: str,
    where: str | None = None,
    *,
    key: str = "id",
    page_size: int = models.SUITEQL_MAX_PAGE,
    switch_after: int = models.SUITEQL_MAX_ROWS,
) -> AsyncIterator[Row]:
    """Every row of a table, in key order, with no row cap.

    Offset paging runs until the next page would pass ``switch_after`` rows, then the query
    restarts after the last key seen; ``switch_after=0`` pages by key from the first page.
    """

    def restart(last: Row) -> str:
        value = last.get(key.lower())
        if value is None:
            raise UnexpectedResponseError(
                f"SuiteQL row has no key column {key!r} to page by", system="netsuite"
            )
        return keyed_query(select_list, table, where, key, value)

    first = keyed_query(select_list, table, where, key, None)
    async for row in _paged(fetch, first, check_page_size(page_size), switch_after, restart):
        yield row


async def _paged(
    fetch: PageFetcher,
    query: str,
    limit: int,
    max_rows: int,
    restart: Callable[[Row], str] | None,
) -> AsyncIterator[Row]:
    """The paging loop shared by offset and key paging; follows ``hasMore`` (§4)."""
    offset = 0
    while True:
        page = await fetch(query, limit, offset)
        rows = [_row(item) for item in page.items]
        for row in rows:
            yield row
        if not page.hasMore or not rows:
            return
        offset += limit
        if offset + limit > max_rows:
            if restart is None:
                raise ConfigError(
                    f"the query has more than {max_rows} rows, NetSuite's cap (§4); page by key"
                )
            query, offset = restart(rows[-1]), 0


def _row(item: dict[str, Any]) -> Row:
    """A result item without its ``links`` (§4 response shape)."""
    return {name: value for name, value in item.items() if name != "links"}


def as_bool(value: object) -> bool | None:
    """``"T"``/``"F"``, JSON booleans, ``"true"``… as a bool; None (or absent) stays None."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _typing_error(value, "a boolean")


def as_int(value: object) -> int | None:
    """A string or number holding an integer; None or ``""`` is None."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value)
    raise _typing_error(value, "an integer")


def as_decimal(value: object) -> Decimal | None:
    """A string or number as an exact ``Decimal`` (money); None or ``""`` is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _typing_error(value, "a number")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise _typing_error(value, "a number") from None
    if not number.is_finite():
        raise _typing_error(value, "a finite number")
    return number


def as_str(value: object) -> str | None:
    """Any scalar as text (ids may arrive as numbers); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    return str(value)


def _typing_error(value: object, expected: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"SuiteQL value {value!r} is not {expected}", system="netsuite", operation="suiteql"
    )
