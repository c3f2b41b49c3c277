"""The SQLite record store: ids per group, external-id uniqueness, transactions, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from dealbridge.connectors.netsuite.emulator.records import RecordService
from dealbridge.connectors.netsuite.emulator.store import RecordStore, StoredRecord


def _record(record_type: str, ext_id: str | None = None, record_id: int = 0) -> StoredRecord:
    return StoredRecord(record_type, record_id, ext_id, {"name": record_type})


@pytest.fixture
def store() -> RecordStore:
    return RecordStore(":memory:")


def test_ids_count_per_group_so_entities_share_one_sequence(store: RecordStore) -> None:
    assert store.insert(_record("customer"), "entity") == 1
    assert store.insert(_record("contact"), "entity") == 2
    assert store.insert(_record("item"), "item") == 1
    assert store.insert(_record("customer"), "entity") == 3


def test_an_explicit_id_moves_the_counter_past_it(store: RecordStore) -> None:
    assert store.insert(_record("item", record_id=30), "item") == 30
    assert store.insert(_record("item"), "item") == 31
    assert store.insert(_record("item", record_id=5), "item") == 5
    assert store.insert(_record("item"), "item") == 32


def test_a_deleted_id_is_never_handed_out_again(store: RecordStore) -> None:
    first = store.insert(_record("customer"), "entity")
    store.delete("entity", first)
    assert store.get("entity", first) is None
    assert store.insert(_record("customer"), "entity") == first + 1


def test_external_ids_are_unique_per_group_not_per_type(store: RecordStore) -> None:
    store.insert(_record("customer", "SF-1"), "entity")
    with pytest.raises(sqlite3.IntegrityError):
        store.insert(_record("contact", "SF-1"), "entity")
    store.insert(_record("item", "SF-1"), "item")  # another group: fine
    found = store.find_external("entity", "SF-1")
    assert found is not None
    assert (found.type, found.ext_id) == ("customer", "SF-1")
    assert store.find_external("entity", "sf-1") is None  # exact match (§9, UNCONFIRMED)


def test_update_replaces_the_document_and_external_id(store: RecordStore) -> None:
    record_id = store.insert(_record("customer", "A"), "entity")
    store.update(StoredRecord("customer", record_id, "B", {"name": "renamed"}), "entity")
    stored = store.get("entity", record_id)
    assert stored is not None
    assert (stored.ext_id, stored.doc) == ("B", {"name": "renamed"})
    assert store.find_external("entity", "A") is None


def test_records_types_count_and_clear(store: RecordStore) -> None:
    for _ in range(3):
        store.insert(_record("customer"), "entity")
    store.insert(_record("contact"), "entity")
    assert [r.id for r in store.records("customer")] == [1, 2, 3]
    assert store.types() == ["contact", "customer"]
    assert store.count() == 4
    store.clear()
    assert store.count() == 0
    assert store.insert(_record("customer"), "entity") == 1


def test_a_failed_transaction_leaves_nothing_behind(store: RecordStore) -> None:
    def fail_midway() -> None:
        with store.transaction():
            store.insert(_record("customer", "X"), "entity")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    assert store.count() == 0
    assert store.find_external("entity", "X") is None


def test_nested_transactions_join_the_outer_one(store: RecordStore) -> None:
    def fail_after_inner() -> None:
        with store.transaction():
            store.insert(_record("customer"), "entity")
            with store.transaction():
                store.insert(_record("customer"), "entity")
            raise RuntimeError("outer")

    with pytest.raises(RuntimeError, match="outer"):
        fail_after_inner()
    assert store.count() == 0


def test_records_survive_a_reopen_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    first = RecordStore(path)
    record_id = first.insert(_record("customer", "KEEP"), "entity")
    first.close()
    second = RecordStore(str(path))
    stored = second.find_external("entity", "KEEP")
    assert stored is not None
    assert stored.id == record_id
    assert second.insert(_record("customer"), "entity") == record_id + 1
    second.close()


def test_a_reopened_service_does_not_load_reference_data_twice(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    first = RecordStore(path)
    RecordService(first)
    count = first.count()
    first.close()
    second = RecordStore(path)
    RecordService(second)
    assert second.count() == count
    second.close()


def test_parallel_writers_get_distinct_ids(store: RecordStore) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def write(worker: int) -> None:
        for n in range(50):
            new_id = store.insert(_record("customer", f"W{worker}-{n}"), "entity")
            with lock:
                ids.append(new_id)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 401))
    assert store.count() == 400


def test_parallel_upserts_of_one_external_id_make_one_record() -> None:
    svc = RecordService(RecordStore(":memory:"))
    body = {"companyName": "Race Ltd", "subsidiary": {"id": "1"}}
    results: list[str] = []

    def upsert() -> None:
        for _ in range(20):
            results.append(svc.upsert("customer", "SFACC-RACE", body, strict_fields=True))

    threads = [threading.Thread(target=upsert) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert [c["externalId"] for c in svc.dump("customer")] == ["SFACC-RACE"]
