"""A deal's upserts, each sent as soon as the records it refers to have their internal ids.

Per operation: the payload (or the edit-and-retry override the ledger holds for that record) has
its ``PendingRef``s resolved from internal ids known so far, then is hashed; when the ledger
already holds this hash and a NetSuite id, nothing is sent (``unchanged``). A record the ledger
holds is updated without the flow's create-only fields (``prepare``). Everything else goes out
as soon as its dependencies are settled — the NetSuite client's limiter keeps the account's
concurrency.

Why not wave by wave: a wave of parallel calls lasts as long as its slowest call, and the next
wave waited for it even when only one of its records needed that slow one. With ±20 % latency
jitter, four waves of three or four calls lost ~80 ms per deal to those barriers; following the
dependencies themselves loses only what the longest chain of calls really takes.

Every write that succeeded is recorded in one ledger transaction before a failure is raised, so
a retry sends only what is still missing; operations that depend on a failed one are not sent.
The result is plain data, ``{"ids": {"<type>/<external id>": internal id}, "written": […],
"unchanged": […]}``: the step checkpoints it.

Deals that began under the previous layout (one step per wave, contracts/dbos.md's replay rules)
finish with the same executor, one wave at a time, their earlier waves' ids coming from
checkpoints (``known_ids``).
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
from dealbridge.sync.shared_writes import shared_id, writes_of_this_loop


@dataclass(frozen=True)
class _Prepared:
    """An operation with its final body and that body's hash."""

    operation: Operation
    body: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class UpsertContext:
    """Who executes the upserts and for which deal.

    ``calls`` is the step's live list of API calls: they are stored in the transaction that
    records the writes (and leave the list), one transaction instead of two.
    """

    netsuite: NetSuiteClient
    ledger: Ledger
    run_id: str
    opportunity_id: str
    flow: str
    calls: list[CallRecord] = field(default_factory=list)


async def execute_operations(
    entries: list[dict[str, Any]], known_ids: Mapping[str, str], context: UpsertContext
) -> dict[str, Any]:
    """Write the changed records of ``entries`` (plan entries, dependencies first).

    Each entry's dependencies are either entries of the same call or in ``known_ids``
    (``"<type>/<external id>"`` → internal id). Returns ``{"ids", "written", "unchanged"}``.
    """
    operations = [operation_from_json(entry) for entry in entries]
    ledger = context.ledger
    states = await ledger.call(ledger.synced_state, [op.key for op in operations])
    return await _Execution(operations, states, known_ids, context).run()


class _Execution:
    """One call of ``execute_operations``: a task per operation, started all at once.

    Each task waits for its dependencies' ``settled`` events; ``internal`` collects the ids
    their payloads refer to.
    """

    def __init__(
        self,
        operations: list[Operation],
        states: Mapping[RecordKey, SyncedState],
        known_ids: Mapping[str, str],
        context: UpsertContext,
    ) -> None:
        self.operations = operations
        self.states = states
        self.context = context
        self.internal: dict[RecordKey, str] = {parse_key(k): v for k, v in known_ids.items()}
        self.settled = {op.key: asyncio.Event() for op in operations}
        self.failed: set[RecordKey] = set()
        self.ids: dict[str, str] = {}
        self.written: list[str] = []
        self.unchanged: list[str] = []
        self.writes: list[SyncedWrite] = []
        self.claimed: list[_Prepared] = []
        self.shared = writes_of_this_loop()

    async def run(self) -> dict[str, Any]:
        """All operations settled and recorded; the first failure (in plan order) raised."""
        try:
            results = await asyncio.gather(
                *(self._settle(op) for op in self.operations), return_exceptions=True
            )
            await self._record()
        finally:
            for item in self.claimed:
                self.shared.recorded(item.operation.key, item.hash)
        failures = [r for r in results if isinstance(r, BaseException)]
        causes = [failure for failure in failures if not isinstance(failure, _NotSent)]
        if failures:
            raise (causes or failures)[0]
        written, unchanged = sorted(self.written), sorted(self.unchanged)
        return {"ids": self.ids, "written": written, "unchanged": unchanged}

    async def _settle(self, operation: Operation) -> None:
        """Wait for the operation's dependencies, then write it if it changed."""
        try:
            for dependency in operation.depends_on:
                event = self.settled.get(dependency)
                if event is None:
                    continue  # known from an earlier step
                await event.wait()
                if dependency in self.failed:
                    raise _NotSent(operation.key, dependency)
            self.internal[operation.key] = await self._write_if_changed(operation)
        except BaseException:
            self.failed.add(operation.key)
            raise
        finally:
            self.settled[operation.key].set()

    async def _write_if_changed(self, operation: Operation) -> str:
        state = self.states.get(operation.key)
        item = prepare(operation, state, self.internal)
        key = str(operation.key)
        if is_unchanged(state, item.hash) and state is not None and state.netsuite_id:
            self.ids[key] = state.netsuite_id
            # Written by this very run before its step was cut short (a crash after the ledger's
            # transaction, before DBOS's checkpoint): still this run's write.
            mine = state.last_run_id == self.context.run_id
            (self.written if mine else self.unchanged).append(key)
            return state.netsuite_id
        waiting = self.shared.claim(operation.key, item.hash)
        if waiting is None:
            netsuite_id = await self._send_claimed(item)
        else:
            # This deal needed the write as much as the deal that sent it (shared_writes): it
            # counts as written here too, so a deal whose changes another deal carried is
            # "synced".
            netsuite_id = await shared_id(waiting, partial(self._send, item))
        self.ids[key] = netsuite_id
        self.written.append(key)
        return netsuite_id

    async def _send_claimed(self, item: _Prepared) -> str:
        """``_send`` a write this deal claimed, telling deals waiting for it the outcome."""
        try:
            netsuite_id = await self._send(item)
        except BaseException:
            self.shared.failed(item.operation.key, item.hash)
            raise
        self.claimed.append(item)
        self.shared.sent(item.operation.key, item.hash, netsuite_id)
        return netsuite_id

    async def _send(self, item: _Prepared) -> str:
        key = item.operation.key
        try:
            netsuite_id = await self.context.netsuite.upsert(
                key.record_type, key.external_id, item.body, replace=item.operation.replace
            )
        except DealbridgeError as error:
            _annotate(error, item.operation)
            raise
        self.writes.append(_synced_write(item, netsuite_id, self.context))
        return netsuite_id

    async def _record(self) -> None:
        """Every successful write and the calls so far, in one ledger transaction."""
        if not self.writes:
            return
        writes, calls = list(self.writes), list(self.context.calls)
        ledger = self.context.ledger
        await ledger.call(ledger.record_writes, writes, self.context.run_id, calls)
        del self.context.calls[: len(calls)]


class _NotSent(Exception):
    """An operation left out because a record it refers to failed (that failure is raised)."""

    def __init__(self, key: RecordKey, dependency: RecordKey) -> None:
        super().__init__(f"{key} not sent: {dependency} failed")


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


def _synced_write(item: _Prepared, netsuite_id: str, context: UpsertContext) -> SyncedWrite:
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


def _annotate(error: DealbridgeError, operation: Operation) -> None:
    """Name the record a failure is about, for the open error and the write-back text."""
    error.context.setdefault("record_type", operation.key.record_type)
    error.context.setdefault("external_id", operation.key.external_id)
    error.context.setdefault("record", operation.name)
    if operation.source is not None:
        source = operation.source
        error.context.setdefault("salesforce_record", f"{source.sobject} {source.record_id}")
