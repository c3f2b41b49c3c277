"""The shapes of Salesforce's answers: query pages, upserts, composite and collection results.

Parsed strictly enough that a wrong shape is an ``UnexpectedResponseError`` naming the operation,
and loosely enough that extra keys from a newer API version do no harm.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.errors import (
    ErrorItem,
    error_from_items,
    json_body,
    parse_errors,
    shape_error,
)
from dealbridge.connectors.salesforce.soql import Soql, require_soql
from dealbridge.errors import ConfigError, ConnectorError

Record = dict[str, Any]
ResponseCheck = Callable[[httpx.Response], ConnectorError | None]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_]{1,80}$")
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class QueryResult:
    """One page of a query (§1.2): records, and the locator of the next page if any."""

    total_size: int
    done: bool
    records: list[Record]
    next_records_url: str | None = None


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert by external id did (§1.5); ``id`` is None on a pre-v46 204."""

    id: str | None
    created: bool


@dataclass(frozen=True)
class SubRequest:
    """One subrequest of ``/composite`` (§1.6).

    ``url`` may be relative to the versioned base (``sobjects/Account/001…``) or absolute
    (``/services/data/v65.0/…``); ``@{ref.field}`` references pass through untouched.
    """

    method: str
    url: str
    reference_id: str
    body: Any = None

    @classmethod
    def query(cls, reference_id: str, q: Soql) -> SubRequest:
        """A query subrequest; later ones refer to it as ``@{ref.records[0].Id}`` (§1.6)."""
        return cls("GET", f"query?{urlencode({'q': require_soql(q)})}", reference_id)


@dataclass(frozen=True)
class SubResponse:
    """One subrequest's result: ``httpStatusCode``, ``body``, ``httpHeaders``, ``referenceId``."""

    reference_id: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the subrequest succeeded."""
        return 200 <= self.status < 300

    @property
    def errors(self) -> list[ErrorItem]:
        """The error array of a failed subrequest (empty when it succeeded)."""
        return [] if self.ok else parse_errors(self.body)

    @property
    def rolled_back(self) -> bool:
        """Whether it failed only because a sibling did (``PROCESSING_HALTED``)."""
        codes = {item.code for item in self.errors}
        return bool(codes) and codes <= {models.PROCESSING_HALTED}


@dataclass(frozen=True)
class SaveResult:
    """One record's result in an sObject Collections call (§1.6): errors carry ``statusCode``."""

    id: str | None
    success: bool
    errors: tuple[ErrorItem, ...] = ()
    created: bool | None = None


def parse_query(data: Any, operation: str) -> QueryResult:
    """``{"totalSize", "done", "records", "nextRecordsUrl"?}`` (§1.2)."""
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise shape_error(operation, f"Salesforce answered {operation} without a records list")
    next_url = data.get("nextRecordsUrl")
    done = bool(data.get("done", True))
    return QueryResult(
        total_size=int(data.get("totalSize") or 0),
        done=done,
        records=list(data["records"]),
        next_records_url=str(next_url) if next_url and not done else None,
    )


def is_child_result(value: Any) -> bool:
    """Whether a record's value is a nested child-relationship result (§1.3)."""
    return isinstance(value, dict) and isinstance(value.get("records"), list) and "done" in value


def locator_path(url: str, operation: str) -> str:
    """A ``nextRecordsUrl``, checked to be a path on the instance host (fetched by plain GET)."""
    if not url.startswith(models.DATA_PATH + "/") or "://" in url or ".." in url:
        raise shape_error(operation, f"Salesforce sent an unexpected nextRecordsUrl: {url!r}")
    return url


def parse_upsert(status: int, data: Any) -> UpsertResult:
    """201 ``created:true``, 200 ``created:false`` or a pre-v46 204 without a body (§1.5)."""
    if status == 204 or not isinstance(data, dict):
        return UpsertResult(id=None, created=False)
    created = data.get("created")
    return UpsertResult(
        id=str(data["id"]) if data.get("id") else None,
        created=bool(created) if created is not None else status == 201,
    )


def composite_url(url: str, base_path: str) -> str:
    """A subrequest URL as an absolute path with the version (§1.6)."""
    if url.startswith(models.DATA_PATH + "/"):
        return url
    if re.match(r"^/?v\d+\.\d/", url):
        return f"{models.DATA_PATH}/{url.lstrip('/')}"
    return f"{base_path}/{url.lstrip('/')}"


def composite_body(
    subrequests: list[SubRequest], base_path: str, *, all_or_none: bool, collate: bool
) -> dict[str, Any]:
    """The ``/composite`` request, checked before anything is sent."""
    if not 1 <= len(subrequests) <= models.COMPOSITE_MAX:
        raise ConfigError(
            f"a composite request takes 1 to {models.COMPOSITE_MAX} subrequests, "
            f"not {len(subrequests)}"
        )
    _check_references(subrequests)
    items = []
    for sub in subrequests:
        item: dict[str, Any] = {
            "method": sub.method.upper(),
            "url": composite_url(sub.url, base_path),
            "referenceId": sub.reference_id,
        }
        if sub.body is not None:
            item["body"] = sub.body
        items.append(item)
    return {"allOrNone": all_or_none, "collateSubrequests": collate, "compositeRequest": items}


