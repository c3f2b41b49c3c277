"""One wave of a plan: independent upserts sent together, each only if it changed.

Per operation: the payload (or the edit-and-retry override the ledger holds for that record) has
its ``PendingRef``s resolved from the internal ids of earlier waves, then is hashed; when the
ledger already holds this hash and a NetSuite id, nothing is sent (``unchanged``). A record the
ledger holds is updated without the flow's create-only fields (``prepare``). The rest go
out concurrently with ``asyncio.gather`` — the NetSuite client's limiter keeps the account's
concurrency — and every write that succeeded is recorded before a failure is raised, so a retry of
the wave sends only what is still missing.

The wave's result is plain data, ``{"ids": {"<type>/<external id>": internal id}, …}`` for every
operation of the wave: the step checkpoints it, and after a crash the later waves resolve their
references from these checkpoints without asking NetSuite again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.models import record_group
from dealbridge.core.calls import CallRecord
from dealbridge.core.records import Operation, RecordKey
from dealbridge.db.synced import SyncedWrite, payload_hash
from dealbridge.errors import DealbridgeError
from dealbridge.mapping.create_only import update_view
from dealbridge.sync.ledger import Ledger, SyncedState
from dealbridge.sync.plan_data import decode_refs, operation_from_json, parse_key
from dealbridge.sync.shared_writes import SharedWrites, shared_id, writes_of_this_loop


@dataclass(frozen=True)
class _Prepared:
    """An operation with its final body and that body's hash."""

    operation: Operation
    body: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class WaveContext:
    """Who executes the wave and for which deal.

    ``calls`` is the step's live list of API calls: they are stored in the transaction that
    records the wave's writes (and leave the list), one transaction instead of two.
    """

    netsuite: NetSuiteClient
    ledger: Ledger
    run_id: str
    opportunity_id: str
    flow: str
    calls: list[CallRecord] = field(default_factory=list)


async def execute_wave(
    entries: list[dict[str, Any]], known_ids: Mapping[str, str], context: WaveContext
) -> dict[str, Any]:
    """Write the wave's changed records; returns ``{"ids", "written", "unchanged"}``."""
    operations = [operation_from_json(entry) for entry in entries]
    states = await asyncio.to_thread(context.ledger.synced_state, [op.key for op in operations])
    internal = {parse_key(key): value for key, value in known_ids.items()}
    prepared = [prepare(op, states.get(op.key), internal) for op in operations]
    ids: dict[str, str] = {}
    unchanged: list[str] = []
    to_send: list[_Prepared] = []
    for item in prepared:
        state = states.get(item.operation.key)
        if is_unchanged(state, item.hash):
            ids[str(item.operation.key)] = str(state.netsuite_id if state else None)
            unchanged.append(str(item.operation.key))
        else:
            to_send.append(item)
    shared = writes_of_this_loop()
    mine: list[_Prepared] = []
    borrowed: list[tuple[_Prepared, asyncio.Future[str]]] = []
    for item in to_send:
        waiting = shared.claim(item.operation.key, item.hash)
        if waiting is None:
            mine.append(item)
        else:
            borrowed.append((item, waiting))
    written = await _send_settling(mine, context, shared)
    for item, waiting in borrowed:
        # This deal needed the write as much as the deal that sent it (shared_writes): it counts
        # as written here too, so a deal whose changes another deal carried is "synced".
        written[str(item.operation.key)] = await shared_id(
            waiting, partial(_send_one, item, context)
        )
    ids.update(written)
    return {"ids": ids, "written": sorted(written), "unchanged": unchanged}


async def _send_settling(
    items: list[_Prepared], context: WaveContext, shared: SharedWrites
) -> dict[str, str]:
    """``_send_all`` for writes this deal claimed, telling deals waiting for them the outcome."""
    try:
        written = await _send_all(items, context)
    except BaseException:
        for item in items:
            shared.failed(item.operation.key, item.hash)
        raise
    for item in items:
        shared.finished(item.operation.key, item.hash, written[str(item.operation.key)])
    return written


async def _send_one(item: _Prepared, context: WaveContext) -> str:
    """Our own write of a record whose shared write failed."""
    return (await _send_all([item], context))[str(item.operation.key)]


def prepare(
    operation: Operation, state: SyncedState | None, internal: Mapping[RecordKey, str]
) -> _Prepared:
    """The body to send for ``operation`` and the hash the ledger keeps of it.

    A pending edit-and-retry override is sent as the person wrote it. Otherwise a record the
    ledger holds (written before: it has an internal id) gets the payload without its
    create-only fields (``mapping.create_only``), and a new record the whole payload; the hash
    is of the body without create-only fields either way, so that a later sync of this or
    another deal of the account, differing only there, finds the record unchanged.
    """
    if state is not None and state.override is not None:
        operation = Operation(
            operation.name,
            operation.key,
            decode_refs(state.override),
            operation.depends_on,
            operation.replace,
            operation.source,
        )
        body = operation.resolved_payload(internal)
        return _Prepared(operation, body, payload_hash(body))
    update = update_view(operation)
    update_body = update.resolved_payload(internal)
    if update is operation:
        return _Prepared(operation, update_body, payload_hash(update_body))
    if state is not None and state.netsuite_id is not None:
        return _Prepared(update, update_body, payload_hash(update_body))
    return _Prepared(operation, operation.resolved_payload(internal), payload_hash(update_body))


def is_unchanged(state: SyncedState | None, hash_: str) -> bool:
    """Written before with this very body, and no override waiting."""
    return (
        state is not None
        and state.netsuite_id is not None
        and state.payload_hash == hash_
        and state.override is None
    )


async def _send_all(items: list[_Prepared], context: WaveContext) -> dict[str, str]:
    """Upsert concurrently; record every success; then raise the first failure, if any."""
    results = await asyncio.gather(
        *(_upsert(item, context.netsuite) for item in items), return_exceptions=True
    )
    written: dict[str, str] = {}
    writes: list[SyncedWrite] = []
    failures: list[BaseException] = []
    for item, result in zip(items, results, strict=True):
        if isinstance(result, BaseException):
            failures.append(_annotated(result, item.operation))
            continue
        written[str(item.operation.key)] = result
        writes.append(_synced_write(item, result, context))
    if writes:
        calls = list(context.calls)
        await asyncio.to_thread(context.ledger.record_writes, writes, context.run_id, calls)
        del context.calls[: len(calls)]
    if failures:
        raise failures[0]
    return written


async def _upsert(item: _Prepared, netsuite: NetSuiteClient) -> str:
    key = item.operation.key
    return await netsuite.upsert(
        key.record_type, key.external_id, item.body, replace=item.operation.replace
    )


def _synced_write(item: _Prepared, netsuite_id: str, context: WaveContext) -> SyncedWrite:
    key = item.operation.key
    return SyncedWrite(
        key=key,
        group=record_group(key.record_type),
        netsuite_id=netsuite_id,
        payload_hash=item.hash,
        opportunity_id=context.opportunity_id,
        source=item.operation.source,
        flow=context.flow,
    )


def _annotated(error: BaseException, operation: Operation) -> BaseException:
    """Name the record a failure is about, for the open error and the write-back text."""
    if isinstance(error, DealbridgeError):
        error.context.setdefault("record_type", operation.key.record_type)
        error.context.setdefault("external_id", operation.key.external_id)
        error.context.setdefault("record", operation.name)
        if operation.source is not None:
            source = operation.source
            error.context.setdefault("salesforce_record", f"{source.sobject} {source.record_id}")
    return error
