"""The org's record operations: create, update, upsert, delete, read — validated as Salesforce does.

Every write path of the REST app (sObject rows, upsert, Composite, Collections) goes through
:class:`RecordService`, so they share one set of rules (contracts §1.5, §1.8): field checks
(``field_values``), references that must point at a live record of the right type, unique
values, and the fields only the org sets — Id, the audit timestamps, ``IsDeleted``, auto-numbers,
``Contact.Name`` and Opportunity ``IsWon``/``IsClosed`` from the stage (§4). Deletes are soft:
the row stays, ``IsDeleted`` is true, ``queryAll`` still returns it (§1.2).

Each write runs in a store transaction and reports ``(sobject, before, after)`` to the change
listener (the Outbound Message sender) only once that transaction — or the Composite request
around it — commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dealbridge.connectors.salesforce.emulator.field_values import (
    check_required,
    format_datetime,
    writable_fields,
)
from dealbridge.connectors.salesforce.emulator.schema import sobject as find_sobject
from dealbridge.connectors.salesforce.emulator.schema_objects import CLOSED_STAGES
from dealbridge.connectors.salesforce.emulator.schema_types import (
    FieldDef,
    FieldType,
    SObjectDef,
)
from dealbridge.connectors.salesforce.emulator.store import RecordStore, normalize_id
from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError, not_found
from dealbridge.connectors.salesforce.models import (
    DUPLICATE_VALUE,
    ENTITY_IS_DELETED,
    INVALID_FIELD,
    sobject_url,
)

INVALID_CROSS_REFERENCE_KEY = "INVALID_CROSS_REFERENCE_KEY"
ChangeListener = Callable[[str, Mapping[str, Any] | None, Mapping[str, Any]], None]
Clock = Callable[[], datetime]
_AUTO_NUMBER_WIDTH_OPEN = "{"


@dataclass(frozen=True)
class UpsertOutcome:
    """What an upsert did: the record's Id and whether it was created (§1.5)."""

    id: str
    created: bool


class MultipleMatchesError(Exception):
    """More than one record carries the external id value: REST answers 300 with their Ids."""

    def __init__(self, sobject: str, ids: list[str]) -> None:
        super().__init__(sobject, ids)
        self.sobject = sobject
        self.ids = ids


def sobject_def(name: str) -> SObjectDef:
    """The schema of ``name``; an unknown sObject is 404 ``NOT_FOUND`` as in REST URLs (§1.8)."""
    defn = find_sobject(name)
    if defn is None:
        raise not_found()
    return defn


