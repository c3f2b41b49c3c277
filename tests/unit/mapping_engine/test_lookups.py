"""Lookup tables: static and SuiteQL, key normalisation, defaults, the process cache."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dealbridge.errors import ConfigError
from dealbridge.mapping.lookups import (
    LookupTables,
    TableCache,
    load_lookups,
    rows_to_table,
    suiteql_query,
)
from dealbridge.mapping.spec import SuiteQLLookup
from tests.support.flows import flow_from_text

pytestmark = pytest.mark.anyio

FLOW = """
flow: lookups_test
version: 1
trigger: {when: opportunity.IsWon}
lookups:
  term:
    static:
      values: {"12": 1, "24": 2}
  schedule:
    static:
      values: {Monthly: 1, Annual: 3}
      default: 9
  exact:
    static:
      values: {USD: 1}
      case_insensitive: false
  item:
    suiteql: {table: item, key: itemid, value: id, where: "isinactive = 'F'", cache_seconds: 60}
  currency:
    suiteql: {table: currency, key: symbol, case_insensitive: true, cache_seconds: 0}
records:
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    fields:
      companyName: {value: account.Name}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeNetSuite:
    """Answers SuiteQL with fixed rows and counts the queries."""

    def __init__(self, base_url: str = "https://1234567.suitetalk.api.netsuite.com") -> None:
        self.base_url = base_url
        self.queries: list[str] = []

    async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
        self.queries.append(query)
        if "FROM item" in query:
            return [{"itemid": "PLAT-PRO", "id": "2"}, {"itemid": "SEAT-STD", "id": "4"}, {}]
        return [{"symbol": "USD", "id": "1"}, {"symbol": "GBP", "id": "2"}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def flow(tmp_path: Path) -> Any:
    return flow_from_text(FLOW, tmp_path)


def test_static_tables_are_case_insensitive_and_compare_keys_as_text(flow: Any) -> None:
    tables = LookupTables.from_snapshot({}, flow)
    assert tables.resolve("term", 12.0) == 1
    assert tables.resolve("term", "24") == 2
    assert tables.resolve("schedule", "MONTHLY") == 1
    assert tables.resolve("exact", "USD") == 1
    assert tables.resolve("exact", "usd") is None


def test_a_missing_key_gives_the_default_or_none(flow: Any) -> None:
    tables = LookupTables.from_snapshot({}, flow)
    assert tables.resolve("schedule", "Weekly") == 9
    assert tables.resolve("schedule", None) == 9
    assert tables.resolve("term", 18) is None


def test_an_undeclared_table_is_a_flow_error(flow: Any) -> None:
    with pytest.raises(ConfigError, match="nowhere"):
        LookupTables.from_snapshot({}, flow).resolve("nowhere", "x")


def test_a_snapshot_supplies_the_suiteql_tables(flow: Any) -> None:
    tables = LookupTables.from_snapshot({"currency": {"USD": "1"}, "item": {"SSO": "16"}}, flow)
    assert tables.resolve("currency", "usd") == "1"  # case-insensitive table, folded snapshot
    assert tables.resolve("item", "SSO") == "16"
    assert tables.resolve("item", "sso") is None
    assert tables.snapshot()["currency"] == {"usd": "1"}
    assert tables.names() == ["currency", "exact", "item", "schedule", "term"]


def test_a_snapshot_without_a_flow_is_exact() -> None:
    tables = LookupTables.from_snapshot({"t": {"A": 1}})
    assert (tables.resolve("t", "A"), tables.resolve("t", "a")) == (1, None)


def test_the_query_reads_a_whole_table_in_a_stable_order() -> None:
    lookup = SuiteQLLookup(table="item", key="itemid", value="id", where="isinactive = 'F'")
    assert suiteql_query(lookup) == (
        "SELECT itemid, id FROM item WHERE isinactive = 'F' ORDER BY itemid, id"
    )
    assert suiteql_query(SuiteQLLookup(table="currency", key="id")) == (
        "SELECT id FROM currency ORDER BY id"
    )


def test_rows_become_a_table_first_row_winning_and_keyless_rows_skipped() -> None:
    lookup = SuiteQLLookup(table="item", key="itemId", value="id", case_insensitive=True)
    rows = [{"itemid": "A", "id": "1"}, {"itemid": "a", "id": "2"}, {"id": "3"}]
    assert rows_to_table(rows, lookup) == {"a": "1"}


async def test_load_lookups_reads_each_suiteql_table_once(flow: Any) -> None:
    netsuite = FakeNetSuite()
    tables = await load_lookups(flow, netsuite, cache=TableCache())
    assert sorted(netsuite.queries) == [
        "SELECT itemid, id FROM item WHERE isinactive = 'F' ORDER BY itemid, id",
        "SELECT symbol, id FROM currency ORDER BY symbol, id",
    ]
    assert tables.resolve("item", "PLAT-PRO") == "2"
    assert tables.resolve("currency", "gbp") == "2"
    assert tables.resolve("term", 12) == 1


async def test_tables_are_cached_for_their_cache_seconds(flow: Any) -> None:
    clock, netsuite = Clock(), FakeNetSuite()
    cache = TableCache(clock)
    await load_lookups(flow, netsuite, cache=cache)
    await load_lookups(flow, netsuite, cache=cache)
    item_queries = [q for q in netsuite.queries if "FROM item" in q]
    assert len(item_queries) == 1  # cached for 60 s
    assert len(netsuite.queries) == 3  # currency has cache_seconds 0: read every time
    clock.now += 61
    await load_lookups(flow, netsuite, cache=cache)
    assert len([q for q in netsuite.queries if "FROM item" in q]) == 2


async def test_each_account_has_its_own_cache_entry(flow: Any) -> None:
    cache = TableCache()
    first, second = FakeNetSuite("https://a.example"), FakeNetSuite("https://b.example")
    await load_lookups(flow, first, cache=cache)
    await load_lookups(flow, second, cache=cache)
    assert any("FROM item" in q for q in second.queries)
    cache.clear()
    await load_lookups(flow, first, cache=cache)
    assert len([q for q in first.queries if "FROM item" in q]) == 2


class SlowNetSuite(FakeNetSuite):
    """Answers only when released, so several callers miss the cache at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.waiting = 0

    async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
        self.waiting += 1
        await self.release.wait()
        return await super().suiteql_all(query)


async def test_callers_missing_a_table_together_share_one_read(flow: Any) -> None:
    cache, netsuite = TableCache(), SlowNetSuite()
    loads = [asyncio.ensure_future(load_lookups(flow, netsuite, cache=cache)) for _ in range(5)]
    await asyncio.sleep(0)
    netsuite.release.set()
    tables = await asyncio.gather(*loads)
    assert len([q for q in netsuite.queries if "FROM item" in q]) == 1
    assert len([q for q in netsuite.queries if "FROM currency" in q]) == 5  # cache_seconds 0
    assert {t.resolve("item", "SEAT-STD") for t in tables} == {"4"}


async def test_a_waiting_caller_cancelled_does_not_cancel_the_shared_read(flow: Any) -> None:
    cache, netsuite = TableCache(), SlowNetSuite()
    first = asyncio.ensure_future(load_lookups(flow, netsuite, cache=cache))
    second = asyncio.ensure_future(load_lookups(flow, netsuite, cache=cache))
    await asyncio.sleep(0)
    first.cancel()
    netsuite.release.set()
    tables = await second
    assert tables.resolve("item", "PLAT-PRO") == "2"
    assert first.cancelled()


async def test_a_read_in_flight_when_cleared_is_not_cached(flow: Any) -> None:
    cache, netsuite = TableCache(), SlowNetSuite()
    before = asyncio.ensure_future(load_lookups(flow, netsuite, cache=cache))
    while netsuite.waiting < 2:  # both tables' reads are on their way
        await asyncio.sleep(0)
    cache.clear()  # NetSuite's item master was fixed while the read was on its way
    netsuite.release.set()
    await before
    await load_lookups(flow, netsuite, cache=cache)
    assert len([q for q in netsuite.queries if "FROM item" in q]) == 2
