"""sObject Collections: ``/composite/sobjects`` create, update, upsert, delete, retrieve (§1.6).

Up to 200 records per call, one result per record, in order, always HTTP 200 — except for a
malformed request (not JSON, no ``records`` list, over 200), which is 400 as a whole. Per-record
errors carry ``statusCode``, not ``errorCode`` (§1.6). With ``allOrNone`` the records run in one
store transaction: if any fails, all are rolled back and the ones that had succeeded report
``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dealbridge.connectors.salesforce.emulator.dispatch import RestCall, RestReply, router
from dealbridge.connectors.salesforce.emulator.records import (
    INVALID_CROSS_REFERENCE_KEY,
    MultipleMatchesError,
    sobject_def,
)
from dealbridge.connectors.salesforce.emulator.routes_sobjects import saved
from dealbridge.connectors.salesforce.emulator.store import normalize_id
from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError, bad_input
from dealbridge.connectors.salesforce.models import (
    ALL_OR_NONE_OPERATION_ROLLED_BACK,
    COLLECTION_MAX,
    INVALID_FIELD,
)

EXCEEDED_ID_LIMIT = "EXCEEDED_ID_LIMIT"  # wording observed in public reports; UNCONFIRMED
MISSING_ARGUMENT = "MISSING_ARGUMENT"
DUPLICATE_EXTERNAL_ID = "DUPLICATE_EXTERNAL_ID"
ROLLED_BACK_MESSAGE = (
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header"
)  # §1.6 [R42]
RETRIEVE_MAX = 2000
_T = r"/composite/sobjects/(?P<sobject>[A-Za-z][A-Za-z0-9_]*)"
Operation = Callable[[dict[str, Any]], dict[str, Any]]


class _RollBack(Exception):
    """Unwinds an ``allOrNone`` transaction once a record failed."""


@router.route("POST", r"/composite/sobjects/?")
def create_records(call: RestCall, match: re.Match[str]) -> RestReply:
    """Create records of one or more types (``attributes.type`` on each)."""

    def create(record: dict[str, Any]) -> dict[str, Any]:
        sobject = _type_of(record)
        return saved(call.state.records.create(sobject, record))

    return _apply(call, _records(call), create, failed_id=lambda record: None)


@router.route("PATCH", r"/composite/sobjects/?")
def update_records(call: RestCall, match: re.Match[str]) -> RestReply:
    """Update records by ``Id``."""

    def update(record: dict[str, Any]) -> dict[str, Any]:
        sobject = _type_of(record)
        fields = {name: value for name, value in record.items() if name.lower() != "id"}
        record_id = _id_of(record)
        return saved(call.state.records.update(sobject, record_id, fields))

    return _apply(call, _records(call), update, failed_id=_given_id)


@router.route("PATCH", _T + r"/(?P<field>[A-Za-z][A-Za-z0-9_]*)/?")
def upsert_records(call: RestCall, match: re.Match[str]) -> RestReply:
    """Upsert records of one type by an external id field given in each record (v46+)."""
    defn = sobject_def(match.group("sobject"))
    field = defn.field(match.group("field"))
    if field is None or not field.external_id:
        raise SalesforceApiError(
            400,
            INVALID_FIELD,
            f"Field name provided, {match.group('field')} does not match an External ID for "
            f"{defn.name}",
        )

    def upsert(record: dict[str, Any]) -> dict[str, Any]:
        if _type_of(record, default=defn.name) != defn.name:
            raise SalesforceApiError(400, "INVALID_TYPE", f"Records must be of type {defn.name}.")
        fields = {k: v for k, v in record.items() if defn.field(k) is not field}
        value = next((v for k, v in record.items() if defn.field(k) is field), None)
        if value in (None, ""):
            raise SalesforceApiError(400, MISSING_ARGUMENT, f"{field.name} not specified")
        try:
            outcome = call.state.records.upsert(defn.name, field.name, str(value), fields)
        except MultipleMatchesError as many:
            raise SalesforceApiError(
                300,
                DUPLICATE_EXTERNAL_ID,
                f"{field.name}: more than one record found for external id field: {many.ids}",
                [field.name],
            ) from None
        return saved(outcome.id, created=outcome.created)

    return _apply(call, _records(call), upsert, failed_id=lambda record: None)


@router.route("DELETE", r"/composite/sobjects/?")
def delete_records(call: RestCall, match: re.Match[str]) -> RestReply:
    """``DELETE composite/sobjects?ids=a,b[&allOrNone=true]``."""
    ids = _id_list(call, COLLECTION_MAX)

    def delete(item: dict[str, Any]) -> dict[str, Any]:
        record_id = item["id"]
        found = call.state.store.locate(record_id) if normalize_id(record_id) else None
        if found is None:
            raise SalesforceApiError(
                400, INVALID_CROSS_REFERENCE_KEY, "invalid cross reference id", []
            )
        call.state.records.delete(found[0], record_id)
        return saved(str(found[1]["Id"]))

    items = [{"id": record_id} for record_id in ids]
    return _apply(call, items, delete, failed_id=lambda item: item["id"])


@router.route("GET", _T + "/?")
def retrieve_records(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET composite/sobjects/T?ids=&fields=``: records in order, null where none."""
    return _retrieve(call, match.group("sobject"), _id_list(call, RETRIEVE_MAX), _fields(call))


