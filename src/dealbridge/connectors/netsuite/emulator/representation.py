"""Stored documents out: the REST GET shape (contracts §2, §2.1) and flat SuiteQL rows (§4).

GET: ``links`` with a self link, ``id`` as a string, refs as ``{"links", "id", "refName"}``,
sublists as a link unless ``expandSubResources=true``, booleans and numbers as JSON values.
Rows: lower-case columns, refs and selects flattened to their id, raw Python values; turning
them into SuiteQL's strings and ``"T"``/``"F"`` is the SuiteQL engine's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from dealbridge.connectors.netsuite.emulator.schema_types import (
    FieldDef,
    Kind,
    RecordDef,
    SublistDef,
    is_custom_field,
)
from dealbridge.connectors.netsuite.models import RECORD_PATH

# (record type, internal id) -> the referenced record's display name, or None if it is gone
RefNamer = Callable[[str, str], str | None]


def record_url(base_url: str, record_type: str, record_id: str | int) -> str:
    """``<base>/record/v1/<type>/<id>``."""
    return f"{base_url.rstrip('/')}{RECORD_PATH}/{record_type}/{record_id}"


def self_links(href: str) -> list[dict[str, str]]:
    """A ``links`` array holding one self link."""
    return [{"rel": "self", "href": href}]


class RecordRenderer:
    """Renders one record type's stored documents for a base URL.

    Args:
        definition: The record type.
        base_url: ``https://…/services/rest`` as the client called it.
        ref_name: Looks up the refName of a referenced record.
    """

    def __init__(self, definition: RecordDef, base_url: str, ref_name: RefNamer) -> None:
        self._def = definition
        self._base = base_url
        self._ref_name = ref_name

    def record(
        self,
        record_id: int,
        doc: dict[str, Any],
        *,
        expand: bool = False,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """The body of ``GET record/v1/<type>/<id>``."""
        href = record_url(self._base, self._def.name, record_id)
        body: dict[str, Any] = {"id": str(record_id)}
        wanted = {f.lower() for f in fields} if fields else None
        for name, value in doc.items():
            if wanted is not None and name.lower() not in wanted:
                continue
            sublist = self._def.sublist(name)
            if sublist is not None:
                body[sublist.name] = self._sublist(sublist, href, value, expand)
            else:
                body[name] = self._value(self._def.field(name), value)
        # NetSuite lists a record's fields alphabetically after ``links`` (Oracle's case-1 GET).
        return {"links": self_links(href), **dict(sorted(body.items()))}

    def sublist(self, record_id: int, sublist: SublistDef, lines: list[dict[str, Any]]) -> Any:
        """The body of ``GET record/v1/<type>/<id>/<sublist>``."""
        href = record_url(self._base, self._def.name, record_id)
        return self._sublist(sublist, href, lines, expand=True)

    def _sublist(self, sublist: SublistDef, href: str, lines: Any, expand: bool) -> dict[str, Any]:
        links = self_links(f"{href}/{sublist.name}")
        if not expand:
            return {"links": links}
        items = [self._line(sublist, line) for line in lines]
        count = len(items)
        return {
            "links": links,
            "items": items,
            "totalResults": count,
            "count": count,
            "hasMore": False,
            "offset": 0,
        }

    def _line(self, sublist: SublistDef, line: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"links": []}
        for name, value in line.items():
            out[name] = self._value(sublist.field(name), value)
        return out

    def _value(self, fdef: FieldDef | None, value: Any) -> Any:
        if fdef is None:
            return value  # custom or free fields: as stored
        if fdef.kind is Kind.REF and fdef.target:
            return self._reference(fdef.target, str(value))
        if fdef.kind is Kind.SELECT:
            return {"id": value, "refName": value}
        if fdef.kind is Kind.SUBRECORD and isinstance(value, dict):
            return {
                "links": [],
                **{k: self._value(fdef.subfield_index.get(k.lower()), v) for k, v in value.items()},
            }
        return value

    def _reference(self, target: str, target_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "links": self_links(record_url(self._base, target, target_id)),
            "id": target_id,
        }
        name = self._ref_name(target, target_id)
        if name is not None:
            out["refName"] = name
        return out


def ref_name_of(definition: RecordDef, record_id: int, doc: dict[str, Any]) -> str:
    """A record's refName: its first non-empty name field, else its id."""
    for name in definition.name_fields:
        value = doc.get(name)
        if value not in (None, ""):
            return str(value)
    return str(record_id)


class TableRows:
    """Flattens the stored documents of one SuiteQL table into rows.

    The hot path of every SuiteQL query, so the columns are worked out once per table.

    Args:
        fields: The record's or sublist's fields.
        free: Also show undefined fields (custom record types).
        parent: For a sublist table, the column that holds the parent record's id.
    """

    def __init__(
        self, fields: Iterable[FieldDef], *, free: bool = False, parent: str | None = None
    ) -> None:
        self._pairs = tuple(
            (f.name, f.column)
            for f in fields
            if f.kind is not Kind.SUBRECORD and f.name != "externalId"
        )
        self._free = free
        self._parent = str(parent)
        base = ("id", "externalid", *((parent,) if parent else ()))
        self.columns = frozenset((*base, *(column for _, column in self._pairs)))

    @classmethod
    def of_record(cls, definition: RecordDef) -> TableRows:
        """The table of a record type (``customer``)."""
        return cls(definition.fields, free=definition.free_fields)

    @classmethod
    def of_sublist(cls, sublist: SublistDef) -> TableRows:
        """The table of a sublist (``subscriptionline``), one row per line."""
        return cls(sublist.fields, parent=sublist.parent_column)

    def record(self, record_id: int, ext_id: str | None, doc: dict[str, Any]) -> dict[str, Any]:
        """One record's row: every defined column (None when empty) and its custom fields."""
        return self._fill({"id": str(record_id), "externalid": ext_id}, doc)

    def lines(self, parent_id: int, lines: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The rows of one record's lines; a line's id is ``<parent>_<position>``."""
        return [
            self._fill(
                {"id": f"{parent_id}_{n}", "externalid": None, self._parent: str(parent_id)}, line
            )
            for n, line in enumerate(lines or (), start=1)
        ]

    def _fill(self, row: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        for name, column in self._pairs:
            row[column] = _flat(doc.get(name))
        for name, value in doc.items():
            custom = name.startswith("cust") and is_custom_field(name)
            if custom or (self._free and name.lower() not in self.columns):
                row[name.lower()] = _flat(value)
        return row


def _flat(value: Any) -> Any:
    """A raw column value: refs and selects are already ids; {"id"} custom refs become ids."""
    if isinstance(value, dict):
        return str(value["id"]) if "id" in value else json.dumps(value, sort_keys=True)
    if isinstance(value, list):
        return json.dumps(value, sort_keys=True)
    return value
