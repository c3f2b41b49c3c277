"""The id map: canonical payload hashes, bulk lookups, upserts, overrides, listing, deletion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dealbridge.core.records import RecordKey, SourceRecord
from dealbridge.db.synced import (
    SyncedWrite,
    clear_override_payload,
    delete_synced,
    get_synced,
    is_unchanged,
    list_synced,
    payload_hash,
    set_override_payload,
    upsert_synced,
)

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
CUSTOMER = RecordKey("customer", "SFACC-001")
CONTACT = RecordKey("contact", "SFCON-003")
PLAN = RecordKey("subscriptionPlan", "SFPLAN-01t")


def _write(
    key: RecordKey, netsuite_id: str, payload: dict[str, Any], group: str = ""
) -> SyncedWrite:
    return SyncedWrite(
        key=key,
        group=group
        or ("entity" if key.record_type in ("customer", "contact") else key.record_type),
        netsuite_id=netsuite_id,
        payload_hash=payload_hash(payload),
        opportunity_id="006A",
        source=SourceRecord("Account", "001A"),
        flow="cpq_closed_won",
    )


@contextmanager
def _count_selects(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


class TestPayloadHash:
    def test_is_sha256_hex(self) -> None:
        digest = payload_hash({"a": 1})
        assert len(digest) == 64
        assert int(digest, 16) >= 0

    def test_integral_floats_hash_as_integers(self) -> None:
        assert payload_hash({"quantity": 10}) == payload_hash({"quantity": 10.0})
        assert payload_hash({"q": [1, 2.0]}) == payload_hash({"q": [1.0, 2]})
        assert payload_hash({"price": Decimal("10.00")}) == payload_hash({"price": 10})
        assert payload_hash({"price": Decimal("10.50")}) == payload_hash({"price": 10.5})
        assert payload_hash({"x": -0.0}) == payload_hash({"x": 0})

    def test_key_order_does_not_matter(self) -> None:
        one = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
        two = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
        assert payload_hash(one) == payload_hash(two)

    def test_different_values_differ(self) -> None:
        assert payload_hash({"q": 10}) != payload_hash({"q": 10.5})
        assert payload_hash({"q": [1, 2]}) != payload_hash({"q": [2, 1]})
        assert payload_hash({"q": None}) != payload_hash({})
        assert payload_hash({"q": True}) != payload_hash({"q": 1})
        assert payload_hash({"q": "10"}) != payload_hash({"q": 10})

    def test_tuples_and_dates(self) -> None:
        assert payload_hash({"l": (1, 2)}) == payload_hash({"l": [1, 2]})
        assert payload_hash({"d": date(2025, 1, 31)}) == payload_hash({"d": "2025-01-31"})

    @pytest.mark.parametrize("bad", [float("nan"), float("inf"), Decimal("NaN")])
    def test_non_finite_numbers_are_refused(self, bad: Any) -> None:
        with pytest.raises(ValueError, match="non-finite"):
            payload_hash({"x": bad})

    def test_unknown_types_are_refused(self) -> None:
        with pytest.raises(TypeError, match="cannot hash a payload holding object"):
            payload_hash({"x": object()})


def test_upsert_then_get(session: Session) -> None:
    assert (
        upsert_synced(
            session, [_write(CUSTOMER, "101", {"companyName": "Acme"})], run_id="r1", at=T0
        )
        == 1
    )
    row = get_synced(session, [CUSTOMER])[CUSTOMER]
    assert (row.record_group, row.netsuite_id, row.last_run_id) == ("entity", "101", "r1")
    assert (row.source_sobject, row.source_id, row.flow) == ("Account", "001A", "cpq_closed_won")
    assert row.last_synced_at == T0
    assert row.payload_hash == payload_hash({"companyName": "Acme"})


def test_upsert_updates_in_place(session: Session) -> None:
    upsert_synced(session, [_write(CUSTOMER, "101", {"n": 1})], run_id="r1", at=T0)
    get_synced(session, [CUSTOMER])  # loaded into the session before the update
    later = datetime(2025, 6, 2, tzinfo=UTC)
    upsert_synced(session, [_write(CUSTOMER, "101", {"n": 2})], run_id="r2", at=later)
    row = get_synced(session, [CUSTOMER])[CUSTOMER]
    assert (row.payload_hash, row.last_run_id, row.last_synced_at) == (
        payload_hash({"n": 2}),
        "r2",
        later,
    )
    assert len(list_synced(session)) == 1


def test_customer_and_contact_share_the_entity_group(session: Session) -> None:
    customer = RecordKey("customer", "SFX-1")
    upsert_synced(session, [_write(customer, "1", {})], run_id="r1")
    contact = RecordKey("contact", "SFX-1")
    upsert_synced(session, [_write(contact, "2", {})], run_id="r2")
    rows = list_synced(session)
    assert [(r.record_group, r.record_type, r.netsuite_id) for r in rows] == [
        ("entity", "contact", "2")
    ]
    other_group = RecordKey("subscriptionPlan", "SFX-1")
    upsert_synced(session, [_write(other_group, "3", {})], run_id="r3")
    assert len(list_synced(session)) == 2


def test_get_synced_uses_one_query_for_many_keys(session: Session, engine: Engine) -> None:
    keys = [RecordKey("customer", f"SFACC-{i:04d}") for i in range(300)]
    upsert_synced(
        session, [_write(key, str(i), {"i": i}) for i, key in enumerate(keys)], run_id="r"
    )
    missing = RecordKey("customer", "SFACC-none")
    with _count_selects(engine) as selects:
        found = get_synced(session, [*keys, missing, keys[0]])
    assert len(selects) == 1
    assert set(found) == set(keys)
    assert found[keys[7]].netsuite_id == "7"


def test_get_synced_chunks_very_long_key_lists(session: Session, engine: Engine) -> None:
    keys = [RecordKey("contact", f"SFCON-{i:04d}") for i in range(900)]
    upsert_synced(session, [_write(key, str(i), {}) for i, key in enumerate(keys)], run_id="r")
    with _count_selects(engine) as selects:
        found = get_synced(session, keys)
    assert len(found) == 900
    assert len(selects) == 3


def test_get_synced_of_nothing(session: Session) -> None:
    assert get_synced(session, []) == {}


def test_is_unchanged(session: Session) -> None:
    payload = {"companyName": "Acme", "creditLimit": 10}
    assert not is_unchanged(session, CUSTOMER, payload_hash(payload))
    upsert_synced(session, [_write(CUSTOMER, "101", payload)], run_id="r1")
    assert is_unchanged(
        session, CUSTOMER, payload_hash({"creditLimit": 10.0, "companyName": "Acme"})
    )
    assert not is_unchanged(session, CUSTOMER, payload_hash({**payload, "creditLimit": 11}))
    assert not is_unchanged(session, RecordKey("contact", "SFACC-001"), payload_hash(payload))


def test_override_lifecycle(session: Session) -> None:
    payload = {"companyName": "Acme"}
    upsert_synced(session, [_write(CUSTOMER, "101", payload)], run_id="r1")
    set_override_payload(session, CUSTOMER, group="entity", payload={"companyName": "Acme Ltd"})
    row = get_synced(session, [CUSTOMER])[CUSTOMER]
    assert row.override_payload == {"companyName": "Acme Ltd"}
    assert row.netsuite_id == "101"  # the override keeps what was synced
    assert not is_unchanged(session, CUSTOMER, payload_hash(payload))  # pending edit: write
    upsert_synced(session, [_write(CUSTOMER, "101", {"companyName": "Acme Ltd"})], run_id="r2")
    assert get_synced(session, [CUSTOMER])[CUSTOMER].override_payload is None


def test_override_of_a_record_never_written(session: Session) -> None:
    set_override_payload(
        session, CONTACT, group="entity", payload={"email": "ok@example.com"}, opportunity_id="006A"
    )
    row = get_synced(session, [CONTACT])[CONTACT]
    assert (row.netsuite_id, row.payload_hash, row.opportunity_id) == (None, None, "006A")
    assert not is_unchanged(session, CONTACT, payload_hash({}))
    clear_override_payload(session, CONTACT)
    assert get_synced(session, [CONTACT])[CONTACT].override_payload is None
    clear_override_payload(session, RecordKey("contact", "unknown"))  # nothing to clear


def test_list_synced_by_prefix_type_and_deal(session: Session) -> None:
    upsert_synced(
        session,
        [
            _write(CUSTOMER, "101", {}),
            _write(CONTACT, "102", {}),
            _write(PLAN, "103", {}),
            _write(RecordKey("customer", "SF_ACC-odd"), "104", {}),
        ],
        run_id="r1",
    )
    assert [r.external_id for r in list_synced(session, prefix="SFACC-")] == ["SFACC-001"]
    assert [r.external_id for r in list_synced(session, prefix="SF_")] == ["SF_ACC-odd"]
    assert [r.external_id for r in list_synced(session, record_type="subscriptionPlan")] == [
        "SFPLAN-01t"
    ]
    assert len(list_synced(session, opportunity_id="006A")) == 4
    assert list_synced(session, opportunity_id="006Z") == []
    ordered = [r.external_id for r in list_synced(session)]
    assert ordered == ["SFACC-001", "SFCON-003", "SF_ACC-odd", "SFPLAN-01t"]
    assert [r.external_id for r in list_synced(session, limit=2, offset=1)] == ordered[1:3]


def test_delete_synced(session: Session) -> None:
    upsert_synced(session, [_write(CUSTOMER, "1", {}), _write(CONTACT, "2", {})], run_id="r")
    assert delete_synced(session, [CUSTOMER, RecordKey("customer", "gone")]) == 1
    assert set(get_synced(session, [CUSTOMER, CONTACT])) == {CONTACT}
    assert delete_synced(session, []) == 0
