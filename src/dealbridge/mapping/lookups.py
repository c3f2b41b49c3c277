"""Lookup tables of a flow, resolved for one mapping run: ``lookup('table', key)``.

Static tables come from the flow file (``LoadedFlow.static_tables``). SuiteQL tables are read
from NetSuite WHOLE — ``SELECT <key>, <value> FROM <table> [WHERE …] ORDER BY …`` across pages —
rather than one query per key: a catalogue of a few thousand items is a handful of pages, after
which mapping a deal costs no NetSuite call at all (the 500 deals/s target of the mapping bench
would be impossible with a round trip per product). Loaded tables are cached per process for the
lookup's ``cache_seconds`` (0 = never cached), keyed by account and query.

Keys are compared as text, trimmed (``static_tables.table_key``): ``12`` and ``12.0`` both find
``"12"``; a case-insensitive table (static tables by default, SuiteQL tables when they say so)
compares lower-cased keys. A missing
key gives the lookup's ``default`` (static tables) or None, which a ``resolves`` rule turns into
a violation naming the record and field.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from dealbridge.errors import ConfigError
from dealbridge.mapping.spec import FlowSpec, LookupSpec, SuiteQLLookup
from dealbridge.mapping.static_tables import table_key

Table = dict[str, Any]
CacheKey = tuple[str, str, str, str, str | None]


class FlowWithTables(Protocol):
    """What lookups need of a loaded flow (``dealbridge.mapping.loader.LoadedFlow``)."""

    @property
    def spec(self) -> FlowSpec:
        """The validated flow."""

    @property
    def static_tables(self) -> Mapping[str, Mapping[str, Any]]:
        """Static tables by name, keys lower-cased when case-insensitive."""


class SuiteQLReader(Protocol):
    """What lookups need of ``NetSuiteClient``: its account URL and whole-query reads."""

    base_url: str

    async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
        """Every row of a query, across pages."""


def lookup_key(value: Any, folded: bool) -> str | None:
    """A key as the tables store it (``static_tables.table_key``): ``12.0`` finds ``"12"``."""
    return table_key(value, case_insensitive=folded)


class LookupTables:
    """Every table of a flow, ready for ``lookup('name', key)``.

    Args:
        tables: Rows by table name; keys already lower-cased for case-insensitive tables.
        folded: Names of the case-insensitive tables.
        defaults: The value of a missing key, by table name (None when not given).
    """

    def __init__(
        self,
        tables: Mapping[str, Mapping[str, Any]],
        *,
        folded: frozenset[str] = frozenset(),
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self._tables = {name: dict(rows) for name, rows in tables.items()}
        self._folded = folded
        self._defaults = dict(defaults or {})

    def resolve(self, table: str, key: Any) -> Any:
        """The value of ``key`` in ``table``; the table's default when missing.

        Raises:
            ConfigError: The flow names a table it does not declare.
        """
        rows = self._tables.get(table)
        if rows is None:
            raise ConfigError(f"lookup table {table!r} is not declared in the flow")
        text = lookup_key(key, table in self._folded)
        found = None if text is None else rows.get(text)
        return self._defaults.get(table) if found is None else found

    __call__ = resolve

    def names(self) -> list[str]:
        """The table names, sorted."""
        return sorted(self._tables)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every table as plain data, for golden files, benchmarks and preview."""
        return {name: dict(rows) for name, rows in sorted(self._tables.items())}

    @classmethod
    def from_snapshot(
        cls, snapshot: Mapping[str, Mapping[str, Any]], flow: FlowWithTables | None = None
    ) -> LookupTables:
        """Tables given as data (tests, golden files, benchmarks, preview of a stored run).

        With ``flow``, its static tables, case rules and defaults apply and ``snapshot`` supplies
        (or overrides) the rest, typically the SuiteQL tables.
        """
        if flow is None:
            return cls(snapshot)
        folded = _folded(flow.spec)
        tables: dict[str, Mapping[str, Any]] = dict(flow.static_tables)
        for name, rows in snapshot.items():
            keys = ((lookup_key(k, name in folded), v) for k, v in rows.items())
            tables[name] = {k: v for k, v in keys if k is not None}
        return cls(tables, folded=folded, defaults=_defaults(flow.spec))


