"""The operations of a plan: duplicates merged, then put in a valid dependency order.

Two record instances of one deal may produce the same NetSuite record — two packages sharing a
price plan, a bundle sold twice on one quote. External ids are unique per record *group*
(contracts/netsuite.md §9: customers and contacts share the entity namespace), so instances are
compared by (group, external id): equal payloads merge into one operation (dependencies united);
different payloads for one record would make the last write win silently, so that is a
violation instead and the first instance is kept.

The order is topological — every operation after the operations it depends on — with ties
broken by the record's position in the flow, then by external id, so the same deal always gives
the same plan (golden files) and ``SyncPlan.waves`` never fails.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dealbridge.connectors.netsuite.models import record_group
from dealbridge.core.records import Operation, RecordKey, SourceRecord, Violation


@dataclass
class DraftOperation:
    """An operation before merging and ordering, with what ordering needs."""

    name: str
    index: int
    key: RecordKey
    payload: dict[str, Any]
    depends_on: set[RecordKey]
    replace: tuple[str, ...]
    source: SourceRecord
    merged: list[SourceRecord] = field(default_factory=list)


def merge_duplicates(
    drafts: Iterable[DraftOperation], out: list[Violation]
) -> list[DraftOperation]:
    """One draft per (record group, external id); a conflicting duplicate is a violation."""
    kept: dict[tuple[str, str], DraftOperation] = {}
    for draft in drafts:
        identity = (record_group(draft.key.record_type), draft.key.external_id)
        first = kept.get(identity)
        if first is None:
            kept[identity] = draft
        elif first.key == draft.key and first.payload == draft.payload:
            first.depends_on |= draft.depends_on
        else:
            out.append(_conflict(first, draft))
    return list(kept.values())


def _conflict(first: DraftOperation, second: DraftOperation) -> Violation:
    message = (
        f"Two different NetSuite records would get the external id "
        f"'{second.key.external_id}' ({first.name} from {first.source.sobject} "
        f"{first.source.record_id} and {second.name} from {second.source.sobject} "
        f"{second.source.record_id}); only one record can have it."
    )
    return Violation(second.source, second.name, "externalId", "duplicate_external_id", message)


def ordered_operations(drafts: list[DraftOperation]) -> list[Operation]:
    """The drafts as operations, dependencies first (Kahn's algorithm, deterministic ties).

    A dependency on a record this plan does not write (dropped as a conflicting duplicate) is
    left out of ``depends_on``; the conflict is already a violation, so the plan is not ok.
    """
    by_key = {draft.key: draft for draft in drafts}
    needs = {draft.key: {dep for dep in draft.depends_on if dep in by_key} for draft in drafts}
    needs = {key: deps - {key} for key, deps in needs.items()}
    users: dict[RecordKey, list[RecordKey]] = {key: [] for key in by_key}
    for key, deps in needs.items():
        for dep in deps:
            users[dep].append(key)
    waiting = {key: len(deps) for key, deps in needs.items()}
    ready = [_rank(by_key[key]) for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[Operation] = []
    while ready:
        _index, _external_id, key = heapq.heappop(ready)
        order.append(_operation(by_key[key], needs[key]))
        for user in users[key]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, _rank(by_key[user]))
    if len(order) != len(by_key):  # unreachable with an acyclic flow (checked when compiled)
        stuck = sorted(str(key) for key, count in waiting.items() if count > 0)
        raise ValueError(f"the plan's records depend on each other in a cycle: {stuck}")
    return order


def _rank(draft: DraftOperation) -> tuple[int, str, RecordKey]:
    return (draft.index, draft.key.external_id, draft.key)


def _operation(draft: DraftOperation, needs: set[RecordKey]) -> Operation:
    return Operation(
        name=draft.name,
        key=draft.key,
        payload=draft.payload,
        depends_on=tuple(sorted(needs)),
        replace=draft.replace,
        source=draft.source,
    )
