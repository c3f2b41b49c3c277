"""sObject resources: describe, rows by Id or external id, create, update, upsert, delete (§1.5).

Status codes as contracts §1.5 lists them: create 201, update 204, delete 204, upsert 201
(``created: true``) or 200 (``created: false``) — 204 before v46, when ``created`` did not
exist — and 300 with the matching records' URLs when an external id is ambiguous.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from dealbridge.connectors.salesforce.emulator.dispatch import RestCall, RestReply, router
from dealbridge.connectors.salesforce.emulator.field_values import format_datetime, parse_datetime
from dealbridge.connectors.salesforce.emulator.records import (
    MultipleMatchesError,
    external_id_field,
    sobject_def,
)
from dealbridge.connectors.salesforce.emulator.schema import all_sobjects, describe, object_urls
from dealbridge.connectors.salesforce.emulator.schema_types import SObjectDef
from dealbridge.connectors.salesforce.emulator.wire import (
    JSON_PARSER_ERROR,
    SalesforceApiError,
    bad_input,
    not_found,
    version_number,
)
from dealbridge.connectors.salesforce.models import COLLECTION_MAX, INVALID_FIELD

_T = r"/sobjects/(?P<sobject>[A-Za-z][A-Za-z0-9_]*)"
_CREATED_FLAG_SINCE = 46  # §1.5: upsert bodies carry ``created`` from v46.0


def object_body(call: RestCall) -> dict[str, Any]:
    """The JSON body, which must be one object (a record)."""
    body = call.json()
    if not isinstance(body, dict):
        raise bad_input(
            "Cannot deserialize instance of sobject from START_ARRAY or request may be missing "
            "a required field",
            JSON_PARSER_ERROR,
        )
    return body


def saved(record_id: str, **extra: Any) -> dict[str, Any]:
    """The SaveResult of a create or upsert: ``{"id","success","errors"}`` (§1.5)."""
    return {"id": record_id, "success": True, "errors": [], **extra}


@router.route("GET", r"/sobjects/?")
def describe_global(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET sobjects``: describeGlobal, one entry per sObject."""
    entries = [_global_entry(defn, call.api_version) for defn in all_sobjects()]
    return RestReply(
        200, {"encoding": "UTF-8", "maxBatchSize": COLLECTION_MAX, "sobjects": entries}
    )


def _global_entry(defn: SObjectDef, api_version: str) -> dict[str, Any]:
    return {
        "name": defn.name,
        "label": defn.label,
        "labelPlural": defn.label_plural,
        "keyPrefix": defn.key_prefix,
        "custom": defn.custom,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "urls": object_urls(defn.name, api_version),
    }


