"""A ``SyncPlan`` as checkpointable JSON, and back.

Why the plan travels as JSON: the plan step's output is checkpointed by DBOS, and after a crash
the remaining waves must execute *the same plan* — re-planning could see other lookup values or a
newer flow. JSON (not a pickled ``SyncPlan``) keeps checkpoints readable and free of class paths.
``SyncPlan.to_json`` already writes ``PendingRef`` as ``{"$ref": "<type>/<external id>"}``; this
module adds each operation's Salesforce source and reads the document back into operations.
"""

from __future__ import annotations

from typing import Any

from dealbridge.core.records import (
    REF_MARKER,
    Operation,
    PendingRef,
    RecordKey,
    SourceRecord,
    SyncPlan,
)


def plan_document(plan: SyncPlan) -> dict[str, Any]:
    """``plan.to_json()`` with each operation's source record."""
    document = plan.to_json()
    for entry, operation in zip(document["operations"], plan.operations, strict=True):
        source = operation.source
        entry["source"] = [source.sobject, source.record_id] if source else None
    return document


def parse_key(text: str) -> RecordKey:
    """``"<type>/<external id>"`` → ``RecordKey`` (neither part may hold a slash)."""
    record_type, _, external_id = text.partition("/")
    if not record_type or not external_id:
        raise ValueError(f"not a record key: {text!r}")
    return RecordKey(record_type, external_id)


def operation_from_json(entry: dict[str, Any]) -> Operation:
    """One operation of a plan document."""
    source = entry.get("source")
    return Operation(
        name=entry["name"],
        key=RecordKey(entry["type"], entry["external_id"]),
        payload=decode_refs(entry["payload"]),
        depends_on=tuple(parse_key(dep) for dep in entry.get("depends_on", [])),
        replace=tuple(entry.get("replace", [])),
        source=SourceRecord(source[0], source[1]) if source else None,
        create_only=tuple(entry.get("create_only", [])),
    )


def plan_from_document(document: dict[str, Any]) -> SyncPlan:
    """The operations of a plan document as a ``SyncPlan`` (violations are not needed here)."""
    return SyncPlan(
        flow=document["flow"],
        flow_version=document["flow_version"],
        opportunity_id=document["opportunity"],
        operations=[operation_from_json(entry) for entry in document["operations"]],
    )


def waves_of(document: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The document's operations grouped in waves (``SyncPlan.waves``), as JSON entries.

    The waves depend on keys alone, so payloads are left as they are: decoding each into an
    ``Operation`` here only to order it cost every deal a walk of its whole plan (the upserts
    step decodes what it sends).
    """
    by_key = {f"{entry['type']}/{entry['external_id']}": entry for entry in document["operations"]}
    skeleton = SyncPlan(
        flow=document["flow"],
        flow_version=document["flow_version"],
        opportunity_id=document["opportunity"],
        operations=[_ordering_only(entry) for entry in document["operations"]],
    )
    return [[by_key[str(operation.key)] for operation in wave] for wave in skeleton.waves()]


def _ordering_only(entry: dict[str, Any]) -> Operation:
    """An operation with its key and dependencies, and no payload."""
    return Operation(
        name=entry["name"],
        key=RecordKey(entry["type"], entry["external_id"]),
        payload={},
        depends_on=tuple(parse_key(dep) for dep in entry.get("depends_on", [])),
    )


def decode_refs(value: Any) -> Any:
    """JSON payload → payload with ``PendingRef`` where ``{"$ref": …}`` stood."""
    if isinstance(value, dict):
        if set(value) == {REF_MARKER} and isinstance(value[REF_MARKER], str):
            return PendingRef(parse_key(value[REF_MARKER]))
        return {key: decode_refs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_refs(item) for item in value]
    return value


def record_keys(document: dict[str, Any], record_type: str) -> list[str]:
    """``"<type>/<external id>"`` of the document's operations of one NetSuite type, in order."""
    return [
        f"{entry['type']}/{entry['external_id']}"
        for entry in document["operations"]
        if entry["type"] == record_type
    ]
