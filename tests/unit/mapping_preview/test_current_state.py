"""``read_current_state``: SuiteQL for internal ids, GETs only for records that exist."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import pytest

from dealbridge.core.records import RecordKey
from dealbridge.errors import NotFoundError, RemoteRejectedError, TransientError
from dealbridge.mapping.current_state import internal_id_query, read_current_state

pytestmark = pytest.mark.anyio
_IN_LIST = re.compile(r"FROM (\w+) WHERE externalid IN \((.*)\) ORDER BY id$")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeNetSuite:
    """Records by type and external id; answers SuiteQL id queries and GETs, counts calls."""

    base_url = "https://fake"

    def __init__(self, records: dict[str, dict[str, str]], refused: Sequence[str] = ()) -> None:
        self.records = records  # type -> external id -> internal id
        self.refused = set(refused)
        self.queries: list[str] = []
        self.gets: list[tuple[str, str, bool]] = []
        self.deleted: set[str] = set()
        self.in_flight = 0
        self.max_in_flight = 0

    async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
        self.queries.append(query)
        match = _IN_LIST.search(query)
        assert match is not None, query
        table, values = match.group(1), match.group(2)
        if table in self.refused:
            raise RemoteRejectedError("Invalid search type", system="netsuite", status=400)
        wanted = {value.strip("'") for value in values.split(", ")}
        stored = {kind.lower(): ids for kind, ids in self.records.items()}.get(table, {})
        return [{"id": i, "externalid": e} for e, i in sorted(stored.items()) if e in wanted]

    async def get(
        self,
        record_type: str,
        ref: str,
        *,
        expand_sub_resources: bool = False,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        self.gets.append((record_type, ref, expand_sub_resources))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0)  # let the other reads start: concurrency is what is measured
        self.in_flight -= 1
        ids = self.records.get(record_type, {})
        internal = ids.get(ref.removeprefix("eid:")) if ref.startswith("eid:") else ref
        if internal is None or internal in self.deleted or internal not in ids.values():
            raise NotFoundError("no such record", system="netsuite", status=404)
        return {"links": [], "id": internal, "type": record_type}


def keys(record_type: str, *external_ids: str) -> list[RecordKey]:
    return [RecordKey(record_type, external_id) for external_id in external_ids]


async def test_existing_records_are_found_by_one_query_per_type_and_read_expanded() -> None:
    netsuite = FakeNetSuite({"customer": {"SFACC-1": "7"}, "billingAccount": {"SFBA-1": "9"}})
    wanted = [*keys("customer", "SFACC-1"), *keys("contact", "SFCON-1", "SFCON-2"),
              *keys("billingAccount", "SFBA-1")]  # fmt: skip
    state = await read_current_state(netsuite, wanted)
    assert state.internal_ids == {
        RecordKey("customer", "SFACC-1"): "7",
        RecordKey("billingAccount", "SFBA-1"): "9",
    }
    assert set(state.records) == set(state.internal_ids)
    assert len(netsuite.queries) == 3  # billingAccount, contact, customer
    assert sorted(netsuite.gets) == [("billingAccount", "9", True), ("customer", "7", True)]


def test_the_query_escapes_every_external_id_and_lower_cases_the_table() -> None:
    query = internal_id_query("billingAccount", ["SFBA-1", "it's"])
    assert query == (
        "SELECT id, externalid FROM billingaccount WHERE externalid IN ('SFBA-1', 'it''s') "
        "ORDER BY id"
    )


async def test_more_than_1000_external_ids_are_split_into_queries_of_1000() -> None:
    netsuite = FakeNetSuite({})
    await read_current_state(netsuite, keys("contact", *(f"C-{n:04d}" for n in range(2500))))
    sizes = [query.count("'C-") for query in netsuite.queries]
    assert sizes == [1000, 1000, 500]
    assert netsuite.gets == []


async def test_a_type_suiteql_refuses_is_read_by_external_id() -> None:
    netsuite = FakeNetSuite({"customrecord_pkg": {"SFPKG-1": "3"}}, refused=["customrecord_pkg"])
    state = await read_current_state(netsuite, keys("customrecord_pkg", "SFPKG-1", "SFPKG-2"))
    assert state.internal_ids == {RecordKey("customrecord_pkg", "SFPKG-1"): "3"}
    assert sorted(netsuite.gets) == [
        ("customrecord_pkg", "eid:SFPKG-1", True),
        ("customrecord_pkg", "eid:SFPKG-2", True),
    ]


async def test_a_record_deleted_after_the_query_counts_as_absent() -> None:
    netsuite = FakeNetSuite({"customer": {"SFACC-1": "7"}})
    netsuite.deleted.add("7")
    state = await read_current_state(netsuite, keys("customer", "SFACC-1"))
    assert state.records == {}


async def test_reads_run_a_few_at_a_time() -> None:
    netsuite = FakeNetSuite({"contact": {f"C-{n}": str(n) for n in range(20)}})
    await read_current_state(
        netsuite, keys("contact", *(f"C-{n}" for n in range(20))), concurrency=3
    )
    assert len(netsuite.gets) == 20
    assert 1 < netsuite.max_in_flight <= 3


async def test_an_outage_propagates_as_itself() -> None:
    class Down(FakeNetSuite):
        async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
            raise TransientError("NetSuite is down", system="netsuite", status=503)

    with pytest.raises(TransientError, match="down"):
        await read_current_state(Down({}), keys("customer", "A", "B"))
