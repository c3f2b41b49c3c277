"""The bulk Salesforce extractor: keyset SOQL, cursors, and graphs assembled from batches."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

import pytest

from dealbridge.connectors.salesforce.soql import Soql
from dealbridge.sync import reconcile_fetch
from dealbridge.sync.reconcile_fetch import (
    Cursor,
    Window,
    count_query,
    fetch_graphs,
    graph_query,
    iter_won,
    won_query,
)

OPP = "006000000000001AAA"
ACC = "001000000000001AAA"
QUOTE = "a0q000000000001AAA"


def test_the_first_page_has_only_the_window() -> None:
    query = won_query(Window(date(2025, 1, 1), date(2025, 12, 31)), None, 200)
    assert query == (
        "SELECT Id, AccountId, SystemModstamp, CloseDate FROM Opportunity WHERE IsWon = true "
        "AND CloseDate >= 2025-01-01 AND CloseDate <= 2025-12-31 ORDER BY CloseDate, Id LIMIT 200"
    )


def test_a_later_page_starts_strictly_after_the_cursor_by_keyset() -> None:
    query = won_query(Window(), Cursor("2025-03-04", OPP), 50)
    assert (
        "(CloseDate > 2025-03-04 OR (CloseDate = 2025-03-04 AND Id > '006000000000001AAA'))"
        in query
    )
    assert query.endswith("ORDER BY CloseDate, Id LIMIT 50")


def test_count_uses_the_same_condition() -> None:
    assert count_query(Window(since=date(2025, 1, 1))) == (
        "SELECT COUNT() FROM Opportunity WHERE IsWon = true AND CloseDate >= 2025-01-01"
    )


def test_a_cursor_round_trips_and_orders_by_date_then_id() -> None:
    cursor = Cursor("2025-03-04", OPP)
    assert Cursor.parse(cursor.text()) == cursor
    assert len(cursor.text()) <= 64  # fits a watermark row
    assert Cursor("2025-03-04", "006B") > Cursor("2025-03-04", "006A")
    assert Cursor("2025-03-05", "006A") > Cursor("2025-03-04", "006Z")
    with pytest.raises(ValueError, match="cursor"):
        Cursor.parse("2025-03-04")


def test_a_window_names_its_open_ends() -> None:
    assert Window().label() == "*:*"
    assert Window(date(2024, 1, 1)).label() == "2024-01-01:*"


def test_graph_query_asks_for_a_batch_by_id_with_the_deal_graph_fields() -> None:
    query = graph_query([OPP, "006000000000002AAA"], multi_currency=False)
    assert query.endswith("WHERE Id IN ('006000000000001AAA', '006000000000002AAA')")
    assert "FROM OpportunityContactRoles)" in query
    assert "CurrencyIsoCode" not in query


class FakeSalesforce:
    """Answers each query from canned rows, by the object it selects from."""

    def __init__(self, opportunities: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
        self.opportunities = opportunities
        self.lines = lines
        self.queries: list[str] = []

    async def query_all(self, query: Soql) -> list[dict[str, Any]]:
        self.queries.append(query)
        if "FROM SBQQ__QuoteLine__c" in query:
            return self.lines
        if "LIMIT" in query:
            limit = int(query.rsplit(" ", 1)[1])
            after = re.search(r"Id > '([^']+)'", query)
            rows = [r for r in self.opportunities if not after or r["Id"] > after.group(1)]
            return rows[:limit]
        return [row for row in self.opportunities if row["Id"] in query]


def _opportunity(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "Id": f"0060000000000{number:02d}AAA",
        "AccountId": ACC,
        "SystemModstamp": "2025-05-01T10:00:00.000+0000",
        "CloseDate": f"2025-05-{number:02d}",
        "Account": {"Id": ACC, "Name": "Acme"},
        **extra,
    }


def _line(number: int, line_id: str) -> dict[str, Any]:
    return {"Id": line_id, "SBQQ__Quote__c": QUOTE, "SBQQ__Number__c": number}


async def _graphs(fake: FakeSalesforce, ids: list[str]) -> reconcile_fetch.GraphBatch:
    return await fetch_graphs(fake, ids, batch_size=2)  # type: ignore[arg-type]


def test_graphs_come_two_queries_per_batch_with_lines_in_quote_order() -> None:
    quote = {"Id": QUOTE, "Name": "Q-1"}
    opportunities = [
        _opportunity(1, SBQQ__PrimaryQuote__r=quote, SBQQ__PrimaryQuote__c=QUOTE),
        _opportunity(2),
        _opportunity(3, Account=None),
    ]
    lines = [_line(2, "a0v000000000002AAA"), _line(1, "a0v000000000001AAA")]
    fake = FakeSalesforce(opportunities, lines)
    ids = [row["Id"] for row in opportunities] + ["006000000000099AAA"]

    batch = _run(_graphs(fake, ids))

    assert len(fake.queries) == 3  # batch 1: deals + lines; batch 2: deals only (no quote)
    first = batch.graphs[opportunities[0]["Id"]]
    assert [line.number for line in first.lines] == [1, 2]
    assert batch.graphs[opportunities[1]["Id"]].quote is None
    assert "has no account" in batch.problems[opportunities[2]["Id"]]
    assert "no Opportunity" in batch.problems["006000000000099AAA"]


def test_iter_won_pages_until_a_short_page() -> None:
    fake = FakeSalesforce([_opportunity(n) for n in range(1, 6)], [])

    async def pages() -> list[int]:
        found = iter_won(fake, Window(), page_size=2)  # type: ignore[arg-type]
        return [len(page) async for page in found]

    assert _run(pages()) == [2, 2, 1]


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
