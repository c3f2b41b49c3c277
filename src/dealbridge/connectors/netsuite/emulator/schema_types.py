"""The vocabulary record types are defined in: field kinds, field, sublist and record definitions.

``schema.py`` writes the emulated record types in these terms; the record service, the GET
renderer, the ``q`` filter and the SuiteQL rows read them. Lookups by name are
case-insensitive because Oracle's own samples send ``entityid`` and ``addressbook``
(``shared/contracts/netsuite.md`` §2.2 calls the casing UNCONFIRMED).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from dealbridge.connectors.netsuite.models import record_group

# Custom field id prefixes (§3): always accepted on any record, stored as sent.
CUSTOM_FIELD_PREFIXES = ("custentity", "custbody", "custcol", "custrecord", "custitem", "custevent")
_CUSTOM_RECORD = re.compile(r"^customrecord_?[a-z0-9_]+$")
_CAMEL_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


class Kind(StrEnum):
    """How a field's value is written, stored and rendered."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"  # "YYYY-MM-DD" (§2)
    DATETIME = "datetime"  # ISO 8601, UTC (§2)
    REF = "ref"  # a record of ``target``; written {"id"} or bare, read with refName (§2.1)
    ENUM = "enum"  # a plain string such as "MONTHLY" or subscriptionLineType "2" (§2.1)
    SELECT = "select"  # a list value written and read as {"id": "US"}
    SUBRECORD = "subrecord"  # a nested object such as addressBookAddress (§2.2)


@dataclass(frozen=True)
class FieldDef:
    """One body or line field.

    ``required_if`` / ``required_unless`` name a boolean field that switches the requirement,
    e.g. customer ``companyName`` is required unless ``isPerson``.
    """

    name: str
    kind: Kind = Kind.STRING
    required: bool = False
    max_length: int | None = None
    target: str | None = None
    choices: tuple[str, ...] = ()
    read_only: bool = False
    default: Any = None
    label: str | None = None
    required_if: str | None = None
    required_unless: str | None = None
    subfields: tuple[FieldDef, ...] = ()

    @property
    def column(self) -> str:
        """The SuiteQL column: the field name in lower case (§4)."""
        return self.name.lower()

    @property
    def caption(self) -> str:
        """The UI label NetSuite names in "Please enter value(s) for: …"."""
        return self.label or " ".join(w.capitalize() for w in _CAMEL_WORD.findall(self.name))

    @cached_property
    def subfield_index(self) -> dict[str, FieldDef]:
        """Subrecord fields by lower-case name."""
        return {f.name.lower(): f for f in self.subfields}


@dataclass(frozen=True)
class SublistDef:
    """A sublist and how request lines find existing ones (§2.2, §10.3).

    ``keys`` empty means non-keyed: lines are appended and numbered in ``line_field``.
    ``optional_keys`` may be left out of a request line; the line then matches the one
    existing line equal on the other keys.
    """

    name: str
    fields: tuple[FieldDef, ...]
    keys: tuple[str, ...] = ()
    optional_keys: tuple[str, ...] = ()
    line_field: str = "line"
    table: str | None = None
    parent_column: str | None = None

    @property
    def keyed(self) -> bool:
        """Whether lines are matched by key rather than appended."""
        return bool(self.keys)

    @cached_property
    def index(self) -> dict[str, FieldDef]:
        """Line fields by lower-case name."""
        return {f.name.lower(): f for f in self.fields}

    def field(self, name: str) -> FieldDef | None:
        """The line field called ``name``, whatever its casing."""
        return self.index.get(name.lower())


@dataclass(frozen=True)
class RecordDef:
    """A record type.

    ``name_fields`` give the refName (first non-empty); ``display_from`` lists groups of fields
    joined to fill ``entityId`` when absent; ``dependents`` are (type, field) pairs whose
    records block a delete.
    """

    name: str
    fields: tuple[FieldDef, ...]
    sublists: tuple[SublistDef, ...] = ()
    read_only: bool = False
    free_fields: bool = False
    name_fields: tuple[str, ...] = ()
    display_from: tuple[tuple[str, ...], ...] = ()
    dependents: tuple[tuple[str, str], ...] = ()

    @property
    def group(self) -> str:
        """The external-id and internal-id namespace (§9)."""
        return record_group(self.name)

    @property
    def table(self) -> str:
        """The SuiteQL table name (§4)."""
        return self.name.lower()

    @cached_property
    def index(self) -> dict[str, FieldDef]:
        """Body fields by lower-case name."""
        return {f.name.lower(): f for f in self.fields}

    @cached_property
    def sublist_index(self) -> dict[str, SublistDef]:
        """Sublists by lower-case name."""
        return {s.name.lower(): s for s in self.sublists}

    def field(self, name: str) -> FieldDef | None:
        """The body field called ``name``, whatever its casing."""
        return self.index.get(name.lower())

    def sublist(self, name: str) -> SublistDef | None:
        """The sublist called ``name``, whatever its casing."""
        return self.sublist_index.get(name.lower())


def is_custom_field(name: str) -> bool:
    """Whether ``name`` is a custom field id (``custentity…``, ``custbody…``, …)."""
    return name.lower().startswith(CUSTOM_FIELD_PREFIXES)


def is_custom_record_type(name: str) -> bool:
    """Whether ``name`` is a ``customrecord_…`` type id."""
    return bool(_CUSTOM_RECORD.match(name))


def field(name: str, kind: Kind = Kind.STRING, **options: Any) -> FieldDef:
    """A field of any kind."""
    return FieldDef(name, kind, **options)


def text(name: str, max_length: int | None = None, **options: Any) -> FieldDef:
    """A string field."""
    return FieldDef(name, Kind.STRING, max_length=max_length, **options)


def ref(name: str, target: str, **options: Any) -> FieldDef:
    """A reference to a record of type ``target``."""
    return FieldDef(name, Kind.REF, target=target, **options)


def flag(name: str, default: bool | None = False, **options: Any) -> FieldDef:
    """A checkbox, false unless set."""
    return FieldDef(name, Kind.BOOL, default=default, **options)


def enum(name: str, *choices: str, **options: Any) -> FieldDef:
    """A string enum; any string if ``choices`` is empty."""
    return FieldDef(name, Kind.ENUM, choices=choices, **options)


def select(name: str, *choices: str, **options: Any) -> FieldDef:
    """A list value written ``{"id": …}``."""
    return FieldDef(name, Kind.SELECT, choices=choices, **options)
