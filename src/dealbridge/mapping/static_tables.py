"""Static lookup tables: inline ``values`` or a YAML/CSV file beside the flow, loaded once.

Keys are normalised by ``table_key`` — the text a template would show (so the float ``12.0``
from Salesforce finds the key ``12``), trimmed, and lower-cased when the table is
``case_insensitive`` (the default: ``Monthly`` and ``monthly`` are one picklist value). The engine
must look keys up through ``table_key`` too. Two keys that normalise to the same text are an
error, never a silent overwrite.

A CSV file has a header row naming ``key_column`` and ``value_column`` (default ``key`` and
``value``); other columns are ignored, and an empty value cell is null. A YAML file is one
mapping of key to value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dealbridge.mapping.flow_problems import FlowFileError, FlowProblem, join_path
from dealbridge.mapping.spec import StaticLookup
from dealbridge.mapping.value_text import display
from dealbridge.mapping.yaml_lines import load_yaml


def table_key(value: Any, *, case_insensitive: bool) -> str | None:
    """The normalised key for ``value``; None for null (which matches no key)."""
    if value is None:
        return None
    text = display(value).strip()
    return text.lower() if case_insensitive else text


def load_static_table(spec: StaticLookup, *, base_dir: Path) -> Mapping[str, Any]:
    """The table of a static lookup, keys normalised, read-only.

    Args:
        spec: The lookup's ``static`` section.
        base_dir: Where a relative ``file`` is resolved: the flow file's directory.

    Raises:
        ValueError: A problem located in the flow file (no such file, unknown file kind,
            colliding inline keys); the message says what.
        FlowFileError: Problems located inside the table file, with its lines.
    """
    if spec.values is not None:
        return MappingProxyType(_inline(spec.values, spec.case_insensitive))
    assert spec.file is not None  # noqa: S101 - StaticLookup guarantees one of the two
    path = Path(spec.file) if Path(spec.file).is_absolute() else base_dir / spec.file
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return MappingProxyType(_yaml_table(_read(path), str(path), spec.case_insensitive))
    if suffix == ".csv":
        return MappingProxyType(_csv_table(_read(path), str(path), spec))
    raise ValueError(f"lookup file {spec.file!r} must end in .yaml, .yml or .csv")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"lookup file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read lookup file {path}: {error}") from None


def _inline(values: Mapping[str, Any], case_insensitive: bool) -> dict[str, Any]:
    table: dict[str, Any] = {}
    originals: dict[str, str] = {}
    for key, value in values.items():
        normal = table_key(key, case_insensitive=case_insensitive) or ""
        if normal in table:
            raise ValueError(f"keys {originals[normal]!r} and {key!r} are the same key")
        table[normal] = value
        originals[normal] = key
    return table


def _yaml_table(text: str, source: str, case_insensitive: bool) -> dict[str, Any]:
    document = load_yaml(text, source=source)
    if not isinstance(document.value, dict):
        raise FlowFileError([FlowProblem(source, 1, 1, "", "a lookup file must be a mapping")])
    table: dict[str, Any] = {}
    problems: list[FlowProblem] = []
    for key, value in document.value.items():
        normal = table_key(key, case_insensitive=case_insensitive)
        position = document.position_of(join_path("", key))
        if normal is None or normal in table:
            reason = "an empty key" if normal is None else f"key {key!r} repeats an earlier key"
            problems.append(FlowProblem(source, position.line, position.column, "", reason))
            continue
        table[normal] = value
    if problems:
        raise FlowFileError(problems)
    return table


def _csv_table(text: str, source: str, spec: StaticLookup) -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [col for col in (spec.key_column, spec.value_column) if col not in header]
    if missing:
        found = ", ".join(header) or "nothing"
        message = f"the header must name column(s) {', '.join(missing)}; found {found}"
        raise FlowFileError([FlowProblem(source, 1, 1, "", message)])
    table: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    problems: list[FlowProblem] = []
    for row in reader:
        line = reader.line_num
        normal = table_key(row.get(spec.key_column), case_insensitive=spec.case_insensitive)
        if not normal or normal in table:
            reason = (
                f"key {normal!r} repeats line {first_line[normal]}" if normal else "an empty key"
            )
            problems.append(FlowProblem(source, line, 1, "", reason))
            continue
        table[normal] = row.get(spec.value_column) or None
        first_line[normal] = line
    if problems:
        raise FlowFileError(problems)
    return table
