"""Template text: finding the ``{{ … }}`` holes and rendering the pieces with one closure.

A hole ends at the first ``}}`` outside a quoted string, so ``{{ '}}' }}`` is a hole holding
the text ``}}``. Rendering is specialised for the common shape ``PREFIX-{{ id }}`` (one hole),
which is most external ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dealbridge.mapping.expression_errors import ExpressionError
from dealbridge.mapping.expression_operators import Evaluator
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


def merge_text(parts: list[str | Evaluator]) -> tuple[str | Evaluator, ...]:
    """Adjacent text pieces joined, empty ones dropped."""
    merged: list[str | Evaluator] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)


def renderer(parts: tuple[str | Evaluator, ...]) -> Callable[[Mapping[str, Any]], str]:
    """One closure for the whole template, specialised for the usual "prefix-{{ id }}"."""
    holes = [part for part in parts if not isinstance(part, str)]
    if not holes:
        text = "".join(part for part in parts if isinstance(part, str))
        return lambda scope: text
    if len(holes) == 1:
        at = parts.index(holes[0])
        prefix = "".join(p for p in parts[:at] if isinstance(p, str))
        suffix = "".join(p for p in parts[at + 1 :] if isinstance(p, str))
        return _one_hole(prefix, holes[0], suffix)
    return lambda scope: "".join(
        [part if type(part) is str else display(part(scope)) for part in parts]  # type: ignore[operator]
    )


def _one_hole(prefix: str, hole: Evaluator, suffix: str) -> Callable[[Mapping[str, Any]], str]:
    """``prefix{{ hole }}suffix``; a text value (the usual id) is used as it is."""
    if suffix:
        return lambda scope: prefix + display(hole(scope)) + suffix

    def prefixed(scope: Mapping[str, Any]) -> str:
        value = hole(scope)
        return prefix + (value if type(value) is str else display(value))

    return prefixed
