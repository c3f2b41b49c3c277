"""The emulator's store, record service and query paging, in process (no HTTP).

What the contract tests can only see from outside: savepoints nest and roll back exactly their
own writes, change notifications wait for the outermost commit, Ids are deterministic, and the
pager counts child rows toward the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from dealbridge.connectors.salesforce.emulator.cursors import QueryCursors, batch_size
from dealbridge.connectors.salesforce.emulator.records import RecordService, format_auto_number
from dealbridge.connectors.salesforce.emulator.store import RecordStore
from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError, version_label
from dealbridge.connectors.salesforce.models import is_salesforce_id

Change = tuple[str, Mapping[str, Any] | None, Mapping[str, Any]]


@pytest.fixture
def changes() -> list[Change]:
    return []


@pytest.fixture
def service(changes: list[Change]) -> RecordService:
    def listen(sobject: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
        changes.append((sobject, before, after))

    return RecordService(RecordStore(), listener=listen)


def test_ids_are_deterministic_18_character_and_never_reused() -> None:
    first, second = RecordStore(), RecordStore()
    ids = [first.next_id("001") for _ in range(3)]
    assert ids == [second.next_id("001") for _ in range(3)]
    assert all(is_salesforce_id(i) and len(i) == 18 and i.startswith("001") for i in ids)
    assert len(set(ids)) == 3


def test_inner_failure_rolls_back_only_its_savepoint(
    service: RecordService, changes: list[Change]
) -> None:
    store = service.store
    with store.transaction():
        kept = service.create("Account", {"Name": "Kept"})
        with pytest.raises(SalesforceApiError):
            service.create("Opportunity", {"Name": "No stage"})
        assert changes == []  # nothing is announced before the outer commit
    assert [row["Id"] for row in store.records("Account")] == [kept]
    assert [change[0] for change in changes] == ["Account"]


def test_outer_rollback_drops_writes_and_notifications(
    service: RecordService, changes: list[Change]
) -> None:
    def create_then_fail() -> None:
        with service.store.transaction():
            service.create("Account", {"Name": "Gone"})
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert service.store.records("Account") == []
    assert changes == []


def test_org_computed_fields(service: RecordService, changes: list[Change]) -> None:
    contact = service.create("Contact", {"FirstName": "Ada", "LastName": "Lovelace"})
    assert service.store.get("Contact", contact)["Name"] == "Ada Lovelace"  # type: ignore[index]
    account = service.create("Account", {"Name": "A"})
    quote = service.create("SBQQ__Quote__c", {"SBQQ__Account__c": account})
    assert service.store.get("SBQQ__Quote__c", quote)["Name"] == "Q-00001"  # type: ignore[index]
    service.delete("Account", account)
    deleted = service.store.get("Account", account)
    assert deleted is not None
    assert deleted["IsDeleted"] is True
    assert changes[-1][2]["IsDeleted"] is True
    assert format_auto_number("QL-{0000000}", 42) == "QL-0000042"


def test_children_are_found_by_index(service: RecordService) -> None:
    account = service.create("Account", {"Name": "Parent"})
    contacts = [service.create("Contact", {"LastName": n, "AccountId": account}) for n in "ab"]
    found = service.store.children("Contact", "AccountId", account[:15])
    assert [row["Id"] for row in found] == contacts


def _rows(count: int, children: int = 0) -> list[dict[str, Any]]:
    child = {"totalSize": children, "done": True, "records": [{"Id": n} for n in range(children)]}
    return [{"Id": n, "Kids": child if children else None} for n in range(count)]


def test_pages_count_child_rows_and_cut_long_child_lists() -> None:
    cursors = QueryCursors()
    page = cursors.first_page(_rows(5, children=99), 5, 200, "65.0")
    assert len(page["records"]) == 2  # 2 x (1 + 99) = 200
    cut = cursors.first_page(_rows(1, children=450), 1, 200, "65.0")["records"][0]["Kids"]
    assert (cut["done"], len(cut["records"]), cut["totalSize"]) == (False, 200, 450)
    rest = cursors.next_page(cut["nextRecordsUrl"].rsplit("/", 1)[1])
    assert len(rest["records"]) == 200


@pytest.mark.parametrize(
    ("header", "size"),
    [(None, 2000), ("batchSize=500", 500), ("batchSize=10", 200), ("batchSize=9999", 2000)],
)
def test_batch_size_hint_is_clamped(header: str | None, size: int) -> None:
    assert batch_size(header) == size


def test_version_labels() -> None:
    assert [version_label(n) for n in (31, 64, 65, 66)] == [
        "Summer '14",
        "Summer '25",
        "Winter '26",
        "Spring '26",
    ]
