"""The record service: NetSuite's REST record behaviour over the SQLite store.

The HTTP layer maps each request to one call here; every refusal is a ``NetSuiteProblem`` in
NetSuite's shape (contracts §5). One write runs in one store transaction, so an upsert's
"look up the external id, then create or update" cannot race another request (§9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dealbridge.connectors.netsuite.emulator.record_errors import (
    invalid_content,
    invalid_parameter,
    not_found,
    user_error,
)
from dealbridge.connectors.netsuite.emulator.record_filter import compile_query, record_view
from dealbridge.connectors.netsuite.emulator.record_lookup import RecordLookup
from dealbridge.connectors.netsuite.emulator.record_writer import RecordWriter, request_object
from dealbridge.connectors.netsuite.emulator.reference_data import REFERENCE_DATA
from dealbridge.connectors.netsuite.emulator.representation import RecordRenderer, TableRows
from dealbridge.connectors.netsuite.emulator.schema import RECORD_TYPES, lookup
from dealbridge.connectors.netsuite.emulator.schema_types import (
    RecordDef,
    SublistDef,
    is_custom_record_type,
)
from dealbridge.connectors.netsuite.emulator.store import RecordStore
from dealbridge.connectors.netsuite.models import COLLECTION_MAX_PAGE, is_valid_external_id

_DEPENDENT_DETAIL = "This record cannot be deleted because it has dependent records."


class RecordService:
    """Create, read, update, upsert, delete and list emulated NetSuite records.

    Args:
        store: Where records live; an empty store gets the built-in reference data.
    """

    def __init__(self, store: RecordStore) -> None:
        self._store = store
        self._lookup = RecordLookup(store)
        self._writer = RecordWriter(store, self._lookup)
        with store.transaction():
            if store.count() == 0:
                self._writer.load(REFERENCE_DATA)

    # --- writes -------------------------------------------------------------------------

    def create(
        self,
        record_type: str,
        body: Any,
        *,
        strict_fields: bool,
        replace: frozenset[str] = frozenset(),
    ) -> str:
        """``POST record/v1/<type>``: a new record; returns its internal id (§2)."""
        definition = self._lookup.writable(record_type)
        payload = request_object(body)
        with self._store.transaction():
            return str(self._writer.insert(definition, payload, strict_fields, replace))

    def upsert(
        self,
        record_type: str,
        external_id: str,
        body: Any,
        *,
        strict_fields: bool,
        replace: frozenset[str] = frozenset(),
    ) -> str:
        """``PUT record/v1/<type>/eid:<id>``: create if no record of the type has the eid (§2).

        The body may repeat the eid as ``externalId`` but not contradict it: a second id in
        one request is a client bug, so it is refused (our choice; NetSuite's is UNCONFIRMED).
        """
        definition = self._lookup.writable(record_type)
        payload = request_object(body)
        _check_upsert_eid(external_id, payload)
        with self._store.transaction():
            found = self._store.find_external(definition.group, external_id)
            if found is None:
                return str(
                    self._writer.insert(definition, payload, strict_fields, replace, external_id)
                )
            if found.type != definition.name:
                raise user_error(
                    f"The external ID {external_id} is already used by a {found.type} record "
                    "in the same record group.",
                    "externalId",
                )
            self._writer.modify(definition, found, payload, strict_fields, replace, False)
            return str(found.id)

    def update(
        self,
        record_type: str,
        ref: str,
        body: Any,
        *,
        strict_fields: bool,
        replace: frozenset[str] = frozenset(),
        replace_selected_fields: bool = False,
    ) -> str:
        """``PATCH record/v1/<type>/<id|eid:…>``: omitted fields stay, ``null`` clears (§2)."""
        definition = self._lookup.writable(record_type)
        payload = request_object(body)
        with self._store.transaction():
            record = self._lookup.find(definition, ref)
            self._writer.modify(
                definition, record, payload, strict_fields, replace, replace_selected_fields
            )
            return str(record.id)

    def delete(self, record_type: str, ref: str) -> None:
        """``DELETE record/v1/<type>/<id>``; refused while a subscription or account uses it."""
        definition = self._lookup.writable(record_type)
        with self._store.transaction():
            record = self._lookup.find(definition, ref)
            self._check_dependents(definition, record.id)
            self._store.delete(definition.group, record.id)

    def load_seed(self, data: dict[str, list[dict[str, Any]]]) -> None:
        """Load records in request form; an ``"id"`` is kept and replaces that record."""
        with self._store.transaction():
            self._writer.load(data)

    def reset(self) -> None:
        """Forget everything but the built-in reference data."""
        with self._store.transaction():
            self._store.clear()
            self._writer.load(REFERENCE_DATA)

    # --- reads --------------------------------------------------------------------------

    def get(
        self,
        record_type: str,
        ref: str,
        *,
        base_url: str,
        expand_sub_resources: bool = False,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """``GET record/v1/<type>/<id>``: refs with refName, sublists as links unless expanded."""
        definition = self._lookup.definition(record_type)
        record = self._lookup.find(definition, ref)
        renderer = RecordRenderer(definition, base_url, self._lookup.ref_name)
        return renderer.record(record.id, record.doc, expand=expand_sub_resources, fields=fields)

    def get_sublist(
        self, record_type: str, ref: str, sublist: str, *, base_url: str
    ) -> dict[str, Any]:
        """``GET record/v1/<type>/<id>/<sublist>``: the lines, always expanded."""
        definition = self._lookup.definition(record_type)
        record = self._lookup.find(definition, ref)
        found = definition.sublist(sublist)
        if found is None:
            raise not_found()  # UNCONFIRMED: NetSuite's answer for an unknown sub-resource
        renderer = RecordRenderer(definition, base_url, self._lookup.ref_name)
        return dict(renderer.sublist(record.id, found, record.doc.get(found.name, [])))

    def list_ids(
        self, record_type: str, *, q: str | None, limit: int, offset: int
    ) -> tuple[list[str], int]:
        """One page of ``GET record/v1/<type>``: ids in id order, and the total (§2.3)."""
        definition = self._lookup.definition(record_type)
        if not 1 <= limit <= COLLECTION_MAX_PAGE:
            raise invalid_parameter(
                f"Invalid value for query parameter limit: {limit}. "
                f"Use a number from 1 to {COLLECTION_MAX_PAGE}."
            )
        if offset < 0 or offset % limit:
            raise invalid_parameter(
                f"Invalid value for query parameter offset: {offset}. "
                "The offset must be a multiple of the limit."
            )
        predicate = compile_query(q, definition) if q and q.strip() else None
        ids = [
            r.id
            for r in self._store.records(definition.name)
            if predicate is None or predicate(record_view(r.id, r.ext_id, r.doc))
        ]
        return [str(i) for i in ids[offset : offset + limit]], len(ids)

    def rows(self, table: str) -> list[dict[str, Any]] | None:
        """SuiteQL rows of a table, or None if there is no such table.

        Columns are lower-case and include ``id`` and ``externalid`` (ids as strings, like the
        refs they join with); values are raw: bool, int, float, str or None, dates
        ``YYYY-MM-DD``. Sublist tables (``subscriptionline``, ``subscriptionpriceinterval``,
        ``transactionline``) carry the parent's id in ``subscription`` / ``transaction``.
        """
        found = self._table(table)
        if found is None:
            return None
        definition, sublist = found
        records = self._store.records(definition.name)
        if sublist is None:
            maker = TableRows.of_record(definition)
            return [maker.record(r.id, r.ext_id, r.doc) for r in records]
        maker = TableRows.of_sublist(sublist)
        return [row for r in records for row in maker.lines(r.id, r.doc.get(sublist.name))]

    def columns(self, table: str) -> set[str] | None:
        """A SuiteQL table's columns, known even when it has no rows; None if no such table."""
        found = self._table(table)
        if found is None:
            return None
        definition, sublist = found
        maker = (
            TableRows.of_record(definition) if sublist is None else TableRows.of_sublist(sublist)
        )
        return set(maker.columns).union(*(row.keys() for row in self.rows(table) or []))

    def dump(self, record_type: str) -> list[dict[str, Any]]:
        """Every stored document of a type, with its ``id``, for the control API and tests."""
        definition = self._lookup.definition(record_type)
        return [{"id": str(r.id), **r.doc} for r in self._store.records(definition.name)]

    def known_type(self, record_type: str) -> bool:
        """Whether the emulator has this record type (custom record types always exist)."""
        return lookup(record_type) is not None

    # --- helpers ------------------------------------------------------------------------

    def _check_dependents(self, definition: RecordDef, record_id: int) -> None:
        for dependent_type, field in definition.dependents:
            for record in self._store.records(dependent_type):
                if record.doc.get(field) == str(record_id):
                    raise user_error(_DEPENDENT_DETAIL)

    def _table(self, table: str) -> tuple[RecordDef, SublistDef | None] | None:
        """The record type, and sublist for a line table, behind a SuiteQL table name."""
        name = table.lower()
        for definition in RECORD_TYPES.values():
            if definition.table == name:
                return definition, None
            for sublist in definition.sublists:
                if sublist.table == name:
                    return definition, sublist
        if is_custom_record_type(name) and name in self._store.types():
            return self._lookup.definition(name), None
        return None


def _check_upsert_eid(external_id: str, payload: Mapping[str, Any]) -> None:
    if not is_valid_external_id(external_id):
        raise invalid_parameter(
            f"Invalid external ID {external_id!r} in the URL: use letters, digits, '_' and '-'."
        )
    for name, value in payload.items():
        if name.lower() == "externalid" and value != external_id:
            raise invalid_content(
                f"The body's externalId {value!r} differs from the URL's eid:{external_id}.",
                "externalId",
            )
