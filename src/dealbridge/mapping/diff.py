"""A field-level diff between a planned payload and what NetSuite holds now — pure.

``diff_record(planned, current)`` answers "what would this upsert change?" the way NetSuite
itself would answer a later GET (contracts/netsuite.md §2), so a record written once and
planned again shows no change at all:

- A GET carries ``links`` everywhere and references as ``{"id", "refName", "links"}``: links
  are ignored and references compare by ``id`` only (as text: ``3`` and ``"3"`` are the same
  record). A select or enum NetSuite answers as a reference compares its id to the planned text.
- A ``PendingRef`` (a record of the same plan) compares to the current reference when the
  referenced record's internal id is known (``known_ids``: it exists in NetSuite already);
  otherwise the referenced record is still to be created, so the field shows ``(new record)``.
- Numbers compare numerically (``10 == 10.0``; a number and numeric text too), other values —
  dates included — as written. Null and empty text are the same: NetSuite leaves empty text out.
- A field NetSuite returns but the plan does not set is not a change: PUT and PATCH leave
  unsent fields alone (§2), so only what the plan sends can differ.
- Sublists (§2.2) match lines by the sublist's key: ``lineNumber``, ``subscriptionPlanLineNumber``
  with ``startOffsetValue``, or ``line``; a sublist without a key is positional. Lines the plan
  adds show as one change (``before`` null); with ``replace`` (the operation's ``replace``
  names the sublist) current lines the plan does not list would be removed and show as one
  change each (``after`` null). Without ``replace``, lines of a keyed sublist the plan does not
  list are kept, and every line of a non-keyed sublist is appended — so it shows as added.

Paths read like the fields: ``companyName``, ``addressBookAddress.city`` (a subrecord),
``member[lineNumber=2].item``, ``addressBook[1].label`` (positional, 1-based as NetSuite
numbers lines). Order is deterministic: body fields by name, lines in plan order, removed
lines last in NetSuite's order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from dealbridge.core.records import PendingRef, RecordKey

Action = Literal["create", "update", "unchanged"]
NEW_RECORD = "(new record)"
SUBLIST_KEYS: tuple[tuple[str, ...], ...] = (
    ("lineNumber",),
    ("subscriptionPlanLineNumber", "startOffsetValue"),
    ("line",),
)
"""Key fields of keyed sublists (contracts §2.2, emulator ``schema``); the first one present in
a sublist's lines decides. ``startOffsetValue`` may be left out of a planned line."""

_LINKS = "links"
_ITEMS = "items"


