"""The operations of a plan: duplicates merged, then put in a valid dependency order.

Two record instances of one deal may produce the same NetSuite record — two packages sharing a
price plan, a bundle sold twice on one quote. External ids are unique per record *group*
(contracts/netsuite.md §9: customers and contacts share the entity namespace), so instances are
compared by (group, external id): equal payloads merge into one operation (dependencies united);
different payloads for one record would make the last write win silently, so that is a
violation instead and the first instance is kept.

The order is topological — every operation after the operations it depends on — and
deterministic, so the same deal always gives the same plan (golden files) and
``SyncPlan.waves`` never fails: operations are sorted by their record's rank (the record-level
dependency order of ``compiled_flow.record_order``, ties in flow order), then by external id.
That is valid whenever instances only depend on records of lower rank, which a flow without
cycles guarantees; the rare merge of duplicates from different records can break it, so the
order is checked and, if needed, rebuilt by Kahn's algorithm with the same tie-break. An
operation's ``depends_on`` lists its dependencies in the order they were mapped.

Drafts refer to each other by position in the run's draft list: plain ints hash and compare far
faster than ``RecordKey`` dataclasses, and this runs for every deal.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any, NamedTuple

from dealbridge.connectors.netsuite.models import record_group
from dealbridge.core.records import Operation, RecordKey, SourceRecord, Violation
from dealbridge.mapping.frozen_builders import operation


class DraftOperation(NamedTuple):
    """An operation before merging and ordering; ``depends_on`` holds draft positions.

    A tuple, cheap to make (one per record instance), though ``depends_on`` grows in place as
    the run and the merge find dependencies.
    """

    name: str
    rank: int
    key: RecordKey
    payload: dict[str, Any]
    depends_on: set[int]
    replace: tuple[str, ...]
    source: SourceRecord
    create_only: tuple[str, ...] = ()


def merge_duplicates(drafts: Sequence[DraftOperation], out: list[Violation]) -> list[int]:
    """For each draft, the position of the draft that stands for it (itself unless a duplicate).

    A duplicate with an equal payload merges its dependencies into the first; a conflicting one
    is reported in ``out`` and dropped.
    """
    first_of: dict[tuple[str, str], int] = {}
    alias = list(range(len(drafts)))
    for position, draft in enumerate(drafts):
        identity = (record_group(draft.key.record_type), draft.key.external_id)
        first = first_of.setdefault(identity, position)
        if first == position:
            continue
        alias[position] = first
        kept = drafts[first]
        if kept.key == draft.key and kept.payload == draft.payload:
            kept.depends_on.update(draft.depends_on)
        else:
            out.append(_conflict(kept, draft))
    return alias


def _conflict(first: DraftOperation, second: DraftOperation) -> Violation:
    message = (
        f"Two different NetSuite records would get the external id "
        f"'{second.key.external_id}' ({first.name} from {first.source.sobject} "
        f"{first.source.record_id} and {second.name} from {second.source.sobject} "
        f"{second.source.record_id}); only one record can have it."
    )
    return Violation(second.source, second.name, "externalId", "duplicate_external_id", message)


def ordered_operations(drafts: Sequence[DraftOperation], alias: Sequence[int]) -> list[Operation]:
    """The kept drafts as operations, dependencies first (see the module docstring)."""
    kept = [position for position, target in enumerate(alias) if target == position]
    needs = {p: _needs(drafts[p].depends_on, p, alias) for p in kept}
    order = _sorted(drafts, kept)
    if not _valid(order, needs):
        order = _kahn(drafts, kept, needs)
    keys = [draft.key for draft in drafts]
    return [_operation(drafts[position], needs[position], keys) for position in order]


def _needs(depends_on: set[int], position: int, alias: Sequence[int]) -> set[int]:
    """The kept drafts a draft depends on (never itself: a merged duplicate may point back)."""
    needs = set(map(alias.__getitem__, depends_on))
    needs.discard(position)
    return needs


def _sorted(drafts: Sequence[DraftOperation], kept: list[int]) -> list[int]:
    """``kept`` ordered by ``_rank``.

    The engine makes drafts record by record in rank order; then each run of one rank only
    needs sorting by external id (a stable sort keeps the position order of ties). Drafts in
    any other order take the general sort.
    """
    ranks = [drafts[p].rank for p in kept]
    if ranks != sorted(ranks):
        return sorted(kept, key=lambda position: _rank(drafts, position))
    ids = [draft.key.external_id for draft in drafts]
    order: list[int] = []
    start = 0
    for end in range(1, len(kept) + 1):
        if end == len(kept) or ranks[end] != ranks[start]:
            order.extend(sorted(kept[start:end], key=ids.__getitem__))
            start = end
    return order


def _valid(order: Sequence[int], needs: dict[int, set[int]]) -> bool:
    """Whether every draft comes after the drafts it needs."""
    done: set[int] = set()
    for position in order:
        if not needs[position] <= done:
            return False
        done.add(position)
    return True


def _kahn(
    drafts: Sequence[DraftOperation], kept: Sequence[int], needs: dict[int, set[int]]
) -> list[int]:
    """Topological order with the same tie-break, for plans the plain sort cannot order."""
    users: dict[int, list[int]] = {p: [] for p in kept}
    for position, deps in needs.items():
        for dep in deps:
            users[dep].append(position)
    waiting = {position: len(deps) for position, deps in needs.items()}
    ready = [_rank(drafts, p) for p, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        position = heapq.heappop(ready)[2]
        order.append(position)
        for user in users[position]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, _rank(drafts, user))
    if len(order) != len(kept):  # unreachable with an acyclic flow (checked when compiled)
        stuck = sorted(str(drafts[p].key) for p, count in waiting.items() if count > 0)
        raise ValueError(f"the plan's records depend on each other in a cycle: {stuck}")
    return order


def _rank(drafts: Sequence[DraftOperation], position: int) -> tuple[int, str, int]:
    draft = drafts[position]
    return (draft.rank, draft.key.external_id, position)


def _operation(draft: DraftOperation, needs: set[int], keys: list[RecordKey]) -> Operation:
    depends_on = tuple(map(keys.__getitem__, sorted(needs)))
    return operation(
        draft.name,
        draft.key,
        draft.payload,
        depends_on,
        draft.replace,
        draft.source,
        draft.create_only,
    )
