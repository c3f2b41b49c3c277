"""Builders of the plan's frozen dataclasses for the engine's hot path.

A frozen dataclass's generated ``__init__`` sets every field through ``object.__setattr__`` (its
own ``__setattr__`` refuses), one call per field. ``Operation``, ``RecordKey``, ``SourceRecord``
and ``PendingRef`` are made for every operation of every deal, and that cost half of ordering a
plan. These builders give the new instance its whole ``__dict__`` at once: the instance is the
same (fields, equality, hash, order, repr), made with one call instead of one per field.

That is only true of a plain dataclass — its ``__init__`` stores exactly its arguments, under
these field names, with no ``__post_init__`` and no slots — so each builder is checked when this
module loads, by making one instance both ways; should a class ever differ, its builder is the
class itself, and a change to the dataclass makes building slower, never wrong.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from dealbridge.core.records import Operation, PendingRef, RecordKey, SourceRecord

T = TypeVar("T")
_new = object.__new__
_set = object.__setattr__


def _operation(
    name: str,
    key: RecordKey,
    payload: dict[str, Any],
    depends_on: tuple[RecordKey, ...],
    replace: tuple[str, ...],
    source: SourceRecord | None,
    create_only: tuple[str, ...],
) -> Operation:
    made: Operation = _new(Operation)
    _set(
        made,
        "__dict__",
        {
            "name": name,
            "key": key,
            "payload": payload,
            "depends_on": depends_on,
            "replace": replace,
            "source": source,
            "create_only": create_only,
        },
    )
    return made


def _record_key(record_type: str, external_id: str) -> RecordKey:
    made: RecordKey = _new(RecordKey)
    _set(made, "__dict__", {"record_type": record_type, "external_id": external_id})
    return made


def _source_record(sobject: str, record_id: str) -> SourceRecord:
    made: SourceRecord = _new(SourceRecord)
    _set(made, "__dict__", {"sobject": sobject, "record_id": record_id})
    return made


def _pending_ref(key: RecordKey) -> PendingRef:
    made: PendingRef = _new(PendingRef)
    _set(made, "__dict__", {"key": key})
    return made


def checked(cls: type[T], build: Callable[..., T]) -> Callable[..., T]:
    """``build`` if it makes what ``cls(...)`` makes from the same arguments, else ``cls``."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return cls
    if cls.__new__ is not object.__new__:
        return cls
    probe = [object() for _ in dataclasses.fields(cls)]
    try:
        ordinary, built = vars(cls(*probe)), vars(build(*probe))
    except (TypeError, AttributeError):  # no __dict__ (slots), other fields
        return cls
    same = list(ordinary) == list(built) and all(ordinary[name] is built[name] for name in ordinary)
    return build if same else cls


operation = checked(Operation, _operation)
record_key = checked(RecordKey, _record_key)
source_record = checked(SourceRecord, _source_record)
pending_ref = checked(PendingRef, _pending_ref)