@dataclass(frozen=True)
class FieldChange:
    """One field (or one whole sublist line) that the write would change.

    Attributes:
        path: Where, e.g. ``companyName`` or ``member[lineNumber=2].item``.
        before: What NetSuite holds now (null when absent); references as their id.
        after: What the plan sends (null for a line that would be removed); a reference to a
            record still to be created is ``(new record)``.
    """

    path: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as ``flows preview --json`` prints it."""
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class RecordDiff:
    """What one planned upsert would do to one record."""

    action: Action
    changes: tuple[FieldChange, ...] = field(default=())

    def as_list(self) -> list[dict[str, Any]]:
        """Every change, JSON-ready."""
        return [change.as_dict() for change in self.changes]


def diff_record(
    planned: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    replace: Collection[str] = (),
    known_ids: Mapping[RecordKey, str] | None = None,
) -> RecordDiff:
    """The changes an upsert of ``planned`` would make to ``current`` (None: no record yet).

    Args:
        planned: The operation's payload, ``PendingRef`` values included.
        current: The record as ``GET …?expandSubResources=true`` returns it, or None.
        replace: The sublists the write replaces (``Operation.replace``).
        known_ids: Internal ids of records that exist already, for ``PendingRef`` values.
    """
    differ = _Differ(known_ids or {}, frozenset(replace))
    changes: list[FieldChange] = []
    differ.body(planned, current or {}, changes)
    if current is None:
        return RecordDiff("create", tuple(changes))
    return RecordDiff("update" if changes else "unchanged", tuple(changes))


class _Differ:
    """The comparison rules of the module docstring, for one record."""

    def __init__(self, known_ids: Mapping[RecordKey, str], replace: frozenset[str]) -> None:
        self._known = known_ids
        self._replace = replace

    def body(
        self, planned: Mapping[str, Any], current: Mapping[str, Any], out: list[FieldChange]
    ) -> None:
        """Compare the record's body fields, sublists included."""
        for name in sorted(planned):
            value = planned[name]
            if _is_sublist(value):
                self.sublist(name, value[_ITEMS], current.get(name), out)
            else:
                self.value(name, value, current.get(name), out)

    def fields(
        self, path: str, planned: Mapping[str, Any], current: Any, out: list[FieldChange]
    ) -> None:
        """Compare the fields of a subrecord or a line, each under ``path``."""
        held = current if isinstance(current, Mapping) else {}
        for name in sorted(planned):
            self.value(f"{path}.{name}", planned[name], held.get(name), out)

    def value(self, path: str, planned: Any, current: Any, out: list[FieldChange]) -> None:
        """Compare one field: a reference, a subrecord, a list or a plain value."""
        if isinstance(planned, PendingRef):
            after = self._known.get(planned.key, NEW_RECORD)
            before = _ref_id(current)
            if after == NEW_RECORD or after != before:
                out.append(FieldChange(path, before, after))
        elif isinstance(planned, Mapping) and "id" in planned:
            if _text(planned["id"]) != _ref_id(current):
                out.append(FieldChange(path, _ref_id(current), _text(planned["id"])))
        elif isinstance(planned, Mapping):
            self.fields(path, planned, current, out)
        elif isinstance(planned, list):
            if self.shown(planned) != shown_current(current):
                out.append(FieldChange(path, shown_current(current), self.shown(planned)))
        elif not same_value(planned, current):
            out.append(FieldChange(path, shown_current(current), planned))

    def sublist(
        self, name: str, planned: Sequence[Any], current: Any, out: list[FieldChange]
    ) -> None:
        """Compare a sublist's lines by key, or by position when it has none."""
        lines = [line for line in planned if isinstance(line, Mapping)]
        held = _current_lines(current)
        keys = sublist_keys(lines or held)
        replaced = name in self._replace
        if keys:
            self._keyed(name, keys, lines, held, replaced, out)
        else:
            self._positional(name, lines, held, replaced, out)

    def _keyed(
        self,
        name: str,
        keys: tuple[str, ...],
        lines: list[Mapping[str, Any]],
        held: list[Mapping[str, Any]],
        replaced: bool,
        out: list[FieldChange],
    ) -> None:
        unmatched = list(range(len(held)))
        for line in lines:
            path = line_path(name, keys, line)
            found = _match(line, held, keys, unmatched)
            if found is None:
                out.append(FieldChange(path, None, self.shown(line)))
                continue
            unmatched.remove(found)
            self.fields(path, line, held[found], out)
        if replaced:
            for index in unmatched:
                removed = held[index]
                out.append(
                    FieldChange(line_path(name, keys, removed), shown_current(removed), None)
                )

    def _positional(
        self,
        name: str,
        lines: list[Mapping[str, Any]],
        held: list[Mapping[str, Any]],
        replaced: bool,
        out: list[FieldChange],
    ) -> None:
        if not replaced:  # a non-keyed sublist without replace appends every line (§2.2)
            for number, line in enumerate(lines, start=len(held) + 1):
                out.append(FieldChange(f"{name}[{number}]", None, self.shown(line)))
            return
        for number, line in enumerate(lines, start=1):
            if number <= len(held):
                self.fields(f"{name}[{number}]", line, held[number - 1], out)
            else:
                out.append(FieldChange(f"{name}[{number}]", None, self.shown(line)))
        for number in range(len(lines) + 1, len(held) + 1):
            out.append(FieldChange(f"{name}[{number}]", shown_current(held[number - 1]), None))

    def shown(self, value: Any) -> Any:
        """A planned value as the diff shows it: references as ids, pending ones resolved."""
        if isinstance(value, PendingRef):
            return self._known.get(value.key, NEW_RECORD)
        if isinstance(value, Mapping):
            if "id" in value:
                return _text(value["id"])
            if _is_sublist(value):
                return [self.shown(line) for line in value[_ITEMS]]
            return {name: self.shown(item) for name, item in sorted(value.items())}
        if isinstance(value, list):
            return [self.shown(item) for item in value]
        return value


