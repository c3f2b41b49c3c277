"""SuiteQL literals (injection-safe), paging by offset and by key, and tolerant value typing."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from dealbridge.connectors.netsuite import models
from dealbridge.connectors.netsuite.suiteql import (
    as_bool,
    as_decimal,
    as_int,
    as_str,
    iter_by_key,
    iter_rows,
    keyed_query,
    sql_identifier,
    sql_in_list,
    sql_literal,
)
from dealbridge.errors import ConfigError, UnexpectedResponseError, ValidationError
from tests.unit.netsuite_client.conftest import FakeNetSuite, make_harness, tba_settings

# -- literals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("SFACC-001", "'SFACC-001'"),
        ("O'Brien", "'O''Brien'"),
        ("x' OR '1'='1", "'x'' OR ''1''=''1'"),
        ("'; DROP TABLE customer; --", "'''; DROP TABLE customer; --'"),
        ("back\\slash", "'back\\slash'"),
        ("", "''"),
        ("Zürich €", "'Zürich €'"),
        (True, "'T'"),
        (False, "'F'"),
        (42, "42"),
        (-7, "-7"),
        (1.5, "1.5"),
        (1e20, "100000000000000000000"),
        (Decimal("12.3400"), "12.3400"),
        (None, "NULL"),
        (date(2026, 1, 31), "TO_DATE('2026-01-31', 'YYYY-MM-DD')"),
        (
            datetime(2026, 1, 31, 13, 5, 0),
            "TO_DATE('2026-01-31 13:05:00', 'YYYY-MM-DD HH24:MI:SS')",
        ),
    ],
)
def test_sql_literal(value: object, literal: str) -> None:
    assert sql_literal(value) == literal


@pytest.mark.parametrize("value", ["nul\x00byte", "new\nline", "tab\there", "bell\x07", "del\x7f"])
def test_control_characters_are_refused(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sql_literal(value)
    assert caught.value.rule == "sql_literal_chars"


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")]
)
def test_non_finite_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        sql_literal(value)


def test_overlong_string_is_refused() -> None:
    with pytest.raises(ValidationError):
        sql_literal("x" * 4001)


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, b"bytes", object()])
def test_values_without_a_literal_form(value: object) -> None:
    with pytest.raises(TypeError):
        sql_literal(value)


def test_every_quote_in_a_literal_is_doubled() -> None:
    hostile = "a'b''c'''"
    literal = sql_literal(hostile)
    inner = literal[1:-1]
    assert literal[0] == literal[-1] == "'"
    assert re.fullmatch(r"(?:[^']|'')*", inner)
    assert inner.replace("''", "'") == hostile


def test_sql_in_list() -> None:
    assert sql_in_list(["A", "B'C", 3, True]) == "('A', 'B''C', 3, 'T')"


@pytest.mark.parametrize("values", [[], ["x"] * 1001])
def test_sql_in_list_bounds(values: list[str]) -> None:
    with pytest.raises(ValidationError):
        sql_in_list(values)


def test_sql_in_list_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError):
        sql_in_list("abc")


@pytest.mark.parametrize("name", ["id; DROP", "a b", "x'--", "1abc", "", "a.b.c"])
def test_bad_identifiers(name: str) -> None:
    with pytest.raises(ConfigError):
        sql_identifier(name)


def test_keyed_query_shapes() -> None:
    where = f"externalid LIKE {sql_literal('SF%')}"
    assert keyed_query(["entityid"], "customer", where, "id", "120") == (
        "SELECT entityid, id FROM customer WHERE (externalid LIKE 'SF%') AND id > 120 ORDER BY id"
    )
    assert (
        keyed_query(["id", "x"], "item", None, "id", None) == "SELECT id, x FROM item ORDER BY id"
    )
    assert "id > 'A''B'" in keyed_query(["id"], "t", None, "id", "A'B")


# -- paging -----------------------------------------------------------------------------------


class FakeTable:
    """A SuiteQL endpoint over ``rows`` that understands ``id > N`` and checks NetSuite's rules."""

    def __init__(self, count: int) -> None:
        self.rows = [
            {"links": [], "id": str(n * 3), "name": f"row {n}"} for n in range(1, count + 1)
        ]
        self.calls: list[tuple[str, int, int]] = []

    async def fetch(self, query: str, limit: int, offset: int) -> models.Page:
        self.calls.append((query, limit, offset))
        assert 1 <= limit <= 1000
        assert offset % limit == 0
        match = re.search(r"id > (\d+)", query)
        rows = [r for r in self.rows if not match or int(r["id"]) > int(match.group(1))]
        page = rows[offset : offset + limit]
        return models.Page(
            items=page,
            count=len(page),
            offset=offset,
            hasMore=offset + limit < len(rows),
            totalResults=len(rows),
        )


@pytest.mark.anyio
async def test_offset_paging_reads_every_row_once() -> None:
    table = FakeTable(25)
    rows = [row async for row in iter_rows(table.fetch, "SELECT id FROM t", page_size=10)]
    assert [row["id"] for row in rows] == [r["id"] for r in table.rows]
    assert all("links" not in row for row in rows)
    assert [offset for _, _, offset in table.calls] == [0, 10, 20]


@pytest.mark.anyio
async def test_offset_paging_stops_at_the_row_cap() -> None:
    table = FakeTable(25)
    with pytest.raises(ConfigError, match="page by key"):
        _ = [row async for row in iter_rows(table.fetch, "q", page_size=10, max_rows=20)]


