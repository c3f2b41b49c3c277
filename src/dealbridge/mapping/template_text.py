"""Template text: finding the ``{{ … }}`` holes and rendering the pieces with one closure.

A hole ends at the first ``}}`` outside a quoted string, so ``{{ '}}' }}`` is a hole holding
the text ``}}``. Rendering is specialised for the common shape ``PREFIX-{{ id }}`` (one hole),
which is most external ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from dealbridge.mapping.expression_errors import ExpressionError
from dealbridge.mapping.expression_operators import Evaluator, one_step, step
from dealbridge.mapping.value_text import display


def split_template(source: str) -> list[str | tuple[int, str]]:
    """Text pieces and ``(offset, hole text)`` pairs; ``}}`` inside a quoted string is text."""
    pieces: list[str | tuple[int, str]] = []
    position = 0
    while (start := source.find("{{", position)) >= 0:
        pieces.append(source[position:start])
        end = _hole_end(source, start + 2)
        if end < 0:
            raise ExpressionError(
                "'{{' is never closed", source=source, column=start + 1, kind="template"
            )
        pieces.append((start + 2, source[start + 2 : end]))
        position = end + 2
    pieces.append(source[position:])
    return pieces


def _hole_end(source: str, position: int) -> int:
    """Index of the ``}}`` closing the hole that starts at ``position``; -1 if none."""
    quote = ""
    index = position
    while index < len(source) - 1:
        char = source[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif source.startswith("}}", index):
            return index
        index += 1
    return -1


class Hole(Protocol):
    """A compiled hole (an ``Expression``): its evaluator and, when it is a plain path, the path."""

    @property
    def fn(self) -> Evaluator:
        """The evaluator."""

    @property
    def path(self) -> tuple[str, tuple[str | int, ...]] | None:
        """``(root, keys)`` when the hole is a plain path, else None."""


Part = str | Hole
Renderer = Callable[[Mapping[str, Any]], str]


def merge_text(parts: list[Part]) -> tuple[Part, ...]:
    """Adjacent text pieces joined, empty ones dropped."""
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)


def renderer(parts: tuple[Part, ...]) -> Renderer:
    """One closure for the whole template, specialised for the usual "prefix-{{ id }}"."""
    holes = [part for part in parts if not isinstance(part, str)]
    if not holes:
        text = "".join(part for part in parts if isinstance(part, str))
        return lambda scope: text
    if len(holes) == 1:
        at = parts.index(holes[0])
        prefix = "".join(p for p in parts[:at] if isinstance(p, str))
        suffix = "".join(p for p in parts[at + 1 :] if isinstance(p, str))
        read = one_step(holes[0].path)
        if read is not None and not suffix:
            return _path_hole(prefix, *read)
        return _one_hole(prefix, holes[0].fn, suffix)
    pieces = tuple(part if isinstance(part, str) else part.fn for part in parts)
    return lambda scope: "".join(
        [part if type(part) is str else display(part(scope)) for part in pieces]  # type: ignore[operator]
    )


def _one_hole(prefix: str, hole: Evaluator, suffix: str) -> Renderer:
    """``prefix{{ hole }}suffix``; a text value (the usual id) is used as it is."""
    if suffix:
        return lambda scope: prefix + display(hole(scope)) + suffix

    def prefixed(scope: Mapping[str, Any]) -> str:
        value = hole(scope)
        return prefix + (value if type(value) is str else display(value))

    return prefixed


def _path_hole(prefix: str, root: str, key: str | int) -> Renderer:
    """``prefix{{ root.key }}``, most external ids and source ids: the path read inline."""

    def render(scope: Mapping[str, Any]) -> str:
        value = scope.get(root)
        value = value.get(key) if type(value) is dict else step(value, key)
        return prefix + (value if type(value) is str else display(value))

    return render