def shown_current(value: Any) -> Any:
    """A value NetSuite returned, as the diff shows it: no links, references as their ids."""
    if isinstance(value, Mapping):
        if "id" in value and _is_reference(value):
            return _text(value["id"])
        if isinstance(value.get(_ITEMS), list):
            return [shown_current(line) for line in value[_ITEMS]]
        return {name: shown_current(item) for name, item in sorted(value.items()) if name != _LINKS}
    if isinstance(value, list):
        return [shown_current(item) for item in value]
    return value


def same_value(planned: Any, current: Any) -> bool:
    """Whether a planned plain value equals the current one, by the module's rules."""
    if _blank(planned) and _blank(current):
        return True
    if isinstance(current, Mapping) and "id" in current:
        return _text(planned) == _text(current["id"])  # a select answered as a reference
    if isinstance(planned, bool) or isinstance(current, bool):
        return type(planned) is type(current) and planned == current
    numbers = _numbers(planned, current)
    if numbers is not None:
        return numbers[0] == numbers[1]
    return bool(planned == current)


def sublist_keys(lines: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The key fields of a sublist, judged from its lines; empty for a positional sublist."""
    for keys in SUBLIST_KEYS:
        if any(keys[0] in line for line in lines):
            return keys
    return ()


def line_path(name: str, keys: Sequence[str], line: Mapping[str, Any]) -> str:
    """``member[lineNumber=2]``: a keyed line by the key fields it has."""
    parts = [f"{key}={_key_text(line[key])}" for key in keys if line.get(key) is not None]
    return f"{name}[{','.join(parts)}]" if parts else f"{name}[new]"


def _match(
    line: Mapping[str, Any],
    held: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    unmatched: Sequence[int],
) -> int | None:
    """The current line a planned line names; None when it lacks its key or none matches."""
    if line.get(keys[0]) is None:
        return None  # a keyed line without its key is added (§2.2)
    given = [key for key in keys if line.get(key) is not None]
    for index in unmatched:
        if all(same_value(line[key], held[index].get(key)) for key in given):
            return index
    return None


def _is_sublist(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get(_ITEMS), list)


def _is_reference(value: Mapping[str, Any]) -> bool:
    """A GET reference has ``id`` and nothing beyond ``refName`` and ``links``."""
    return set(value) <= {"id", "refName", _LINKS}


def _current_lines(value: Any) -> list[Mapping[str, Any]]:
    items = value.get(_ITEMS) if isinstance(value, Mapping) else None
    return [line for line in items or () if isinstance(line, Mapping)]


def _ref_id(current: Any) -> str | None:
    """The id of a current reference (or of a bare id some answers carry)."""
    if isinstance(current, Mapping):
        return _text(current.get("id"))
    return _text(current)


def _text(value: Any) -> str | None:
    """An id as text; ``3``, ``3.0`` and ``"3"`` are one id."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _key_text(value: Any) -> str:
    return _text(value) or ""


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _numbers(planned: Any, current: Any) -> tuple[Decimal, Decimal] | None:
    """Both values as decimals when at least one is a number and both read as numbers."""
    if not (_is_number(planned) or _is_number(current)):
        return None
    left, right = _decimal(planned), _decimal(current)
    return None if left is None or right is None else (left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None
