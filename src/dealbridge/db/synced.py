"""The id map: which NetSuite record each of our external ids became, and what we last wrote.

This is the ledger half of exactly-once (DESIGN §5): NetSuite upserts by external id make a
repeated write harmless, and the payload hash stored here makes it unnecessary — a record whose
mapped payload hashes the same as last time is not sent again.

Record groups: NetSuite scopes external ids per group (customer and contact share ``entity``).
The caller passes the group (the NetSuite connector knows it); the ledger never imports a
connector.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, tuple_
from sqlalchemy.orm import Session

from dealbridge.core.records import RecordKey, SourceRecord
from dealbridge.db.dialect import (
    Executor,
    UpsertInsert,
    dialect_name,
    upsert_insert,
    upsert_insert_for,
)
from dealbridge.db.models import SyncedRecord
from dealbridge.db.timestamps import ensure_aware, utc_now

# Keys per IN list: far below SQLite's and PostgreSQL's bound-parameter limits.
KEYS_PER_QUERY = 400


@dataclass(frozen=True)
class SyncedWrite:
    """One record the engine has just written to NetSuite."""

    key: RecordKey
    group: str
    netsuite_id: str
    payload_hash: str
    opportunity_id: str | None = None
    source: SourceRecord | None = None
    flow: str | None = None


def payload_hash(payload: Any) -> str:
    """SHA-256 (hex) of the payload's canonical JSON.

    Canonical: keys sorted, no whitespace, UTF-8, and numbers normalised so that equal values
    hash equally whichever type the mapping produced (``10``, ``10.0`` and ``Decimal("10.00")``
    are one number). ``NaN`` and infinities are refused: NetSuite could not store them either.
    """
    text = json.dumps(
        _canonical(payload),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_synced(session: Session, keys: Iterable[RecordKey]) -> dict[RecordKey, SyncedRecord]:
    """The ledger rows of ``keys`` that exist, fetched in one query per 400 keys.

    Rows are always reloaded (``populate_existing``): an upsert earlier in the same session
    bypasses the identity map, and a stale hash would write, or skip, the wrong record.
    """
    found: dict[RecordKey, SyncedRecord] = {}
    for chunk in _chunks(keys):
        query = select(SyncedRecord).where(_KEY_COLUMNS.in_(chunk))
        for row in session.scalars(query.execution_options(populate_existing=True)):
            found[RecordKey(row.record_type, row.external_id)] = row
    return found


def synced_facts(
    session: Executor, keys: Iterable[RecordKey]
) -> dict[RecordKey, tuple[str | None, str | None, dict[str, Any] | None, str | None]]:
    """``(netsuite_id, payload_hash, override_payload, last_run_id)`` of the rows that exist.

    What the upserts step asks before writing, read as columns: no entity is built or kept in the
    session's identity map, so nothing stale can be read back either (``get_synced``).
    """
    found: dict[RecordKey, tuple[str | None, str | None, dict[str, Any] | None, str | None]] = {}
    for chunk in _chunks(keys):
        rows = session.execute(_FACTS_OF_KEYS, {"keys": chunk})
        for record_type, external_id, netsuite_id, hash_, override, run in rows:
            found[RecordKey(record_type, external_id)] = (netsuite_id, hash_, override, run)
    return found


def is_unchanged(session: Session, key: RecordKey, hash_: str) -> bool:
    """True when ``key`` was written with this payload hash and no override is pending."""
    row = get_synced(session, [key]).get(key)
    return is_unchanged_row(row, hash_)


def is_unchanged_row(row: SyncedRecord | None, hash_: str) -> bool:
    """``is_unchanged`` for a row already fetched (the step's rows come from one ``get_synced``)."""
    return (
        row is not None
        and row.netsuite_id is not None
        and row.payload_hash == hash_
        and row.override_payload is None
    )


def upsert_synced(
    session: Executor, writes: Sequence[SyncedWrite], *, run_id: str, at: datetime | None = None
) -> int:
    """Record successful writes (one statement for a whole step); returns the row count.

    A write consumes any pending edit-and-retry override of its record: the override was for
    that one retry, and the next change in Salesforce must flow through again.
    """
    if not writes:
        return 0
    synced_at = ensure_aware(at or utc_now(), "at")
    rows = [_write_row(write, run_id, synced_at) for write in writes]
    session.execute(_upsert_statement(dialect_name(session), tuple(rows[0])), rows)
    return len(rows)


@functools.cache
def _upsert_statement(dialect: str, columns: tuple[str, ...]) -> UpsertInsert:
    """``upsert_synced``'s statement: a row's ``columns`` but the key replaced on conflict.

    Into the table, not the entity: the ORM's bulk path handles each row in Python first
    (``api_calls``). Built once per dialect (``runs``): ``_write_row`` fills the same columns.
    """
    insert = upsert_insert_for(dialect, _SYNCED)
    updated = {name: insert.excluded[name] for name in columns if name not in _PRIMARY_KEY}
    return insert.on_conflict_do_update(index_elements=_PRIMARY_KEY, set_=updated)


def set_override_payload(
    session: Session,
    key: RecordKey,
    *,
    group: str,
    payload: dict[str, Any],
    opportunity_id: str | None = None,
) -> None:
    """Keep an edited payload for the next write of ``key`` (edit-and-retry).

    The record may never have been written (that is often why it failed), so this creates a
    row without a NetSuite id when needed.
    """
    insert = upsert_insert(session, SyncedRecord).values(
        record_group=group,
        external_id=key.external_id,
        record_type=key.record_type,
        opportunity_id=opportunity_id,
        override_payload=payload,
    )
    update = {"override_payload": insert.excluded.override_payload}
    session.execute(insert.on_conflict_do_update(index_elements=_PRIMARY_KEY, set_=update))


def clear_override_payload(session: Session, key: RecordKey) -> None:
    """Drop a pending override without writing (the user withdrew the edit)."""
    row = get_synced(session, [key]).get(key)
    if row is not None:
        row.override_payload = None
        session.flush()


def list_synced(
    session: Session,
    *,
    prefix: str | None = None,
    record_type: str | None = None,
    opportunity_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SyncedRecord]:
    """Ledger rows by external id prefix, type or deal, in (group, external id) order.

    The order is stable so reconciliation can page through thousands of rows.
    """
    query = select(SyncedRecord)
    if prefix:
        query = query.where(SyncedRecord.external_id.startswith(prefix, autoescape=True))
    if record_type:
        query = query.where(SyncedRecord.record_type == record_type)
    if opportunity_id:
        query = query.where(SyncedRecord.opportunity_id == opportunity_id)
    query = query.order_by(SyncedRecord.record_group, SyncedRecord.external_id)
    query = query.limit(limit).offset(offset).execution_options(populate_existing=True)
    return list(session.scalars(query))


def delete_synced(session: Session, keys: Iterable[RecordKey]) -> int:
    """Forget records (deleted in NetSuite, found by reconciliation); returns rows deleted."""
    deleted = 0
    for chunk in _chunks(keys):
        statement = delete(SyncedRecord).where(_KEY_COLUMNS.in_(chunk))
        result = session.execute(statement.execution_options(synchronize_session=False))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


_PRIMARY_KEY = ["record_group", "external_id"]
_KEY_COLUMNS = tuple_(SyncedRecord.record_type, SyncedRecord.external_id)
_SYNCED = cast(Table, SyncedRecord.__table__)
# Built once (``runs``): the upserts step of every deal asks it. The keys are expanded into
# the IN list at execution.
_FACTS_OF_KEYS = select(
    SyncedRecord.record_type,
    SyncedRecord.external_id,
    SyncedRecord.netsuite_id,
    SyncedRecord.payload_hash,
    SyncedRecord.override_payload,
    SyncedRecord.last_run_id,
).where(_KEY_COLUMNS.in_(bindparam("keys", expanding=True)))


def _chunks(keys: Iterable[RecordKey]) -> Iterable[list[tuple[str, str]]]:
    """Distinct keys as (type, external id) pairs, ``KEYS_PER_QUERY`` at a time."""
    pairs = sorted({(key.record_type, key.external_id) for key in keys})
    for start in range(0, len(pairs), KEYS_PER_QUERY):
        yield pairs[start : start + KEYS_PER_QUERY]


def _write_row(write: SyncedWrite, run_id: str, at: datetime) -> dict[str, Any]:
    return {
        "record_group": write.group,
        "external_id": write.key.external_id,
        "record_type": write.key.record_type,
        "netsuite_id": write.netsuite_id,
        "payload_hash": write.payload_hash,
        "last_synced_at": at,
        "last_run_id": run_id,
        "opportunity_id": write.opportunity_id,
        "source_sobject": write.source.sobject if write.source else None,
        "source_id": write.source.record_id if write.source else None,
        "flow": write.flow,
        "override_payload": None,
    }


def _canonical(value: Any) -> Any:
    """JSON-ready data with one spelling per value (see ``payload_hash``)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float | Decimal):
        return _number(value)
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot hash a payload holding {type(value).__name__}: {value!r}")


def _number(value: float | Decimal) -> int | float:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"payload holds a non-finite number: {value}")
        value = float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"payload holds a non-finite number: {value}")
        if value.is_integer():
            return int(value)
    return value
