"""Name resolution: which table of the FROM clause a column reference reads, and how.

A reference is resolved once, when the query is compiled, into a closure that reads the column
from a row; an unknown or ambiguous name fails there with NetSuite's wording, before any row is
read. A table's columns are what ``columns_for`` declares plus every key its rows carry; an empty
table with no declared columns accepts any name, since nothing can prove the name wrong.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dealbridge.connectors.netsuite.emulator.suiteql_ast import Column, TableRef
from dealbridge.connectors.netsuite.emulator.suiteql_grammar import search_error

ValueFn = Callable[[Any], Any]


class Source:
    """One table of the FROM clause: its rows and what is known of its columns.

    The rows' own keys are consulted first and ``columns_for`` only when they do not settle a
    name (typically an empty table), since a store may build the declared set from every row.
    """

    def __init__(
        self,
        ref: TableRef,
        rows: Sequence[Mapping[str, Any]],
        columns_for: Callable[[str], set[str] | None] | None,
    ) -> None:
        self.ref = ref
        self.rows = rows
        self._columns_for = columns_for
        self._seen: set[str] | None = None
        self._declared: set[str] | None = None
        self._asked = False

    def has_column(self, name: str) -> bool | None:
        """True/False, or None when an empty table with no declared columns cannot tell."""
        if self._seen is None:
            self._seen = set().union(*self.rows)
        if name in self._seen:
            return True
        if not self._asked:
            self._asked = True
            self._declared = self._columns_for(self.ref.name) if self._columns_for else None
        if self._declared is not None:
            return name in self._declared
        return False if self._seen else None


class Scope:
    """Resolves column references against the tables visible at one point of the query.

    A row is the table's mapping when the query reads one table, else a tuple with one mapping
    per table (None where a LEFT JOIN found no match).
    """

    def __init__(self, sources: Sequence[Source], visible: int | None = None) -> None:
        self.sources = sources
        self.joined = len(sources) > 1
        self._visible = sources[: len(sources) if visible is None else visible]

    def narrowed(self, visible: int) -> Scope:
        """The scope of a JOIN ... ON: only the tables joined so far."""
        return Scope(self.sources, visible)

    def resolve(self, column: Column) -> int:
        """The index of the table ``column`` belongs to."""
        if column.qualifier is None and column.name == "rownum":
            raise search_error("ROWNUM is supported only as 'ROWNUM <= n' ANDed into WHERE.")
        if column.qualifier is not None:
            return self._qualified(column)
        found = [i for i, s in enumerate(self._visible) if s.has_column(column.name)]
        if len(found) > 1:
            raise search_error(f"Column ambiguously defined: '{column.name}'.")
        if not found:
            found = [i for i, s in enumerate(self._visible) if s.has_column(column.name) is None]
        if not found:
            raise self.unknown(column.text)
        return found[0]

    def _qualified(self, column: Column) -> int:
        for index, source in enumerate(self._visible):
            if source.ref.label == column.qualifier:
                if source.has_column(column.name) is False:
                    raise self.unknown(column.text)
                return index
        raise self.unknown(column.text)

    def unknown(self, identifier: str) -> Exception:
        """NetSuite's unknown-identifier error, listing the table aliases it knows."""
        known = ", ".join(f"{s.ref.label}={s.ref.name}" for s in self._visible)
        return search_error(
            f"Unknown identifier '{identifier}'. Available identifiers are: {{{known}}}."
        )

    def accessor(self, column: Column) -> ValueFn:
        """A closure reading ``column`` from a row."""
        index, name = self.resolve(column), column.name
        if not self.joined:
            return operator.methodcaller("get", name)

        def read(row: tuple[Mapping[str, Any] | None, ...]) -> Any:
            table = row[index]
            return None if table is None else table.get(name)

        return read