class RecordService:
    """Validated record operations over a :class:`RecordStore`.

    Args:
        store: Where records live.
        clock: Now, as an aware datetime (tests may pin it).
        listener: Told of every committed write, e.g. ``OutboundSender.record_changed``.
    """

    def __init__(
        self,
        store: RecordStore,
        *,
        clock: Clock | None = None,
        listener: ChangeListener | None = None,
    ) -> None:
        self.store = store
        self._clock = clock or (lambda: datetime.now(UTC))
        self.listener = listener

    # -- reads -------------------------------------------------------------------------------

    def live(self, defn: SObjectDef, record_id: str) -> dict[str, Any]:
        """The stored record, refusing unknown (404 ``NOT_FOUND``) and deleted ones (§1.5)."""
        key = normalize_id(record_id)
        record = self.store.get(defn.name, key) if key else None
        if record is None:
            raise not_found()
        if record.get("IsDeleted"):
            raise SalesforceApiError(404, ENTITY_IS_DELETED, "entity is deleted")
        return record

    def render(
        self,
        defn: SObjectDef,
        record: Mapping[str, Any],
        api_version: str,
        fields: list[str] | None,
    ) -> dict[str, Any]:
        """A record as REST returns it: ``attributes`` then fields in describe order (§1.2)."""
        chosen = self._chosen_fields(defn, fields)
        body: dict[str, Any] = {
            "attributes": {
                "type": defn.name,
                "url": sobject_url(api_version, defn.name, str(record["Id"])),
            }
        }
        for field in chosen:
            body[field.name] = record.get(field.name)
        return body

    def _chosen_fields(self, defn: SObjectDef, names: list[str] | None) -> list[FieldDef]:
        if not names:
            return list(defn.fields.values())
        chosen = []
        for name in names:
            field = defn.field(name)
            if field is None:
                raise SalesforceApiError(
                    400, INVALID_FIELD, f"No such column '{name}' on entity '{defn.name}'."
                )
            chosen.append(field)
        return chosen

    def by_external_id(self, defn: SObjectDef, field_name: str, value: str) -> list[dict[str, Any]]:
        """Live records whose external-id field matches ``value`` (case-insensitive)."""
        field = external_id_field(defn, field_name)
        if field.type is FieldType.ID:
            key = normalize_id(value)
            record = self.store.get(defn.name, key) if key else None
            return [record] if record and not record.get("IsDeleted") else []
        return self.store.find(defn.name, field.name, value.lower())

    # -- writes ------------------------------------------------------------------------------

    def create(self, sobject: str, body: Mapping[str, Any]) -> str:
        """Validate and insert a record; returns its new 18-character Id."""
        defn = sobject_def(sobject)
        values = writable_fields(defn, body, creating=True)
        with self.store.transaction():
            record = self._new_record(defn, values)
            self._check_references(defn, values)
            self._check_unique(defn, record)
            self.store.insert(defn.name, record, self._links(defn, record))
            self._notify(defn.name, None, record)
        return str(record["Id"])

    def update(self, sobject: str, record_id: str, body: Mapping[str, Any]) -> str:
        """Validate and apply a partial update (PATCH semantics); returns the Id."""
        defn = sobject_def(sobject)
        values = writable_fields(defn, body, creating=False)
        with self.store.transaction():
            before = self.live(defn, record_id)
            record = {**before, **values}
            check_required(defn, record, only=values)
            self._check_references(defn, values)
            self._check_unique(defn, record)
            self._stamp(defn, record, creating=False)
            self.store.replace(defn.name, record, self._links(defn, record))
            self._notify(defn.name, before, record)
        return str(record["Id"])

    def upsert(
        self,
        sobject: str,
        field_name: str,
        value: str,
        body: Mapping[str, Any],
        *,
        update_only: bool = False,
    ) -> UpsertOutcome:
        """Create or update by external id (§1.5).

        Raises:
            MultipleMatchesError: More than one live record has the value (REST: 300).
            SalesforceApiError: 404 when ``update_only`` and nothing matches; validation errors.
        """
        defn = sobject_def(sobject)
        field = external_id_field(defn, field_name)
        with self.store.transaction():
            matches = self.by_external_id(defn, field.name, value)
            if len(matches) > 1:
                raise MultipleMatchesError(defn.name, [str(m["Id"]) for m in matches])
            if matches:
                return UpsertOutcome(self.update(defn.name, str(matches[0]["Id"]), body), False)
            if update_only or field.type is FieldType.ID:
                raise not_found()
            return UpsertOutcome(self.create(defn.name, {**body, field.name: value}), True)

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft-delete: the row stays for ``queryAll`` with ``IsDeleted`` true (§1.2)."""
        defn = sobject_def(sobject)
        with self.store.transaction():
            before = self.live(defn, record_id)
            record = {**before, "IsDeleted": True}
            self._stamp(defn, record, creating=False)
            self.store.replace(defn.name, record, self._links(defn, record))
            self._notify(defn.name, before, record)

    def load(self, sobject: str, rows: list[Mapping[str, Any]]) -> list[str]:
        """Insert raw rows (seed data, ``POST /__emulator__/records``) without field checks.

        The org still sets what only it sets (missing Ids, timestamps, derived flags), so a
        loaded Opportunity at Closed Won reads ``IsWon`` true. Unknown fields are refused.
        """
        defn = sobject_def(sobject)
        ids = []
        with self.store.transaction():
            for row in rows:
                record = self._loaded_record(defn, row)
                self.store.insert(defn.name, record, self._links(defn, record))
                ids.append(str(record["Id"]))
        return ids

    # -- helpers -----------------------------------------------------------------------------

    def _new_record(self, defn: SObjectDef, values: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            field.name: field.default for field in defn.fields.values() if field.default is not None
        }
        record.update(values)
        check_required(defn, record)
        record["Id"] = self.store.next_id(defn.key_prefix)
        self._auto_numbers(defn, record)
        self._stamp(defn, record, creating=True)
        return record

    def _loaded_record(self, defn: SObjectDef, row: Mapping[str, Any]) -> dict[str, Any]:
        unknown = [name for name in row if name != "attributes" and defn.field(name) is None]
        if unknown:
            raise SalesforceApiError(
                400, INVALID_FIELD, f"No such column '{unknown[0]}' on sobject of type {defn.name}"
            )
        record: dict[str, Any] = {name: field.default for name, field in defn.fields.items()}
        for name, value in row.items():
            found = defn.field(name)
            if found is not None:
                record[found.name] = value
        given_id = normalize_id(str(record.get("Id") or ""))
        if given_id is not None and self.store.exists(given_id):
            raise SalesforceApiError(400, DUPLICATE_VALUE, f"duplicate value found: Id {given_id}")
        record["Id"] = given_id or self.store.next_id(defn.key_prefix)
        self._auto_numbers(defn, record)
        self._stamp(defn, record, creating=True, keep_given=True)
        return record

    def _stamp(
        self, defn: SObjectDef, record: dict[str, Any], *, creating: bool, keep_given: bool = False
    ) -> None:
        """The fields only the org writes: audit timestamps and values derived from others."""
        now = format_datetime(self._clock())
        stamps = (
            ("CreatedDate", "LastModifiedDate", "SystemModstamp")
            if creating
            else (
                "LastModifiedDate",
                "SystemModstamp",
            )
        )
        for name in stamps:
            if defn.field(name) is not None and not (keep_given and record.get(name)):
                record[name] = now
        record["IsDeleted"] = bool(record.get("IsDeleted"))
        derive_fields(defn, record)

    def _auto_numbers(self, defn: SObjectDef, record: dict[str, Any]) -> None:
        for field in defn.fields.values():
            if field.auto_number and not record.get(field.name):
                serial = self.store.next_serial(f"{defn.name}.{field.name}")
                record[field.name] = format_auto_number(field.auto_number, serial)

    def _check_references(self, defn: SObjectDef, values: Mapping[str, Any]) -> None:
        """Each lookup must name a live record of one of its target types (§1.8)."""
        for name, value in values.items():
            field = defn.fields[name]
            if field.type is FieldType.REFERENCE and value is not None:
                _check_target(field, value, self.store.locate(value))

    def _check_unique(self, defn: SObjectDef, record: Mapping[str, Any]) -> None:
        for field in defn.fields.values():
            value = record.get(field.name)
            if not field.unique or value in (None, ""):
                continue
            for other in self.store.find(defn.name, field.name, str(value).lower()):
                if other["Id"] != record["Id"]:
                    raise SalesforceApiError(
                        400,
                        DUPLICATE_VALUE,
                        f"duplicate value found: {field.name} duplicates value on record with "
                        f"id: {other['Id']}",
                        [field.name],
                    )

    def _links(self, defn: SObjectDef, record: Mapping[str, Any]) -> dict[str, str | None]:
        """Index entries: each reference's parent Id, each external id's lower-cased value."""
        links: dict[str, str | None] = {}
        for field in defn.fields.values():
            value = record.get(field.name)
            if value in (None, ""):
                continue
            if field.type is FieldType.REFERENCE:
                links[field.name] = normalize_id(str(value))
            elif field.external_id or field.unique:
                links[field.name] = str(value).lower()
        return links

    def _notify(
        self, sobject: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
    ) -> None:
        listener = self.listener
        if listener is not None:
            self.store.on_commit(lambda: listener(sobject, before, after))


def _check_target(
    field: FieldDef, value: str, target: tuple[str, Mapping[str, Any]] | None
) -> None:
    if target is None:
        message, code = "invalid cross reference id", INVALID_CROSS_REFERENCE_KEY
    elif target[0] not in field.reference_to:
        message = f"{field.label}: id value of incorrect type: {value}"
        code = INVALID_CROSS_REFERENCE_KEY
    elif target[1].get("IsDeleted"):
        message, code = "entity is deleted", ENTITY_IS_DELETED
    else:
        return
    raise SalesforceApiError(400, code, message, [field.name])


def external_id_field(defn: SObjectDef, name: str) -> FieldDef:
    """The field an upsert URL names; not an external id → 404 ``NOT_FOUND`` (§1.5 [R12])."""
    field = defn.field(name)
    if field is None or not (field.external_id or field.type is FieldType.ID):
        raise not_found(f"Provided external ID field does not exist or is not accessible: {name}")
    return field


def derive_fields(defn: SObjectDef, record: dict[str, Any]) -> None:
    """Values the org computes from others (§4): stage flags and a contact's full name."""
    if defn.name == "Opportunity":
        stage = record.get("StageName")
        record["IsClosed"] = stage in CLOSED_STAGES
        record["IsWon"] = CLOSED_STAGES.get(str(stage), False)
    elif defn.name == "Contact":
        parts = (record.get("FirstName"), record.get("LastName"))
        record["Name"] = " ".join(str(part) for part in parts if part) or None


def format_auto_number(display_format: str, serial: int) -> str:
    """``Q-{00000}`` and 58 → ``Q-00058``: the zeros give the width."""
    start = display_format.find(_AUTO_NUMBER_WIDTH_OPEN)
    end = display_format.find("}", start)
    if start < 0 or end < 0:
        return f"{display_format}{serial}"
    width = end - start - 1
    return f"{display_format[:start]}{serial:0{width}d}{display_format[end + 1 :]}"
