"""``LookupRecorder``: the scope's ``__lookup__`` for one plan, remembering what it was asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_UNKNOWN = object()
_KEPT = frozenset({str, int, float})  # keys whose answers are kept: hashable, compared by value


class LookupRecorder:
    """The scope's ``__lookup__``: resolves, and remembers the last (table, key) asked.

    A ``resolves`` rule's default sentence names the key that found nothing. Answers to text and
    number keys are kept for the deal: the same subsidiary, currency, item or term is asked for
    by many records, and the tables do not change during a plan.
    """

    __slots__ = ("_answers", "_resolve", "last")

    def __init__(self, resolve: Callable[[str, Any], Any]) -> None:
        self._resolve = resolve
        self._answers: dict[tuple[str, Any, type], Any] = {}
        self.last: tuple[str, Any] | None = None

    def __call__(self, table: str, key: Any) -> Any:
        """The value of ``key`` in ``table`` (``LookupTables.resolve``), remembered."""
        self.last = (table, key)
        kind = type(key)
        if kind not in _KEPT or type(table) is not str:
            return self._resolve(table, key)
        asked = (table, key, kind)  # 1, 1.0 and True are equal keys of a dict: not here
        found = self._answers.get(asked, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._answers[asked] = self._resolve(table, key)
        return found

    def last_lookup(self) -> tuple[str, Any] | None:
        """The last lookup made, if any."""
        return self.last