async def load_lookups(
    flow: FlowWithTables, netsuite: SuiteQLReader, *, cache: TableCache | None = None
) -> LookupTables:
    """The flow's tables: static ones from the file, SuiteQL ones from NetSuite or the cache."""
    spec = flow.spec
    cache = cache or DEFAULT_CACHE
    queried = {name: ls.suiteql for name, ls in spec.lookups.items() if ls.suiteql is not None}
    loaded = await asyncio.gather(
        *(cache.get(netsuite, query) for query in queried.values())
    )  # fmt: skip
    tables: dict[str, Mapping[str, Any]] = dict(flow.static_tables)
    tables.update(zip(queried, loaded, strict=True))
    return LookupTables(tables, folded=_folded(spec), defaults=_defaults(spec))


def suiteql_query(lookup: SuiteQLLookup) -> str:
    """The one query that reads a whole table; ordered on both columns so pages are stable."""
    columns = lookup.key if lookup.key == lookup.value else f"{lookup.key}, {lookup.value}"
    where = f" WHERE {lookup.where}" if lookup.where else ""
    return f"SELECT {columns} FROM {lookup.table}{where} ORDER BY {columns}"  # noqa: S608


def rows_to_table(rows: list[dict[str, Any]], lookup: SuiteQLLookup) -> Table:
    """Rows as ``{key: value}``; SuiteQL columns come back lower-case (contracts §4).

    The first row of a key wins (rows are ordered), and rows without a key are skipped.
    """
    key_column, value_column = lookup.key.lower(), lookup.value.lower()
    table: Table = {}
    for row in rows:
        key = lookup_key(row.get(key_column), lookup.case_insensitive)
        if key is not None and key not in table:
            table[key] = row.get(value_column)
    return table


class TableCache:
    """SuiteQL tables per process, for each lookup's ``cache_seconds``; safe across threads.

    Callers on one event loop that miss the same cached table at once share one read (a burst of
    deals starting together would otherwise each read every table: the economy benchmark saw seven
    times the necessary lookups at 30 deals in flight). The shared read runs as its own task, so
    a caller cancelled while waiting does not cancel it for the others. Tables with
    ``cache_seconds`` 0 are read by every caller: they promise a fresh read. ``clear`` forgets
    reads in flight too, so a read started before a fix in NetSuite is never cached after it.

    Args:
        clock: Seconds, monotonic; injectable so tests never wait.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tables: dict[CacheKey, tuple[float, Table]] = {}
        self._reading: dict[tuple[int, CacheKey], asyncio.Task[Table]] = {}
        self._generation = 0

    async def get(self, netsuite: SuiteQLReader, lookup: SuiteQLLookup) -> Table:
        """The table, from the cache while fresh, else read from NetSuite."""
        key: CacheKey = (netsuite.base_url, lookup.table, lookup.key, lookup.value, lookup.where)
        if lookup.cache_seconds <= 0:
            return await self._read(netsuite, lookup, key, self._generation)
        loop = asyncio.get_running_loop()
        flight = (id(loop), key)
        with self._lock:
            cached = self._tables.get(key)
            if cached is not None and self._clock() < cached[0]:
                return cached[1]
            task = self._reading.get(flight)
            if task is None:
                task = loop.create_task(self._read(netsuite, lookup, key, self._generation))
                self._reading[flight] = task
                task.add_done_callback(lambda done: self._landed(flight, done))
        return await asyncio.shield(task)

    async def _read(
        self, netsuite: SuiteQLReader, lookup: SuiteQLLookup, key: CacheKey, generation: int
    ) -> Table:
        table = rows_to_table(await netsuite.suiteql_all(suiteql_query(lookup)), lookup)
        if lookup.cache_seconds > 0:
            with self._lock:
                if generation == self._generation:
                    self._tables[key] = (self._clock() + lookup.cache_seconds, table)
        return table

    def _landed(self, flight: tuple[int, CacheKey], task: asyncio.Task[Table]) -> None:
        with self._lock:
            if self._reading.get(flight) is task:
                del self._reading[flight]
        if not task.cancelled():
            task.exception()  # retrieved: the waiting callers were given it

    def clear(self) -> None:
        """Forget every table and read in flight (tests; after a fix of NetSuite's item master)."""
        with self._lock:
            self._tables.clear()
            self._reading.clear()
            self._generation += 1


DEFAULT_CACHE = TableCache()


def _folded(spec: FlowSpec) -> frozenset[str]:
    return frozenset(name for name, ls in spec.lookups.items() if _case_insensitive(ls))


def _case_insensitive(lookup: LookupSpec) -> bool:
    kind = lookup.static or lookup.suiteql
    return bool(kind is not None and kind.case_insensitive)


def _defaults(spec: FlowSpec) -> dict[str, Any]:
    return {name: ls.static.default for name, ls in spec.lookups.items() if ls.static is not None}
