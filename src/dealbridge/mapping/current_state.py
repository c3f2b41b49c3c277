"""What NetSuite holds now for the records of a plan — read only, in few calls.

Why SuiteQL first: most records of a new deal do not exist yet, and a GET by ``eid:`` per
record would spend a call (and a 404) on each. One query per record type,
``SELECT id, externalid FROM <type> WHERE externalid IN (…)`` (at most 1000 values per ``IN``,
Oracle's limit, ``suiteql.sql_in_list``), tells which exist and their internal ids; then only
those are read, ``GET record/v1/<type>/<id>?expandSubResources=true`` (sublists as lines, not
links, contracts/netsuite.md §2), a few at a time so a large plan does not take every slot of
the account's concurrency limit.

A record type's SuiteQL table is its name in lower case (``billingAccount`` →
``billingaccount``, ``customrecord_x`` → ``customrecord_x``), as contracts §4's examples and the
emulator have it. External ids are matched exactly as NetSuite returns them.

When SuiteQL refuses a type's table (a custom record type nothing was written to yet, as the
emulator answers; or a type whose table is named otherwise), the records of that type are read
one by one by ``eid:`` instead, a 404 meaning "not there yet".

Nothing here writes: the only calls are SuiteQL reads (a POST to ``query/v1/suiteql``, a read
by contract) and GETs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

import structlog

from dealbridge.connectors.netsuite.client import eid
from dealbridge.connectors.netsuite.suiteql import MAX_IN_LIST, sql_identifier, sql_in_list
from dealbridge.core.records import RecordKey
from dealbridge.errors import NotFoundError, RemoteRejectedError

DEFAULT_CONCURRENCY = 4
_log = structlog.get_logger("dealbridge.preview")
T = TypeVar("T")


class RecordReader(Protocol):
    """What reading the current state (and loading lookups) needs of ``NetSuiteClient``."""

    base_url: str

    async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
        """Every row of a query, across pages."""

    async def get(
        self,
        record_type: str,
        ref: str,
        *,
        expand_sub_resources: bool = False,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One record by internal id."""


@dataclass(frozen=True)
class CurrentState:
    """The records of a plan that exist in NetSuite, keyed like the plan's operations.

    Attributes:
        internal_ids: The internal id of every planned record that exists.
        records: Each existing record as its expanded GET returned it.
    """

    internal_ids: dict[RecordKey, str]
    records: dict[RecordKey, dict[str, Any]]


async def read_current_state(
    netsuite: RecordReader, keys: Iterable[RecordKey], *, concurrency: int = DEFAULT_CONCURRENCY
) -> CurrentState:
    """Internal ids by SuiteQL, then the existing records by GET (see the module docstring)."""
    internal_ids, unqueried = await find_internal_ids(netsuite, keys, concurrency=concurrency)
    refs = dict(internal_ids)
    refs.update({key: eid(key.external_id, record=key.record_type) for key in unqueried})
    records = await read_records(netsuite, refs, concurrency=concurrency)
    found = {key: str(record["id"]) for key, record in records.items() if "id" in record}
    return CurrentState({**internal_ids, **found}, records)


def internal_id_query(record_type: str, external_ids: Sequence[str]) -> str:
    """The query that finds which of ``external_ids`` (≤ 1000) exist as ``record_type``."""
    table = sql_identifier(record_type.lower())
    in_list = sql_in_list(external_ids)  # every value escaped; the table name is checked
    return f"SELECT id, externalid FROM {table} WHERE externalid IN {in_list} ORDER BY id"  # noqa: S608


async def find_internal_ids(
    netsuite: RecordReader, keys: Iterable[RecordKey], *, concurrency: int = DEFAULT_CONCURRENCY
) -> tuple[dict[RecordKey, str], list[RecordKey]]:
    """The internal id of each key that exists: one query per type and 1000 external ids.

    Returns:
        The ids found, and the keys whose record type NetSuite would not query (SuiteQL
        refused its table: a custom record type nothing was written to yet, or a type whose
        table has another name); those are read one by one by ``eid:`` instead.
    """
    batches = _batches(keys)
    answers = await _bounded(
        concurrency, [partial(_query, netsuite, kind, ids) for kind, ids in batches]
    )
    found: dict[RecordKey, str] = {}
    unqueried: list[RecordKey] = []
    for (record_type, asked), rows in zip(batches, answers, strict=True):
        if rows is None:
            unqueried.extend(RecordKey(record_type, external_id) for external_id in asked)
            continue
        wanted = set(asked)
        for row in rows:
            external_id, internal_id = row.get("externalid"), row.get("id")
            if external_id in wanted and internal_id is not None:
                found[RecordKey(record_type, str(external_id))] = str(internal_id)
    return found, unqueried


async def _query(
    netsuite: RecordReader, record_type: str, external_ids: Sequence[str]
) -> list[dict[str, Any]] | None:
    """The rows of one batch, or None when NetSuite refuses to query the type's table."""
    try:
        return await netsuite.suiteql_all(internal_id_query(record_type, external_ids))
    except RemoteRejectedError as error:
        _log.debug("preview_suiteql_refused", record_type=record_type, error=error.message)
        return None


async def read_records(
    netsuite: RecordReader,
    refs: dict[RecordKey, str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[RecordKey, dict[str, Any]]:
    """Each record (by internal id or ``eid:``) with its sublists expanded; missing ones left out.

    A record missing here was deleted since the query, or (read by ``eid:``) never existed.
    """
    keys = sorted(refs)
    bodies = await _bounded(
        concurrency, [partial(_read_one, netsuite, key.record_type, refs[key]) for key in keys]
    )
    return {key: body for key, body in zip(keys, bodies, strict=True) if body is not None}


async def _read_one(netsuite: RecordReader, record_type: str, ref: str) -> dict[str, Any] | None:
    try:
        return await netsuite.get(record_type, ref, expand_sub_resources=True)
    except NotFoundError:
        return None


def _batches(keys: Iterable[RecordKey]) -> list[tuple[str, list[str]]]:
    """``(record type, ≤ 1000 external ids)`` pairs, types and ids sorted (stable queries)."""
    by_type: dict[str, set[str]] = {}
    for key in keys:
        by_type.setdefault(key.record_type, set()).add(key.external_id)
    batches: list[tuple[str, list[str]]] = []
    for record_type in sorted(by_type):
        ids = sorted(by_type[record_type])
        for start in range(0, len(ids), MAX_IN_LIST):
            batches.append((record_type, ids[start : start + MAX_IN_LIST]))
    return batches


async def _bounded(limit: int, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``calls`` with at most ``limit`` in flight; results in order.

    The first failure cancels the calls still waiting rather than leaving them running after
    the preview has given up, and propagates as itself (not wrapped in an ``ExceptionGroup``),
    so callers see the ``ConnectorError`` they know.
    """
    gate = asyncio.Semaphore(max(1, limit))

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    tasks = [asyncio.ensure_future(one(call)) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