@pytest.mark.anyio
async def test_empty_result() -> None:
    table = FakeTable(0)
    assert [row async for row in iter_rows(table.fetch, "q")] == []


@pytest.mark.parametrize("page_size", [0, 1001])
@pytest.mark.anyio
async def test_page_size_bounds(page_size: int) -> None:
    with pytest.raises(ConfigError):
        _ = [row async for row in iter_rows(FakeTable(1).fetch, "q", page_size=page_size)]


@pytest.mark.anyio
async def test_key_paging_switches_before_the_cap() -> None:
    table = FakeTable(45)
    rows = [
        row
        async for row in iter_by_key(
            table.fetch, ["name"], "customer", page_size=10, switch_after=20
        )
    ]
    assert [row["id"] for row in rows] == [r["id"] for r in table.rows]
    queries = [(query, offset) for query, _, offset in table.calls]
    assert queries[0] == ("SELECT name, id FROM customer ORDER BY id", 0)
    assert queries[1][1] == 10
    assert queries[2] == ("SELECT name, id FROM customer WHERE id > 60 ORDER BY id", 0)
    assert all(offset + 10 <= 20 for _, offset in queries)


@pytest.mark.anyio
async def test_pure_key_paging_when_asked() -> None:
    table = FakeTable(25)
    rows = [
        row
        async for row in iter_by_key(
            table.fetch, ["id"], "t", "x = 1", page_size=10, switch_after=0
        )
    ]
    assert len(rows) == 25
    assert [offset for _, _, offset in table.calls] == [0, 0, 0]
    assert table.calls[1][0] == "SELECT id FROM t WHERE (x = 1) AND id > 30 ORDER BY id"


@pytest.mark.anyio
async def test_key_paging_needs_the_key_column() -> None:
    async def fetch(query: str, limit: int, offset: int) -> models.Page:
        return models.Page(items=[{"name": "no id"}], hasMore=True)

    with pytest.raises(UnexpectedResponseError):
        _ = [row async for row in iter_by_key(fetch, ["name"], "t", page_size=1, switch_after=0)]


# -- through the client (contracts §4) ---------------------------------------------------------


@pytest.mark.anyio
async def test_client_suiteql_request_shape_and_paging() -> None:
    fake = FakeNetSuite()
    pages = [
        {
            "items": [{"links": [], "id": "1"}, {"links": [], "id": "2"}],
            "hasMore": True,
            "count": 2,
            "offset": 0,
        },
        {"items": [{"links": [], "id": "3"}], "hasMore": False, "count": 1, "offset": 2},
    ]
    fake.queue(*(httpx.Response(200, json=page) for page in pages))
    harness = make_harness(tba_settings(), fake)
    query = "SELECT id FROM customer WHERE externalid = " + sql_literal("SFACC-1")  # noqa: S608
    async with harness.client as client:
        rows = [row async for row in client.suiteql(query, page_size=2)]

    assert rows == [{"id": "1"}, {"id": "2"}, {"id": "3"}]
    first, second = fake.requests
    assert first.method == "POST"
    assert first.url.path == "/services/rest/query/v1/suiteql"
    assert dict(first.url.params) == {"limit": "2", "offset": "0"}
    assert dict(second.url.params) == {"limit": "2", "offset": "2"}
    assert first.headers["Prefer"] == "transient"
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.content) == {"q": query}


@pytest.mark.anyio
async def test_client_suiteql_all_and_by_key() -> None:
    fake = FakeNetSuite(
        default=httpx.Response(200, json={"items": [{"id": "5"}], "hasMore": False})
    )
    harness = make_harness(tba_settings(), fake)
    async with harness.client as client:
        assert await client.suiteql_all("SELECT id FROM item") == [{"id": "5"}]
        rows = [row async for row in client.suiteql_by_key(["itemid"], "item", key="id")]
    assert rows == [{"id": "5"}]
    assert json.loads(fake.requests[1].content)["q"] == "SELECT itemid, id FROM item ORDER BY id"


# -- tolerant typing (contracts §4, UNCONFIRMED) ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("T", True),
        ("F", False),
        (True, True),
        (False, False),
        ("true", True),
        (None, None),
        ("", False),
        (1, True),
        (0, False),
    ],
)
def test_as_bool(value: Any, expected: bool | None) -> None:
    assert as_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("107", 107), (107, 107), (107.0, 107), (" -3 ", -3), (None, None), ("", None)],
)
def test_as_int(value: Any, expected: int | None) -> None:
    assert as_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.50", Decimal("12.50")), (12.5, Decimal("12.5")), (3, Decimal(3)), (None, None)],
)
def test_as_decimal(value: Any, expected: Decimal | None) -> None:
    assert as_decimal(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("x", "x"), (107, "107"), (True, "T"), (None, None)]
)
def test_as_str(value: Any, expected: str | None) -> None:
    assert as_str(value) == expected


@pytest.mark.parametrize(
    ("helper", "value"),
    [
        (as_bool, "maybe"),
        (as_int, "1.5"),
        (as_int, True),
        (as_decimal, "abc"),
        (as_decimal, "NaN"),
        (as_decimal, True),
    ],
)
def test_typing_helpers_refuse_nonsense(helper: Any, value: Any) -> None:
    with pytest.raises(UnexpectedResponseError):
        helper(value)
