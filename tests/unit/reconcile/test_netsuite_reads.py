"""Bulk SuiteQL reads: the queries they send and how they page, against a fake SuiteQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from dealbridge.errors import RemoteRejectedError
from dealbridge.sync.reconcile_netsuite import (
    interval_chunks,
    like_prefix,
    not_ours,
    read_intervals,
    read_lookalikes,
    read_ours,
)

Row = dict[str, Any]


class FakeSuiteQL:
    """Rows per table, filtered only by what the tests need; every page counted."""

    def __init__(self, tables: dict[str, list[Row]], refuse: Sequence[str] = ()) -> None:
        self.tables = tables
        self.refuse = refuse
        self.queries: list[tuple[list[str], str, str | None]] = []
        self.pages = 0

    async def suiteql_by_key(
        self,
        select_list: Sequence[str],
        table: str,
        where: str | None = None,
        *,
        key: str = "id",
        page_size: int = 1000,
    ) -> AsyncIterator[Row]:
        self.queries.append((list(select_list), table, where))
        if any(word in select_list or word == table for word in self.refuse):
            raise RemoteRejectedError("Unknown identifier", system="netsuite")
        rows = self.tables.get(table, [])
        for start in range(0, max(len(rows), 1), page_size):
            self.pages += 1
            for row in rows[start : start + page_size]:
                yield row


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_prefix_is_escaped_for_like() -> None:
    assert like_prefix("SFACC-") == "externalid LIKE 'SFACC-%' ESCAPE '\\'"
    assert like_prefix("A_B%") == "externalid LIKE 'A\\_B\\%%' ESCAPE '\\'"
    assert not_ours(["SFACC-"]).startswith("externalid IS NULL OR NOT (")


def test_our_records_are_read_by_prefix_with_the_planned_columns() -> None:
    fake = FakeSuiteQL({"customer": [{"id": "1", "externalid": "SFACC-1", "companyname": "A"}]})

    rows = _run(read_ours(fake, "customer", ["SFACC-"], ["companyname"]))

    assert rows == {"SFACC-1": {"id": "1", "externalid": "SFACC-1", "companyname": "A"}}
    assert fake.queries == [
        (["id", "externalid", "companyname"], "customer", "externalid LIKE 'SFACC-%' ESCAPE '\\'")
    ]


def test_a_refused_column_falls_back_to_ids_and_a_refused_table_holds_nothing() -> None:
    fake = FakeSuiteQL({"customrecord_x": [{"id": "1", "externalid": "SFPKG-1"}]}, ["custrecord_y"])
    assert _run(read_ours(fake, "customrecord_x", ["SFPKG-"], ["custrecord_y"])) == {
        "SFPKG-1": {"id": "1", "externalid": "SFPKG-1"}
    }
    assert _run(read_ours(FakeSuiteQL({}, ["customrecord_z"]), "customrecord_z", ["S-"], [])) == {}


def test_interval_queries_are_sized_to_fill_a_page() -> None:
    expected = {str(n): 3 for n in range(1, 1001)}  # 3,000 intervals over 1,000 subscriptions
    chunks = interval_chunks(expected)
    assert [len(chunk) for chunk in chunks] == [333, 333, 333, 1]
    many = interval_chunks({str(n): 0 for n in range(1, 1501)})  # at most 1,000 per IN list
    assert [len(chunk) for chunk in many] == [1000, 500]


def test_intervals_are_grouped_by_subscription() -> None:
    rows = [{"subscription": "7", "quantity": "1"}, {"subscription": "8", "quantity": "2"}]
    fake = FakeSuiteQL({"subscriptionpriceinterval": rows})

    found = _run(read_intervals(fake, {"7": 1, "8": 1}))

    assert found == {"7": [rows[0]], "8": [rows[1]]}
    assert fake.queries[0][2] == "subscription IN (7, 8)"


def test_few_records_without_our_prefix_are_read_and_matched_here() -> None:
    foreign = [
        {"id": "5", "externalid": None, "companyname": "ACME ", "email": None},
        {"id": "6", "externalid": None, "companyname": "Other", "email": "x@y.example"},
    ]
    fake = FakeSuiteQL({"customer": foreign})

    found = _run(
        read_lookalikes(fake, "customer", ["SFACC-"], ("companyname", "email"), (["Acme"], []))
    )

    assert [row["id"] for row in found] == ["5"]
    assert len(fake.queries) == 1
    assert fake.queries[0][2] == not_ours(["SFACC-"])


def test_many_records_without_our_prefix_are_searched_by_in_lists_instead() -> None:
    foreign = [{"id": str(n), "externalid": None, "companyname": f"C{n}"} for n in range(1500)]
    fake = FakeSuiteQL({"customer": foreign})
    names = [f"Name {n}" for n in range(10)]

    _run(read_lookalikes(fake, "customer", ["SFACC-"], ("companyname", "email"), (names, [])))

    where = fake.queries[-1][2] or ""
    assert re.search(r"LOWER\(companyname\) IN \('name 0', .*'name 9'\)", where)
    assert fake.queries[0][2] == not_ours(["SFACC-"])
    assert len(fake.queries) == 2  # the scan, given up past one page's worth, then the IN list
