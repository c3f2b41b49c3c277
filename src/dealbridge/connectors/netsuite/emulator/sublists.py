"""How request lines meet stored lines: contracts §2.2's table, keyed and non-keyed.

| Mode            | keyed sublist                                   | non-keyed sublist |
|-----------------|-------------------------------------------------|-------------------|
| no ``replace``  | matching lines updated, others added, rest kept | lines appended    |
| ``replace``     | matching updated, others added, rest removed    | all lines replaced|

Lines are 1-indexed. A keyed line without its single key gets the next number (a sales-order
line without ``line`` is added, §2.2); an optional key left out (``startOffsetValue`` of a
price interval) matches the one line equal on the other keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dealbridge.connectors.netsuite.emulator.field_values import (
    apply_changes,
    apply_defaults,
    check_required,
)
from dealbridge.connectors.netsuite.emulator.record_errors import invalid_content, user_error
from dealbridge.connectors.netsuite.emulator.schema_types import SublistDef

# (raw request line, error-path prefix such as "member.items[0].") -> change set
LineNormalizer = Callable[[Mapping[str, Any], str], dict[str, Any]]
Line = dict[str, Any]


def request_items(sublist: SublistDef, raw: Any) -> list[Mapping[str, Any]]:
    """The request lines of ``{"items": [...]}``; ``null`` means no lines."""
    if raw is None:
        return []
    items = raw.get("items", []) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        detail = f'Sublist {sublist.name} must be an object with an "items" array.'
        raise invalid_content(detail, sublist.name)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid_content("A sublist line must be an object.", line_path(sublist, index))
    return items


def line_path(sublist: SublistDef, index: int) -> str:
    """``o:errorPath`` of a request line, e.g. ``member.items[0]``."""
    return f"{sublist.name}.items[{index}]"


def merge_lines(
    sublist: SublistDef,
    existing: list[Line],
    items: Sequence[Mapping[str, Any]],
    *,
    replace: bool,
    normalize: LineNormalizer,
) -> list[Line]:
    """The lines after a write; ``existing`` is not modified."""
    merge = _merge_keyed if sublist.keyed else _merge_unkeyed
    return merge(sublist, existing, items, replace, normalize)


def _merge_keyed(
    sublist: SublistDef,
    existing: list[Line],
    items: Sequence[Mapping[str, Any]],
    replace: bool,
    normalize: LineNormalizer,
) -> list[Line]:
    lines = [dict(line) for line in existing]
    touched: set[int] = set()
    for index, item in enumerate(items):
        path = line_path(sublist, index) + "."
        changes = normalize(item, path)
        keys = {k: changes.pop(k) for k in sublist.keys if k in changes}
        keys = {k: v for k, v in keys.items() if v is not None}
        found = _find(sublist, lines, keys, path)
        if found is None:
            lines.append(_new_line(sublist, lines, keys, changes))
            found = len(lines) - 1
        else:
            apply_changes(lines[found], changes)
        check_required(sublist.fields, lines[found], path)
        touched.add(found)
    if replace:
        lines = [line for position, line in enumerate(lines) if position in touched]
    return lines


def _find(sublist: SublistDef, lines: list[Line], keys: Line, path: str) -> int | None:
    """The position of the stored line the request line names, or None for a new line."""
    if any(k not in keys for k in sublist.keys if k not in sublist.optional_keys):
        return None
    matches = [i for i, line in enumerate(lines) if all(line.get(k) == v for k, v in keys.items())]
    if len(matches) > 1 and len(keys) < len(sublist.keys):
        omitted = next(k for k in sublist.keys if k not in keys)
        raise user_error(
            f"Several {sublist.name} lines match; give {omitted} to choose one.", path + omitted
        )
    return matches[0] if matches else None


def _new_line(sublist: SublistDef, lines: list[Line], keys: Line, changes: Line) -> Line:
    line = dict(keys)
    apply_changes(line, changes)
    apply_defaults(sublist.fields, line)
    if len(sublist.keys) == 1 and sublist.keys[0] not in line:
        key = sublist.keys[0]
        line[key] = max((int(other.get(key) or 0) for other in lines), default=0) + 1
    return line


def _merge_unkeyed(
    sublist: SublistDef,
    existing: list[Line],
    items: Sequence[Mapping[str, Any]],
    replace: bool,
    normalize: LineNormalizer,
) -> list[Line]:
    lines = [] if replace else [dict(line) for line in existing]
    for index, item in enumerate(items):
        path = line_path(sublist, index) + "."
        line: Line = {}
        apply_changes(line, normalize(item, path))
        apply_defaults(sublist.fields, line)
        check_required(sublist.fields, line, path)
        lines.append(line)
    for number, line in enumerate(lines, start=1):
        line[sublist.line_field] = number
    return lines
