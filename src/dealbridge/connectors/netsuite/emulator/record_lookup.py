"""Finding records: by type name, by URL ref (``123`` / ``eid:X``), by body reference.

Internal and external ids are scoped by record group (contracts §9), so every lookup goes
through the group and then checks the type: a contact id is not a customer id even though the
two share one id space.
"""

from __future__ import annotations

from typing import Any

from dealbridge.connectors.netsuite.emulator.record_errors import (
    invalid_content,
    invalid_reference,
    not_found,
    read_only_type,
    unknown_type,
    user_error,
)
from dealbridge.connectors.netsuite.emulator.representation import ref_name_of
from dealbridge.connectors.netsuite.emulator.schema import lookup
from dealbridge.connectors.netsuite.emulator.schema_types import FieldDef, RecordDef
from dealbridge.connectors.netsuite.emulator.store import RecordStore, StoredRecord

EID_PREFIX = "eid:"  # §2: eid:<externalId> works wherever a URL takes an internal id


class RecordLookup:
    """Record-type and record lookups over one store.

    Args:
        store: The records.
    """

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def definition(self, record_type: str) -> RecordDef:
        """The type's definition, or 404 for a type the emulator does not have."""
        definition = lookup(record_type)
        if definition is None:
            raise unknown_type(record_type)
        return definition

    def writable(self, record_type: str) -> RecordDef:
        """The type's definition, or 403 for seeded reference data."""
        definition = self.definition(record_type)
        if definition.read_only:
            raise read_only_type(definition.name)
        return definition

    def find(self, definition: RecordDef, ref: str) -> StoredRecord:
        """The record a URL names, ``123`` or ``eid:ABC``; 404 ``NONEXISTENT_ID`` if none."""
        if ref.startswith(EID_PREFIX):
            record = self._store.find_external(definition.group, ref[len(EID_PREFIX) :])
        elif ref.isdigit():
            record = self._store.get(definition.group, int(ref))
        else:
            record = None
        if record is None or record.type != definition.name:
            raise not_found()
        return record

    def fetch(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        """The stored document of a record, or None (for rules and refNames)."""
        definition = lookup(record_type)
        if definition is None or not record_id.isdigit():
            return None
        record = self._store.get(definition.group, int(record_id))
        return record.doc if record is not None and record.type == definition.name else None

    def ref_name(self, record_type: str, record_id: str) -> str | None:
        """The refName a GET shows for a reference, or None if the target is gone."""
        definition = lookup(record_type)
        doc = self.fetch(record_type, record_id)
        if definition is None or doc is None:
            return None
        return ref_name_of(definition, int(record_id), doc)

    def resolve_ref(self, fdef: FieldDef, raw: Any, path: str) -> str | None:
        """A body reference as the target's internal id (§2.1); None clears the field.

        Accepts ``{"id": "5"}``, ``{"id": 5}``, bare ``5`` / ``"5"`` and ``{"externalId"}``
        (UNCONFIRMED for REST; accepted). A missing target is 400 ``INVALID_KEY_OR_REF``.
        """
        target = self.definition(str(fdef.target))
        value = raw
        if isinstance(raw, dict):
            if raw.get("id") is None and raw.get("externalId") is not None:
                return self._resolve_external(target, fdef, str(raw["externalId"]), path)
            if "id" not in raw:
                detail = f'Invalid reference for field {fdef.name}: send {{"id": "<internal id>"}}.'
                raise invalid_content(detail, path)
            value = raw["id"]
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid_content(f"Invalid reference for field {fdef.name}.", path)
        text = str(value).strip()
        if text.isdigit() and self.fetch(target.name, text) is not None:
            return str(int(text))
        raise invalid_reference(value, fdef.name, path)

    def check_unique(self, definition: RecordDef, ext_id: str, own_id: int | None) -> None:
        """§9: an external id is unique in its record group (customer and contact share one).

        The REST code for a duplicate is UNCONFIRMED (§5); the contract's choice is USER_ERROR.
        """
        found = self._store.find_external(definition.group, ext_id)
        if found is not None and found.id != own_id:
            raise user_error(
                f"A record with the external ID {ext_id} already exists.", "externalId"
            )

    def _resolve_external(self, target: RecordDef, fdef: FieldDef, ext_id: str, path: str) -> str:
        found = self._store.find_external(target.group, ext_id)
        if found is None or found.type != target.name:
            raise invalid_reference(ext_id, fdef.name, path)
        return str(found.id)