def _check_references(subrequests: list[SubRequest]) -> None:
    seen: set[str] = set()
    for sub in subrequests:
        if sub.method.upper() not in _METHODS:
            raise ConfigError(f"composite subrequest method {sub.method!r} is not allowed")
        if not _REFERENCE_ID.match(sub.reference_id) or sub.reference_id in seen:
            raise ConfigError(
                f"composite referenceId {sub.reference_id!r} must be unique, letters, digits, _"
            )
        seen.add(sub.reference_id)


def parse_composite(data: Any, operation: str, expected: int) -> list[SubResponse]:
    """``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode", "referenceId"}]}``."""
    items = data.get("compositeResponse") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != expected:
        raise shape_error(operation, f"Salesforce answered {operation} without the results")
    try:
        return [
            SubResponse(
                reference_id=str(item.get("referenceId", "")),
                status=int(item["httpStatusCode"]),
                body=item.get("body"),
                headers=dict(item.get("httpHeaders") or {}),
            )
            for item in items
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise shape_error(operation, f"Salesforce answered {operation} oddly") from None


def composite_failure(results: list[SubResponse], operation: str) -> ConnectorError | None:
    """The error naming the first real failure of an all-or-none composite, if one failed."""
    failed = [sub for sub in results if not sub.ok]
    if not failed:
        return None
    culprit = next((sub for sub in failed if not sub.rolled_back), failed[0])
    return error_from_items(
        culprit.status,
        culprit.errors,
        f"{operation} {culprit.reference_id}",
        context={"reference_id": culprit.reference_id, "failed": len(failed)},
    )


def parse_save_results(data: Any, operation: str, expected: int) -> list[SaveResult]:
    """The in-order result array of a Collections call (§1.6)."""
    if not isinstance(data, list) or len(data) != expected:
        raise shape_error(operation, f"Salesforce answered {operation} without one result each")
    results = []
    for item in data:
        if not isinstance(item, dict):
            raise shape_error(operation, f"Salesforce answered {operation} oddly")
        created = item.get("created")
        results.append(
            SaveResult(
                id=str(item["id"]) if item.get("id") else None,
                success=bool(item.get("success")),
                errors=tuple(parse_errors(item.get("errors") or [])),
                created=bool(created) if created is not None else None,
            )
        )
    return results


def collection_failure(results: list[SaveResult], operation: str) -> ConnectorError | None:
    """The error naming the first real failure of an all-or-none collection, if one failed."""
    failed = [(index, result) for index, result in enumerate(results) if not result.success]
    if not failed:
        return None
    rolled = {models.ALL_OR_NONE_OPERATION_ROLLED_BACK, models.PROCESSING_HALTED}
    real = [pair for pair in failed if any(e.code not in rolled for e in pair[1].errors)]
    index, culprit = (real or failed)[0]
    return error_from_items(
        None,
        list(culprit.errors),
        f"{operation} record {index}",
        context={"index": index, "id": culprit.id, "failed": len(failed)},
    )


def sobject_name(value: str, what: str) -> str:
    """An sObject or field name: nothing that could leave its place in a URL."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise ConfigError(f"not a Salesforce {what} name: {value!r}")
    return value


def record_type(record: Record) -> str:
    """A Collections record's ``attributes.type``, which every call needs (§1.6)."""
    attributes = record.get("attributes")
    kind = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(kind, str):
        raise ConfigError("every Collections record needs attributes.type (§1.6)")
    return sobject_name(kind, "sObject")


def composite_check(operation: str, expected: int) -> ResponseCheck:
    """All-or-none composite: a 200 whose subrequests failed is the first real failure."""

    def check(response: httpx.Response) -> ConnectorError | None:
        try:
            results = parse_composite(json_body(response, operation), operation, expected)
        except ConnectorError as error:
            return error
        return composite_failure(results, operation)

    return check


def collection_check(operation: str, expected: int) -> ResponseCheck:
    """All-or-none collection: a 200 with failed records is the first real failure."""

    def check(response: httpx.Response) -> ConnectorError | None:
        try:
            results = parse_save_results(json_body(response, operation), operation, expected)
        except ConnectorError as error:
            return error
        return collection_failure(results, operation)

    return check


def check_records(records: Sequence[Record], *, with_id: bool) -> None:
    """Collections create needs ``attributes.type`` and no ``Id``; update needs both (§1.6)."""
    for record in records:
        record_type(record)
        if with_id and not record.get("Id"):
            raise ConfigError("records to update need an Id (§1.6)")
        if not with_id and "Id" in record:
            raise ConfigError("records to create must not carry an Id (§1.6)")
