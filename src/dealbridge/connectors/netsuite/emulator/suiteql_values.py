"""How SuiteQL values compare, sort and print: the semantics shared by every clause.

Rows hold raw Python values (str, int, float, bool, None). NetSuite runs SuiteQL on Oracle, so the
rules are Oracle's as far as the emulator needs them: NULL matches nothing, numbers compare as
numbers (a numeric-looking string against a number too), strings compare exactly and
case-sensitively, and booleans are the strings 'T' / 'F' (contracts/netsuite.md §4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Number = int | float

_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def to_number(value: Any) -> Number | None:
    """The number a value stands for, or None; used when one side of a comparison is numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        try:
            return int(value)
        except ValueError:
            return float(value)
    return None


def as_text(value: Any) -> str:
    """Render a non-null value the way SuiteQL's JSON sends it: always a string.

    Booleans are "T"/"F". An integral float loses its ".0": NetSuite sends "10", not "10.0"
    (observed, UNCONFIRMED by any Oracle page, contracts/netsuite.md §4).
    """
    if value.__class__ is str:
        return str(value)
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Bring two non-null values to one type, or None when Oracle could not compare them."""
    if isinstance(left, bool):
        left = "T" if left else "F"
    if isinstance(right, bool):
        right = "T" if right else "F"
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    left_number, right_number = to_number(left), to_number(right)
    if left_number is None or right_number is None:
        return None
    return left_number, right_number


def equal(left: Any, right: Any) -> bool | None:
    """SQL ``=``: None (unknown) when either side is NULL; values that cannot compare differ."""
    if left is None or right is None:
        return None
    pair = _comparable(left, right)
    return pair is not None and pair[0] == pair[1]


def compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1; None when either side is NULL or the two cannot be ordered (text vs number)."""
    if left is None or right is None:
        return None
    pair = _comparable(left, right)
    if pair is None:
        return None
    return int(pair[0] > pair[1]) - int(pair[0] < pair[1])


def order_key(value: Any) -> tuple[int, Any]:
    """A total order over non-null values for ORDER BY, MIN and MAX: numbers, then text."""
    if isinstance(value, bool):
        return 1, "T" if value else "F"
    if isinstance(value, int | float):
        return 0, value
    return 1, str(value)


def sort_key(value: Any, nulls_high: bool) -> tuple[int, int, Any]:
    """``order_key`` with NULLs placed above (``nulls_high``) or below every value."""
    if value is None:
        return (1 if nulls_high else -1), 0, 0
    rank, key = order_key(value)
    return 0, rank, key


def group_token(value: Any) -> Any:
    """A hashable stand-in that groups exactly the values ``equal`` would call equal to it."""
    if isinstance(value, bool):
        return "T" if value else "F"
    return value


class EqualityIndex(Generic[T]):
    """Items keyed by a value, so a probe finds exactly what SuiteQL ``=`` would match.

    One dict lookup per probe, whatever the number of keys: this is what makes
    ``externalid IN (<500 values>)`` over 10,000 rows cheap, and what the hash join probes.
    """

    def __init__(self, entries: Iterable[tuple[Any, T]]) -> None:
        self._texts: dict[str, list[T]] = {}
        self._numbers: dict[Number, list[T]] = {}
        self._numeric_texts: dict[Number, list[T]] = {}
        for key, item in entries:
            self._add(key, item)

    def _add(self, key: Any, item: T) -> None:
        if key is None:
            return
        if isinstance(key, bool):
            self._texts.setdefault("T" if key else "F", []).append(item)
        elif isinstance(key, str):
            self._texts.setdefault(key, []).append(item)
            number = to_number(key)
            if number is not None:
                self._numeric_texts.setdefault(number, []).append(item)
        elif isinstance(key, int | float):
            self._numbers.setdefault(key, []).append(item)

    def contains(self, value: Any) -> bool:
        """Whether any key equals ``value`` (False for NULL)."""
        if value.__class__ is str:
            if value in self._texts:
                return True
            return bool(self._numbers) and to_number(value) in self._numbers
        if value is None:
            return False
        if isinstance(value, bool):
            return ("T" if value else "F") in self._texts
        return value in self._numbers or value in self._numeric_texts

    def find(self, value: Any) -> list[T]:
        """Every item whose key equals ``value``, in insertion order per key kind."""
        if value is None:
            return []
        if isinstance(value, bool):
            return self._texts.get("T" if value else "F", [])
        if isinstance(value, str):
            number = to_number(value)
            found = self._texts.get(value, [])
            return found + self._numbers.get(number, []) if number is not None else found
        return self._numbers.get(value, []) + self._numeric_texts.get(value, [])


def like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    """Translate a LIKE pattern (``%`` any run, ``_`` one character) into an anchored regex."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if escape is not None and char == escape:
            parts.append(re.escape(next(chars, escape)))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)
