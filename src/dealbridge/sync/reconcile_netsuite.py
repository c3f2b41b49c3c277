"""What NetSuite holds, read in bulk with SuiteQL: never one call per record.

Three kinds of read, each a few queries of up to 1,000 rows per page (contracts/netsuite.md §4):

- ``read_ours`` — per record type, every record carrying one of our external id prefixes:
  ``SELECT id, externalid, <planned body fields> FROM <type> WHERE externalid LIKE 'SFACC-%'``,
  paged by key. One scan serves three findings at once: planned records that are absent
  (missing), present with other values (drift), and present but planned by no won deal
  (orphans). Its cost is one call per 1,000 of our records of the type, whatever the window.
- ``read_intervals`` — the price intervals of given subscriptions (``subscriptionpriceinterval``,
  ``WHERE subscription IN (…)``), grouped so each query fills one page, for the money check.
- ``read_lookalikes`` — customers or contacts *without* our prefix whose lower-cased name or
  e-mail is one of ours: all of them read and matched here when they are few, else found by IN
  lists of our names and e-mails.

A table SuiteQL refuses (a custom record type nothing was written to yet: the emulator then has
no such table; a column our payload names but the table lacks) is read again with ``id`` and
``externalid`` only, and if that is refused too it holds nothing of ours. Values come back as
SuiteQL gives them — lower-case columns, text or numbers, references as internal ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Protocol, TypeVar

import structlog

from dealbridge.connectors.netsuite.models import SUITEQL_MAX_PAGE
from dealbridge.connectors.netsuite.suiteql import (
    MAX_IN_LIST,
    Row,
    sql_identifier,
    sql_in_list,
)
from dealbridge.connectors.netsuite.suiteql import sql_literal as literal
from dealbridge.errors import RemoteRejectedError

INTERVAL_TABLE = "subscriptionpriceinterval"
INTERVAL_COLUMNS = ("subscription", "frequency", "quantity", "price", "discount")
READ_CONCURRENCY = 4  # queries in flight: a reconciliation must not take every NetSuite slot
_ESCAPE = "\\"
_log = structlog.get_logger("dealbridge.reconcile")
T = TypeVar("T")


class SuiteQLSource(Protocol):
    """What these reads need of ``NetSuiteClient``."""

    def suiteql_by_key(
        self,
        select_list: Sequence[str],
        table: str,
        where: str | None = None,
        *,
        key: str = "id",
        page_size: int = ...,
    ) -> AsyncIterator[Row]:
        """Every row of a table in key order, across pages."""


def like_prefix(prefix: str) -> str:
    """``externalid LIKE '<prefix>%' ESCAPE`` backslash, with ``%``, ``_`` and it escaped."""
    escaped = prefix.replace(_ESCAPE, _ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"externalid LIKE {literal(escaped + '%')} ESCAPE {literal(_ESCAPE)}"


def ours(prefixes: Sequence[str]) -> str:
    """The condition "carries one of our prefixes"."""
    return " OR ".join(like_prefix(prefix) for prefix in prefixes)


def not_ours(prefixes: Sequence[str]) -> str:
    """The condition "has no external id, or one without our prefixes"."""
    return f"externalid IS NULL OR NOT ({ours(prefixes)})"


async def read_ours(
    netsuite: SuiteQLSource, record_type: str, prefixes: Sequence[str], columns: Sequence[str]
) -> dict[str, Row]:
    """Our records of one type by external id (see the module docstring)."""
    if not prefixes:
        return {}
    table = sql_identifier(record_type.lower())
    select = ["id", "externalid", *(sql_identifier(column) for column in columns)]
    rows = await _rows_or_none(netsuite, select, table, ours(prefixes))
    if rows is None and columns:
        rows = await _rows_or_none(netsuite, ["id", "externalid"], table, ours(prefixes))
    return {str(row["externalid"]): row for row in rows or () if row.get("externalid")}


async def read_intervals(
    netsuite: SuiteQLSource, expected: Mapping[str, int]
) -> dict[str, list[Row]]:
    """Price interval rows by subscription internal id.

    ``expected`` is each subscription's planned number of intervals: subscriptions are grouped
    so that a query should return one full page (``interval_chunks``), since every page costs a
    call whatever its size.
    """

    async def one(chunk: list[str]) -> list[Row]:
        where = f"subscription IN {sql_in_list(_numbers(chunk))}"
        found = await _rows_or_none(netsuite, list(INTERVAL_COLUMNS), INTERVAL_TABLE, where)
        return found or []

    chunks = interval_chunks(expected)
    by_subscription: dict[str, list[Row]] = {}
    for rows in await bounded([partial(one, chunk) for chunk in chunks]):
        for row in rows:
            by_subscription.setdefault(str(row.get("subscription")), []).append(row)
    return by_subscription


def interval_chunks(expected: Mapping[str, int], page: int = SUITEQL_MAX_PAGE) -> list[list[str]]:
    """Subscription ids in groups of at most ``MAX_IN_LIST`` whose rows fill about one page."""
    chunks: list[list[str]] = []
    current: list[str] = []
    rows = 0
    for subscription in sorted(expected, key=_numeric_first):
        count = max(1, expected[subscription])
        if current and (rows + count > page or len(current) >= MAX_IN_LIST):
            chunks.append(current)
            current, rows = [], 0
        current.append(subscription)
        rows += count
    if current:
        chunks.append(current)
    return chunks


async def read_lookalikes(
    netsuite: SuiteQLSource,
    record_type: str,
    prefixes: Sequence[str],
    columns: tuple[str, str],
    values: tuple[Iterable[str], Iterable[str]],
) -> list[Row]:
    """Records of a type without our prefix whose ``columns`` (name, e-mail) match ``values``.

    Both compare lower-cased and trimmed. Whichever costs fewer calls: the records without our
    prefix are read and matched here as long as they fit in the pages the IN lists would take;
    past that, ``LOWER(name) IN (…) OR LOWER(email) IN (…)`` with up to 1,000 of each per query.
    """
    names, emails = (sorted({v.strip().lower() for v in group if v.strip()}) for group in values)
    table = sql_identifier(record_type.lower())
    select = ["id", "externalid", *(sql_identifier(column) for column in columns)]
    in_queries = -(-max(len(names), len(emails)) // MAX_IN_LIST)
    scanned = await _foreign(netsuite, select, table, prefixes, in_queries * SUITEQL_MAX_PAGE)
    if scanned is not None:
        wanted = (set(names), set(emails))
        return [row for row in scanned if _matches(row, columns, wanted)]

    async def one(start: int) -> list[Row]:
        tests = [
            f"LOWER({sql_identifier(column)}) IN {sql_in_list(group[start : start + MAX_IN_LIST])}"
            for column, group in zip(columns, (names, emails), strict=True)
            if group[start : start + MAX_IN_LIST]
        ]
        where = f"({not_ours(prefixes)}) AND ({' OR '.join(tests)})"
        return await _rows_or_none(netsuite, select, table, where) or []

    starts = range(0, in_queries * MAX_IN_LIST, MAX_IN_LIST)
    found = await bounded([partial(one, start) for start in starts])
    unique = {str(row["id"]): row for rows in found for row in rows}
    return [unique[key] for key in sorted(unique, key=_numeric_first)]


async def _foreign(
    netsuite: SuiteQLSource, select: list[str], table: str, prefixes: Sequence[str], limit: int
) -> list[Row] | None:
    """Every record without our prefix, or None once there are more than ``limit``."""
    rows: list[Row] = []
    iterator = netsuite.suiteql_by_key(select, table, not_ours(prefixes))
    try:
        async for row in iterator:
            rows.append(row)
            if len(rows) > limit:
                return None
    except RemoteRejectedError as error:
        _log.info("reconcile_table_refused", table=table, error=error.message)
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()  # no further page is fetched
    return rows


def _matches(row: Row, columns: tuple[str, str], wanted: tuple[set[str], set[str]]) -> bool:
    return any(
        str(row.get(column) or "").strip().lower() in values
        for column, values in zip(columns, wanted, strict=True)
    )


async def bounded(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``calls`` with at most ``READ_CONCURRENCY`` in flight; results in order."""
    gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(call) for call in calls)))


async def _rows_or_none(
    netsuite: SuiteQLSource, select: list[str], table: str, where: str
) -> list[Row] | None:
    """Every row, or None when NetSuite refuses the query (unknown table or column)."""
    try:
        return [row async for row in netsuite.suiteql_by_key(select, table, where)]
    except RemoteRejectedError as error:
        _log.info("reconcile_table_refused", table=table, error=error.message)
        return None


def _numbers(ids: Iterable[str]) -> list[int | str]:
    """Internal ids as numbers where they are (SuiteQL compares ids numerically)."""
    return [int(value) if value.isdigit() else value for value in ids]


def _numeric_first(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)
