"""YAML to Python values, remembering where every key was written and refusing duplicate keys.

``yaml.safe_load`` forgets positions, and PyYAML silently keeps the last of two equal keys — in a
flow file that means a field mapped twice where only one mapping takes effect, unseen. So the
text is composed into PyYAML's node tree (safe: no object construction, no tags beyond the core
ones) and the values are built here, recording each key path's line and column.

Scalars follow the YAML 1.2 core schema rather than PyYAML's YAML 1.1: only ``true``/``false``
are booleans (the country code ``NO`` and the answer ``yes`` stay text), there are no base-60
numbers (``12:30`` is text) and no implicit timestamps (``2024-03-01`` stays text, which is how
Salesforce sends dates, so comparisons with deal values just work). Merge keys (``<<: *base``)
are supported so rules can be shared with anchors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dealbridge.mapping.flow_problems import FlowFileError, FlowProblem, join_path

_TAG = "tag:yaml.org,2002:"
_OVERRIDDEN = {f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float", f"{_TAG}timestamp"}
_CORE_RESOLVERS: list[tuple[str, re.Pattern[str], str]] = [
    (f"{_TAG}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (f"{_TAG}int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        f"{_TAG}float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
]


class _CoreLoader(yaml.SafeLoader):
    """SafeLoader composing with YAML 1.2 core scalar resolution."""


_CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _OVERRIDDEN]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _regexp, _first in _CORE_RESOLVERS:
    _CoreLoader.add_implicit_resolver(_tag, _regexp, list(_first))


@dataclass(frozen=True)
class Position:
    """Where a key (or a list item) starts, 1-based."""

    line: int
    column: int


@dataclass
class YamlDocument:
    """A parsed YAML text: its value and the position of every key path in it."""

    value: Any
    positions: dict[str, Position] = field(default_factory=dict)

    def position_of(self, path: str) -> Position:
        """The position of ``path``, or of its nearest ancestor written in the text."""
        candidate = path
        while candidate:
            if candidate in self.positions:
                return self.positions[candidate]
            candidate = _parent(candidate)
        return self.positions.get("", Position(1, 1))


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def load_yaml(text: str, *, source: str) -> YamlDocument:
    """Parse one YAML document, keeping positions.

    Args:
        text: The YAML text.
        source: The file name used in problems.

    Raises:
        FlowFileError: Invalid YAML, several documents, a duplicate key or an unsupported tag;
            every duplicate in the text is reported, not only the first.
    """
    try:
        node = yaml.compose(text, Loader=_CoreLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise FlowFileError([FlowProblem(source, line, column, "", reason)]) from None
    except yaml.YAMLError as error:
        raise FlowFileError([FlowProblem(source, 0, 0, "", str(error))]) from None
    builder = _Builder(source)
    document = YamlDocument(None, builder.positions)
    if node is not None:
        builder.positions[""] = _position(node)
        document.value = builder.build(node, "")
    if builder.problems:
        raise FlowFileError(builder.problems)
    return document


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass
class _Builder:
    source: str
    positions: dict[str, Position] = field(default_factory=dict)
    problems: list[FlowProblem] = field(default_factory=list)
    _open: set[int] = field(default_factory=set)

    def build(self, node: Node, path: str) -> Any:
        if id(node) in self._open:
            return self._problem(node, path, "an alias refers to itself")
        self._open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                return self._sequence(node, path)
            return self._scalar(node, path)
        finally:
            self._open.discard(id(node))

    def _sequence(self, node: SequenceNode, path: str) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            item_path = join_path(path, index)
            self.positions.setdefault(item_path, _position(item))
            items.append(self.build(item, item_path))
        return items

    def _mapping(self, node: MappingNode, path: str) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                merged.update(self._merge_sources(value_node, path))
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            key_path = join_path(path, key)
            if key in result:
                first = self.positions.get(key_path)
                where = f" (first at line {first.line})" if first else ""
                self._problem(key_node, key_path, f"duplicate key {key!r}{where}")
                continue
            self.positions[key_path] = _position(key_node)
            result[key] = self.build(value_node, key_path)
        return {**merged, **result}

    def _merge_sources(self, node: Node, path: str) -> dict[Any, Any]:
        """``<<: *a`` or ``<<: [*a, *b]``; earlier sources win, as YAML specifies."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[Any, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, MappingNode):
                self._problem(source, path, "a merge key (<<) needs a mapping")
                continue
            merged.update(self.build(source, path))
        return merged

    def _key(self, node: Node, path: str) -> Any:
        if not isinstance(node, ScalarNode):
            return self._problem(node, path, "a key must be text or a number")
        return self._scalar(node, path)

    def _scalar(self, node: Node, path: str) -> Any:
        if not isinstance(node, ScalarNode):  # pragma: no cover - the composer's only kinds
            return self._problem(node, path, "unsupported YAML node")
        value: str = node.value
        tag = node.tag
        if tag == f"{_TAG}str":
            return value
        if tag == f"{_TAG}null":
            return None
        if tag == f"{_TAG}bool":
            return value.lower() == "true"
        try:
            if tag == f"{_TAG}int":
                return int(value, 0) if value[:2] in ("0o", "0x") else int(value, 10)
            if tag == f"{_TAG}float":
                return _float(value)
        except ValueError:
            return self._problem(node, path, f"{value!r} is not a valid number")
        return self._problem(node, path, f"unsupported YAML tag {tag!r}")

    def _problem(self, node: Node, path: str, message: str) -> None:
        mark = node.start_mark
        self.problems.append(
            FlowProblem(self.source, mark.line + 1, mark.column + 1, path, message)
        )


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)
