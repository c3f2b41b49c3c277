"""query / queryAll, ``nextRecordsUrl`` paging and nested child paging (contracts §1.2, §1.3)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from dealbridge.connectors.salesforce.soql import Soql, soql
from dealbridge.errors import ConfigError, UnexpectedResponseError
from tests.unit.salesforce_client.conftest import DATA, INSTANCE, Harness, page

pytestmark = pytest.mark.anyio

QUERY = soql("SELECT Id, Name FROM Account WHERE Name = {}", "O'Brien & Co")


def row(record_id: str, **fields: Any) -> dict[str, Any]:
    url = f"{DATA}/sobjects/Account/{record_id}"
    return {"attributes": {"type": "Account", "url": url}, "Id": record_id, **fields}


def child(records: list[dict[str, Any]], next_url: str | None = None, total: int = 0) -> Any:
    result: dict[str, Any] = {
        "totalSize": total or len(records),
        "done": next_url is None,
        "records": records,
    }
    if next_url:
        result["nextRecordsUrl"] = next_url
    return result


async def test_query_sends_the_soql_and_returns_the_first_page(harness: Harness) -> None:
    harness.fake.queue(page([row("001A")], next_url=f"{DATA}/query/01gXX-2000", total=4000))
    async with harness.client as client:
        result = await client.query(QUERY)
    assert result.total_size == 4000
    assert result.done is False
    assert result.next_records_url == f"{DATA}/query/01gXX-2000"
    assert result.records[0]["Id"] == "001A"
    request = harness.fake.requests[0]
    assert request.method == "GET"
    assert request.url.path == f"{DATA}/query"
    assert parse_qs(request.url.query.decode())["q"] == [str(QUERY)]
    assert request.headers["Accept"] == "application/json"


async def test_include_deleted_uses_query_all(harness: Harness) -> None:
    harness.fake.queue(page([]))
    async with harness.client as client:
        await client.query_all(QUERY, include_deleted=True)
    assert harness.fake.requests[0].url.path == f"{DATA}/queryAll"


async def test_plain_strings_are_refused_before_sending(harness: Harness) -> None:
    async with harness.client as client:
        with pytest.raises(ConfigError, match=r"soql\(\)"):
            await client.query("SELECT Id FROM Account")  # type: ignore[arg-type]
    assert harness.fake.requests == []
    assert harness.fake.token_requests == []


async def test_batch_size_goes_in_the_query_options_header(harness: Harness) -> None:
    harness.fake.queue(page([row("001A")], next_url=f"{DATA}/query/01g-500"), page([]))
    async with harness.client as client:
        await client.query_all(QUERY, batch_size=500)
    for request in harness.fake.requests:
        assert request.headers["Sforce-Query-Options"] == "batchSize=500"


@pytest.mark.parametrize("size", [199, 2001, 0])
async def test_batch_sizes_outside_200_to_2000_are_refused(harness: Harness, size: int) -> None:
    async with harness.client as client:
        with pytest.raises(ConfigError, match="batch_size"):
            await client.query(QUERY, batch_size=size)


async def test_query_all_follows_next_records_url(harness: Harness) -> None:
    harness.fake.queue(
        page([row("001A"), row("001B")], next_url=f"{DATA}/query/01gXX-2", total=5),
        page([row("001C"), row("001D")], next_url=f"{DATA}/query/01gXX-4", total=5),
        page([row("001E")], total=5),
    )
    async with harness.client as client:
        records = await client.query_all(QUERY)
    assert [r["Id"] for r in records] == ["001A", "001B", "001C", "001D", "001E"]
    locators = [str(request.url) for request in harness.fake.requests[1:]]
    assert locators == [f"{INSTANCE}{DATA}/query/01gXX-2", f"{INSTANCE}{DATA}/query/01gXX-4"]
    assert all(request.url.query == b"" for request in harness.fake.requests[1:])


async def test_nested_child_pages_are_merged_into_the_parent(harness: Harness) -> None:
    parent = row(
        "001A",
        Contacts=child([row("003-1"), row("003-2")], next_url=f"{DATA}/query/01gCH-2", total=5),
        Opportunities=None,
    )
    harness.fake.queue(
        page([parent]),
        page([row("003-3"), row("003-4")], next_url=f"{DATA}/query/01gCH-4", total=5),
        page([row("003-5")], total=5),
    )
    async with harness.client as client:
        [record] = await client.query_all(QUERY)
    contacts = record["Contacts"]
    assert [c["Id"] for c in contacts["records"]] == ["003-1", "003-2", "003-3", "003-4", "003-5"]
    assert contacts["done"] is True
    assert "nextRecordsUrl" not in contacts
    assert contacts["totalSize"] == 5
    assert record["Opportunities"] is None  # no children stays null (§1.3)
    assert len(harness.fake.requests) == 3


async def test_children_on_later_pages_and_grandchildren_are_completed(harness: Harness) -> None:
    grandchild_page = child([row("a0v-1")], next_url=f"{DATA}/query/01gGC-1", total=2)
    quote = row("a0q-1", SBQQ__LineItems__r=grandchild_page)
    harness.fake.queue(
        page([row("006-1")], next_url=f"{DATA}/query/01gTOP-1", total=2),
        page([row("006-2", SBQQ__Quotes2__r=child([quote]))], total=2),
        page([row("a0v-2")]),
    )
    async with harness.client as client:
        records = await client.query_all(QUERY)
    lines = records[1]["SBQQ__Quotes2__r"]["records"][0]["SBQQ__LineItems__r"]
    assert [line["Id"] for line in lines["records"]] == ["a0v-1", "a0v-2"]
    assert lines["done"] is True


async def test_iter_query_yields_page_by_page(harness: Harness) -> None:
    harness.fake.queue(
        page([row("001A")], next_url=f"{DATA}/query/01gXX-1", total=2),
        page([row("001B")], total=2),
    )
    async with harness.client as client:
        iterator = client.iter_query(QUERY)
        first = await iterator.__anext__()
        assert first["Id"] == "001A"
        assert len(harness.fake.requests) == 1  # the second page is not fetched yet
        rest = [record async for record in iterator]
    assert [r["Id"] for r in rest] == ["001B"]


@pytest.mark.parametrize(
    "bad_url",
    ["https://evil.example/services/data/v65.0/query/x", "/other/path", "/services/data/../x"],
)
async def test_locators_must_be_paths_on_the_instance(harness: Harness, bad_url: str) -> None:
    harness.fake.queue(page([row("001A")], next_url=bad_url, total=2))
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError, match="nextRecordsUrl"):
            await client.query_all(QUERY)
    assert len(harness.fake.requests) == 1


async def test_a_page_without_records_is_unexpected(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(200, json={"totalSize": 1, "done": True}))
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError, match="records"):
            await client.query(QUERY)


async def test_the_call_record_keeps_the_soql_but_not_the_token(harness: Harness) -> None:
    harness.fake.queue(page([]))
    async with harness.client as client:
        await client.query(QUERY)
    [record] = [r for r in harness.records if r.extra.get("operation") == "GET query"]
    assert record.system == "salesforce"
    assert record.path.startswith(f"{DATA}/query?q=SELECT")
    assert record.status == 200
    assert harness.fake.token_value(1) not in repr(record.as_dict())


def test_soql_is_a_str() -> None:
    assert isinstance(QUERY, str)
    assert isinstance(QUERY, Soql)