@router.route("POST", _T + "/?")
def retrieve_records_by_body(call: RestCall, match: re.Match[str]) -> RestReply:
    """``POST composite/sobjects/T`` with ``{"ids":[…],"fields":[…]}`` (long id lists)."""
    body = call.json()
    ids = body.get("ids") if isinstance(body, dict) else None
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not isinstance(fields, list) or not fields:
        raise bad_input("The body must be a JSON object with ids and fields lists.")
    if len(ids) > RETRIEVE_MAX:
        raise bad_input(f"At most {RETRIEVE_MAX} ids may be retrieved.", EXCEEDED_ID_LIMIT)
    return _retrieve(call, match.group("sobject"), [str(i) for i in ids], [str(f) for f in fields])


def _retrieve(call: RestCall, sobject: str, ids: list[str], fields: list[str]) -> RestReply:
    defn = sobject_def(sobject)
    service = call.state.records
    rendered: list[dict[str, Any] | None] = []
    for record_id in ids:
        key = normalize_id(record_id)
        record = call.state.store.get(defn.name, key) if key else None
        if record is None or record.get("IsDeleted"):
            rendered.append(None)
        else:
            rendered.append(service.render(defn, record, call.api_version, fields))
    return RestReply(200, rendered)


def _records(call: RestCall) -> list[dict[str, Any]]:
    body = call.json()
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise bad_input("The request body must be a JSON object with a records list of objects.")
    if len(records) > COLLECTION_MAX:
        raise bad_input(
            f"record limit reached. cannot submit more than {COLLECTION_MAX} records into this "
            "call",
            EXCEEDED_ID_LIMIT,
        )
    return records


def _all_or_none(call: RestCall) -> bool:
    """``allOrNone`` of the body (create, update, upsert) or the query string (delete)."""
    if call.method == "DELETE":
        return call.params.get("allOrNone", "").lower() == "true"
    body = call.json()
    return isinstance(body, dict) and body.get("allOrNone") is True


def _id_list(call: RestCall, limit: int) -> list[str]:
    ids = [part.strip() for part in call.params.get("ids", "").split(",") if part.strip()]
    if not ids:
        raise bad_input("The ids parameter is required.", MISSING_ARGUMENT)
    if len(ids) > limit:
        raise bad_input(f"At most {limit} ids are allowed.", EXCEEDED_ID_LIMIT)
    return ids


def _fields(call: RestCall) -> list[str]:
    fields = [part.strip() for part in call.params.get("fields", "").split(",") if part.strip()]
    if not fields:
        raise bad_input("The fields parameter is required.", MISSING_ARGUMENT)
    return fields


def _type_of(record: dict[str, Any], default: str | None = None) -> str:
    attributes = record.pop("attributes", None)
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject and default is None:
        # Salesforce's wording for this is UNCONFIRMED.
        raise SalesforceApiError(
            400, "INVALID_TYPE", "Must specify a type in the attributes of each record."
        )
    return str(sobject or default)


def _id_of(record: dict[str, Any]) -> str:
    record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
    if not record_id:
        raise SalesforceApiError(400, MISSING_ARGUMENT, "Id not specified in an update call", [])
    return str(record_id)


def _given_id(record: dict[str, Any]) -> str | None:
    value = next((v for k, v in record.items() if k.lower() == "id"), None)
    return str(value) if value else None


def _apply(
    call: RestCall,
    items: list[dict[str, Any]],
    operation: Operation,
    *,
    failed_id: Callable[[dict[str, Any]], str | None],
) -> RestReply:
    """Run ``operation`` per item; with allOrNone, all or nothing (§1.6)."""

    def attempt(item: dict[str, Any]) -> dict[str, Any]:
        original_id = failed_id(item)
        try:
            return operation(dict(item))
        except SalesforceApiError as error:
            return {"id": original_id, "success": False, "errors": [error.collection_error()]}

    if not _all_or_none(call):
        return RestReply(200, [attempt(item) for item in items])
    results: list[dict[str, Any]] = []
    try:
        with call.state.store.transaction():
            results = [attempt(item) for item in items]
            if not all(result["success"] for result in results):
                raise _RollBack
    except _RollBack:
        return RestReply(200, [_rolled_back(result) for result in results])
    return RestReply(200, results)


def _rolled_back(result: dict[str, Any]) -> dict[str, Any]:
    if not result["success"]:
        return result
    error = {"statusCode": ALL_OR_NONE_OPERATION_ROLLED_BACK, "message": ROLLED_BACK_MESSAGE}
    return {"id": None, "success": False, "errors": [{**error, "fields": []}]}
