"""``record/v1``: create, read, update, upsert, delete and list records (contracts §2).

Handlers only translate HTTP to :class:`~.state.RecordBackend` calls; the record rules live in
the record service. The service is synchronous SQLite and is called on the event-loop thread on
purpose: calls are short, and one thread means no locking and no cross-thread connections.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from dealbridge.connectors.netsuite.emulator.paging import PageRequest, page_body, page_url
from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.state import EmulatorState, state_of
from dealbridge.connectors.netsuite.emulator.wire import (
    COLLECTION,
    base_url,
    flag,
    located,
    name_list,
    read_json,
    record_url,
    resource_response,
    strict_fields,
)
from dealbridge.connectors.netsuite.models import RECORD_PATH

router = APIRouter(prefix=RECORD_PATH)
State = Annotated[EmulatorState, Depends(state_of)]
EID_PREFIX = "eid:"
# What NetSuite answers to PUT with an internal id is UNCONFIRMED: §2 says upsert works "only
# with eid: in the URL". The method is the fault, so 405, with a code of our own.
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


@router.post("/{record_type}", status_code=204)
async def create_record(record_type: str, request: Request, state: State) -> Response:
    """``POST record/v1/<type>`` → 204 + ``Location`` (§2)."""
    body = await read_json(request)
    record_id = state.records.create(
        record_type, body, strict_fields=strict_fields(request), replace=_replace(request)
    )
    return located(request, record_type, record_id)


@router.put("/{record_type}/{ref}", status_code=204)
async def upsert_record(record_type: str, ref: str, request: Request, state: State) -> Response:
    """``PUT record/v1/<type>/eid:<extId>``: create or update by external id (§2, §9)."""
    if not ref.startswith(EID_PREFIX):
        raise NetSuiteProblem(
            405,
            METHOD_NOT_ALLOWED,
            "PUT is supported only with an external id in the URL: "
            f"{RECORD_PATH}/{record_type}/eid:<externalId>.",
            headers={"Allow": "GET, PATCH, DELETE"},
        )
    body = await read_json(request)
    record_id = state.records.upsert(
        record_type,
        ref[len(EID_PREFIX) :],
        body,
        strict_fields=strict_fields(request),
        replace=_replace(request),
    )
    return located(request, record_type, record_id)


@router.patch("/{record_type}/{ref}", status_code=204)
async def update_record(record_type: str, ref: str, request: Request, state: State) -> Response:
    """``PATCH record/v1/<type>/<id|eid:X>``: omitted fields unchanged (§2)."""
    body = await read_json(request)
    record_id = state.records.update(
        record_type,
        ref,
        body,
        strict_fields=strict_fields(request),
        replace=_replace(request),
        replace_selected_fields=flag(request, "replaceSelectedFields"),
    )
    return located(request, record_type, record_id)


@router.get("/{record_type}/{ref}")
async def read_record(record_type: str, ref: str, request: Request, state: State) -> JSONResponse:
    """``GET record/v1/<type>/<ref>`` with ``expandSubResources`` and ``fields`` (§2)."""
    fields = name_list(request, "fields") or None
    record = state.records.get(
        record_type,
        ref,
        base_url=base_url(request),
        expand_sub_resources=flag(request, "expandSubResources"),
        fields=fields,
    )
    return resource_response(record)


@router.get("/{record_type}/{ref}/{sublist}")
async def read_sublist(
    record_type: str, ref: str, sublist: str, request: Request, state: State
) -> JSONResponse:
    """``GET record/v1/<type>/<ref>/<sublist>``: the link a read gives for a sublist (§2)."""
    lines = state.records.get_sublist(record_type, ref, sublist, base_url=base_url(request))
    return resource_response(lines, COLLECTION)


@router.delete("/{record_type}/{ref}", status_code=204)
async def delete_record(record_type: str, ref: str, state: State) -> Response:
    """``DELETE record/v1/<type>/<ref>`` → 204 (§2)."""
    state.records.delete(record_type, ref)
    return Response(status_code=204)


@router.get("/{record_type}")
async def list_records(record_type: str, request: Request, state: State) -> JSONResponse:
    """``GET record/v1/<type>?q=&limit=&offset=``: ids and links only (§2.3)."""
    params = request.query_params
    page = PageRequest.parse(params.get("limit"), params.get("offset"))
    ids, total = state.records.list_ids(
        record_type, q=params.get("q") or None, limit=page.limit, offset=page.offset
    )
    items = [
        {
            "links": [{"rel": "self", "href": record_url(request, record_type, record_id)}],
            "id": record_id,
        }
        for record_id in ids
    ]
    collection_url = f"{base_url(request)}{RECORD_PATH}/{record_type}"
    body = page_body(
        page, total, items, lambda offset: page_url(collection_url, params, page, offset)
    )
    return resource_response(body, COLLECTION)


def _replace(request: Request) -> frozenset[str]:
    """``?replace=item,member``: the sublists (and fields) to replace, not merge (§2.2)."""
    return frozenset(name_list(request, "replace"))
