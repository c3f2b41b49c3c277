"""Argument checks shared by the transforms, so every type error reads the same way."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from dealbridge.mapping.expression_errors import TransformError


def text_arg(name: str, value: Any) -> str:
    """``value`` if it is text, else a ``TransformError`` naming the transform."""
    if not isinstance(value, str):
        raise TransformError(name, "expects text", value)
    return value


def int_arg(name: str, value: Any) -> int:
    """An integer argument; an integral float (``12.0``, as Salesforce sends numbers) counts."""
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TransformError(name, "expects a whole number", value)
    if isinstance(value, int):
        return value
    if not math.isfinite(value) or value != int(value):
        raise TransformError(name, "expects a whole number", value)
    return int(value)


def is_number(value: Any) -> bool:
    """True for numbers, false for booleans (which Python counts as integers)."""
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def list_arg(name: str, value: Any) -> list[Any] | tuple[Any, ...]:
    """``value`` if it is a list, else a ``TransformError`` naming the transform."""
    if not isinstance(value, list | tuple):
        raise TransformError(name, "expects a list", value)
    return value