@router.route("GET", _T + "/?")
def object_info(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET sobjects/T``: basic information (no recent items are tracked)."""
    defn = sobject_def(match.group("sobject"))
    return RestReply(
        200, {"objectDescribe": _global_entry(defn, call.api_version), "recentItems": []}
    )


@router.route("GET", _T + "/describe/?")
def describe_object(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET sobjects/T/describe``."""
    return RestReply(200, describe(sobject_def(match.group("sobject")), call.api_version))


@router.route("POST", _T + "/?")
def create_record(call: RestCall, match: re.Match[str]) -> RestReply:
    """``POST sobjects/T/``: 201 with the new Id (§1.5)."""
    defn = sobject_def(match.group("sobject"))
    record_id = call.state.records.create(defn.name, object_body(call))
    location = call.url(f"/sobjects/{defn.name}/{record_id}")
    return RestReply(201, saved(record_id), {"Location": location})


@router.route("GET", _T + r"/(?P<kind>updated|deleted)/?")
def changed_ids(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET sobjects/T/updated/?start=&end=`` (and ``deleted``): a polling aid (§1.5)."""
    defn = sobject_def(match.group("sobject"))
    start, end = _window(call)
    covered = format_datetime(min(end, datetime.now(UTC)))
    deleted = match.group("kind") == "deleted"
    rows = [
        row
        for row in call.state.store.records(defn.name, include_deleted=deleted)
        if bool(row.get("IsDeleted")) == deleted
        and start <= parse_datetime(None, row["SystemModstamp"]) < end
    ]
    if not deleted:
        return RestReply(200, {"ids": [row["Id"] for row in rows], "latestDateCovered": covered})
    return RestReply(
        200,
        {
            "deletedRecords": [
                {"id": row["Id"], "deletedDate": row["SystemModstamp"]} for row in rows
            ],
            "earliestDateAvailable": format_datetime(start),
            "latestDateCovered": covered,
        },
    )


def _window(call: RestCall) -> tuple[datetime, datetime]:
    try:
        return (
            parse_datetime(None, call.params.get("start", "")),
            parse_datetime(None, call.params.get("end", "")),
        )
    except SalesforceApiError:
        raise bad_input("start and end must be ISO 8601 dateTimes.") from None


@router.route("GET", _T + r"/(?P<id>[^/]+)")
def read_record(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET sobjects/T/{id}[?fields=a,b]``: 200, 404 ``NOT_FOUND`` or ``ENTITY_IS_DELETED``."""
    defn = sobject_def(match.group("sobject"))
    record = call.state.records.live(defn, match.group("id"))
    return RestReply(200, _render(call, defn, record))


def _render(call: RestCall, defn: SObjectDef, record: dict[str, Any]) -> dict[str, Any]:
    names = [name.strip() for name in call.params.get("fields", "").split(",") if name.strip()]
    return call.state.records.render(defn, record, call.api_version, names or None)


@router.route("PATCH", _T + r"/(?P<id>[^/]+)")
def update_record(call: RestCall, match: re.Match[str]) -> RestReply:
    """``PATCH sobjects/T/{id}``: 204 (§1.5)."""
    call.state.records.update(match.group("sobject"), match.group("id"), object_body(call))
    return RestReply(204)


@router.route("DELETE", _T + r"/(?P<id>[^/]+)")
def delete_record(call: RestCall, match: re.Match[str]) -> RestReply:
    """``DELETE sobjects/T/{id}``: 204; the record stays for ``queryAll`` (§1.2)."""
    call.state.records.delete(match.group("sobject"), match.group("id"))
    return RestReply(204)


@router.route("GET", _T + r"/(?P<field>[^/]+)/(?P<value>[^/]+)")
def read_by_external_id(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET sobjects/T/{ExtField}/{value}``: the one record with that external id."""
    defn = sobject_def(match.group("sobject"))
    matches = call.state.records.by_external_id(defn, match.group("field"), match.group("value"))
    if len(matches) > 1:
        return _multiple(call, MultipleMatchesError(defn.name, [m["Id"] for m in matches]))
    if not matches:
        raise not_found()
    return RestReply(200, _render(call, defn, matches[0]))


@router.route("PATCH", _T + r"/(?P<field>[^/]+)/(?P<value>[^/]+)")
def upsert_record(call: RestCall, match: re.Match[str]) -> RestReply:
    """``PATCH sobjects/T/{ExtField}/{value}``: create (201) or update (200) (§1.5)."""
    defn = sobject_def(match.group("sobject"))
    field = external_id_field(defn, match.group("field"))
    body = object_body(call)
    if any(defn.field(name) is field for name in body):
        # §1.5 [R12]: "Do not specify Id or an external ID field in the request body or an
        # error is generated"; the code and wording of that error are UNCONFIRMED.
        raise SalesforceApiError(
            400,
            INVALID_FIELD,
            f"The external ID field {field.name} is specified in the URL; do not specify it in "
            "the request body.",
            [field.name],
        )
    update_only = call.params.get("updateOnly", "").lower() == "true"
    try:
        outcome = call.state.records.upsert(
            defn.name, field.name, match.group("value"), body, update_only=update_only
        )
    except MultipleMatchesError as many:
        return _multiple(call, many)
    modern = version_number(call.api_version) >= _CREATED_FLAG_SINCE
    if outcome.created:
        location = {"Location": call.url(f"/sobjects/{defn.name}/{outcome.id}")}
        extra = {"created": True} if modern else {}
        return RestReply(201, saved(outcome.id, **extra), location)
    return RestReply(200, saved(outcome.id, created=False)) if modern else RestReply(204)


@router.route("DELETE", _T + r"/(?P<field>[^/]+)/(?P<value>[^/]+)")
def delete_by_external_id(call: RestCall, match: re.Match[str]) -> RestReply:
    """``DELETE sobjects/T/{ExtField}/{value}``."""
    defn = sobject_def(match.group("sobject"))
    matches = call.state.records.by_external_id(defn, match.group("field"), match.group("value"))
    if len(matches) > 1:
        return _multiple(call, MultipleMatchesError(defn.name, [m["Id"] for m in matches]))
    if not matches:
        raise not_found()
    call.state.records.delete(defn.name, str(matches[0]["Id"]))
    return RestReply(204)


def _multiple(call: RestCall, many: MultipleMatchesError) -> RestReply:
    """300 Multiple Choices: a JSON list of the matching records' URLs (§1.5, §1.8)."""
    return RestReply(300, [call.url(f"/sobjects/{many.sobject}/{rid}") for rid in many.ids])
