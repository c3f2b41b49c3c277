"""``SalesforceClient``: queries, sObject CRUD, Composite and Collections over the REST API.

Async on ``httpx.AsyncClient`` because the durable workflows run on one event loop; use one client
per event loop (an httpx pool belongs to its loop). Several clients may share one
``SalesforceAuth`` (one token fetch at a time) and one ``ApiUsage``.

Every URL is ``<instance_url>/services/data/v<api_version>/…`` (contracts/salesforce.md §1.1),
where ``instance_url`` is the setting if given, else what the token endpoint returned (§2). SOQL is
accepted only as a ``soql.Soql`` built by ``soql.soql()``. Retries live in ``dispatch``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.auth import SalesforceAuth
from dealbridge.connectors.salesforce.dispatch import (
    Call,
    SalesforceDispatcher,
    Sleep,
)
from dealbridge.connectors.salesforce.errors import json_body, shape_error
from dealbridge.connectors.salesforce.limits import ApiUsage, WorkKind
from dealbridge.connectors.salesforce.results import (
    QueryResult,
    Record,
    SaveResult,
    SubRequest,
    SubResponse,
    UpsertResult,
    check_records,
    collection_check,
    composite_body,
    composite_check,
    is_child_result,
    locator_path,
    parse_composite,
    parse_query,
    parse_save_results,
    parse_upsert,
    sobject_name,
)
from dealbridge.connectors.salesforce.soql import Soql, require_soql
from dealbridge.core.calls import CallObserver, log_call
from dealbridge.core.http_transport import AiohttpTransport, CookielessClient
from dealbridge.errors import ConfigError, NotFoundError, ValidationError
from dealbridge.settings import SalesforceSettings

_HEADERS = {"Accept": "application/json", "User-Agent": "dealbridge"}


class SalesforceClient:
    """The REST API of one org.

    Args:
        settings: Org, auth, timeouts, retries and the API usage guard.
        transport: An httpx transport for REST calls (tests use ``httpx.MockTransport``).
        token_transport: One for the token endpoint; defaults to ``transport``.
        on_call: Receives one redacted ``CallRecord`` per HTTP attempt; logs by default.
        sleep: Awaited between retries; injectable so tests never wait.
        auth: A shared ``SalesforceAuth``; by default one of this client's own.
        usage: A shared ``ApiUsage``; by default one of this client's own.
        record_bodies: Whether call records carry redacted request and response bodies.
    """

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        token_transport: httpx.AsyncBaseTransport | None = None,
        on_call: CallObserver | None = None,
        sleep: Sleep = asyncio.sleep,
        auth: SalesforceAuth | None = None,
        usage: ApiUsage | None = None,
        record_bodies: bool = True,
    ) -> None:
        self.settings = settings
        self.base_path = f"{models.DATA_PATH}/v{settings.api_version}"
        observer = on_call or log_call
        self.auth = auth or SalesforceAuth(settings, on_call=observer)
        self._usage = usage or ApiUsage(guard_ratio=settings.api_usage_guard_ratio)
        verify = _tls(settings)
        options: dict[str, Any] = {"verify": verify, "timeout": settings.timeout_seconds}
        wire = transport or AiohttpTransport(verify=verify)
        self._http = CookielessClient(transport=wire, headers=_HEADERS, **options)
        self._token_http = CookielessClient(
            transport=token_transport or transport or AiohttpTransport(verify=verify), **options
        )
        self._dispatcher = SalesforceDispatcher(
            http=self._http,
            token_http=self._token_http,
            auth=self.auth,
            usage=self._usage,
            settings=settings,
            on_call=observer,
            sleep=sleep,
            record_bodies=record_bodies,
        )

    async def __aenter__(self) -> SalesforceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._http.aclose()
        await self._token_http.aclose()

    @property
    def limits_usage(self) -> ApiUsage:
        """Daily API usage as of the latest response (§1.7), and the guard."""
        return self._usage

    def guard(self, kind: WorkKind) -> None:
        """Stop non-urgent work above the usage guard (``limits.ApiUsage.guard``)."""
        self._usage.guard(kind)

    # -- queries (§1.2, §1.3) -----------------------------------------------------------------

    async def query(
        self, q: Soql, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> QueryResult:
        """The first page of a query (``queryAll`` with ``include_deleted``)."""
        resource = "queryAll" if include_deleted else "query"
        call = Call(
            "GET",
            f"{self.base_path}/{resource}",
            f"GET {resource}",
            params={"q": require_soql(q)},
            headers=query_options(batch_size),
        )
        return parse_query(json_body(await self._send(call), call.operation), call.operation)

    async def query_more(
        self, next_records_url: str, *, batch_size: int | None = None
    ) -> QueryResult:
        """The page behind a ``nextRecordsUrl``: a plain GET on the instance host (§1.2)."""
        operation = "GET query locator"
        call = Call(
            "GET",
            locator_path(next_records_url, operation),
            operation,
            headers=query_options(batch_size),
        )
        return parse_query(json_body(await self._send(call), operation), operation)

    async def iter_query(
        self, q: Soql, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> AsyncIterator[Record]:
        """Every record of a query, page by page, each with its child results complete."""
        page = await self.query(q, include_deleted=include_deleted, batch_size=batch_size)
        while True:
            await self._complete_children(page.records, batch_size)
            for record in page.records:
                yield record
            if page.next_records_url is None:
                return
            page = await self.query_more(page.next_records_url, batch_size=batch_size)

    async def query_all(
        self, q: Soql, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> list[Record]:
        """Every record of a query as a list (see ``iter_query``)."""
        iterator = self.iter_query(q, include_deleted=include_deleted, batch_size=batch_size)
        return [record async for record in iterator]

    async def _complete_children(self, records: list[Record], batch_size: int | None) -> None:
        """Follow every nested child result's own ``nextRecordsUrl`` (§1.3).

        The fetched rows are appended to the parent's child list, which is then marked
        ``done``, so a caller sees every child without knowing about child paging.
        """
        for record in records:
            for value in record.values():
                if is_child_result(value):
                    await self._complete_child(value, batch_size)

    async def _complete_child(self, result: dict[str, Any], batch_size: int | None) -> None:
        url = None if result.get("done", True) else result.get("nextRecordsUrl")
        while url:
            page = await self.query_more(str(url), batch_size=batch_size)
            result["records"].extend(page.records)
            url = page.next_records_url
        result["done"] = True
        result.pop("nextRecordsUrl", None)
        await self._complete_children(result["records"], batch_size)

    # -- sObject rows (§1.5) ------------------------------------------------------------------

    async def get(
        self, sobject: str, record_id: str, fields: Sequence[str] | None = None
    ) -> Record:
        """One record by id, optionally only ``fields``; a deleted one is ``NotFoundError``."""
        path = self._row_path(sobject, record_id)
        params = {"fields": ",".join(sobject_name(f, "field") for f in fields)} if fields else None
        call = Call("GET", path, f"GET sobjects/{sobject}/{record_id}", params=params)
        return _object(json_body(await self._send(call), call.operation), call.operation)

    async def create(self, sobject: str, body: dict[str, Any]) -> str:
        """POST a new record (201); returns its id. Not idempotent, so not retried once sent."""
        path = f"{self.base_path}/sobjects/{sobject_name(sobject, 'sObject')}/"
        call = Call("POST", path, f"POST sobjects/{sobject}", json=body, idempotent=False)
        data = _object(json_body(await self._send(call), call.operation), call.operation)
        if not data.get("id"):
            raise shape_error(call.operation, f"Salesforce answered {call.operation} without id")
        return str(data["id"])

    async def update(self, sobject: str, record_id: str, body: dict[str, Any]) -> None:
        """PATCH the given fields of a record (204)."""
        path = self._row_path(sobject, record_id)
        await self._send(Call("PATCH", path, f"PATCH sobjects/{sobject}/{record_id}", json=body))

    async def upsert(
        self, sobject: str, ext_field: str, value: str, body: dict[str, Any]
    ) -> UpsertResult:
        """PATCH by external id: 201 created, 200 updated, 204 (old versions), 300 ambiguous.

        Raises:
            DuplicateError: Code ``MULTIPLE_CHOICES``: several records hold ``value`` (§1.5).
        """
        if not value:
            raise ConfigError(f"an upsert on {sobject}.{ext_field} needs a value")
        names = f"{sobject_name(sobject, 'sObject')}/{sobject_name(ext_field, 'field')}"
        path = f"{self.base_path}/sobjects/{names}/{quote(value, safe='')}"
        call = Call("PATCH", path, f"PATCH sobjects/{sobject}/{ext_field}/{value}", json=body)
        response = await self._send(call)
        data = json_body(response, call.operation) if response.content else None
        return parse_upsert(response.status_code, data)

    async def delete(self, sobject: str, record_id: str, *, missing_ok: bool = False) -> None:
        """DELETE a record (204); ``missing_ok`` makes a re-run after a lost answer a no-op."""
        path = self._row_path(sobject, record_id)
        try:
            await self._send(Call("DELETE", path, f"DELETE sobjects/{sobject}/{record_id}"))
        except NotFoundError:
            if not missing_ok:
                raise

    # -- Composite and Collections (§1.6) -----------------------------------------------------

    async def composite(
        self,
        subrequests: Iterable[SubRequest],
        *,
        all_or_none: bool = True,
        collate: bool = False,
    ) -> list[SubResponse]:
        """Up to 25 subrequests in one API call; results in order.

        With ``all_or_none`` a failed subrequest raises the error of the first *real* failure
        (not the ``PROCESSING_HALTED`` siblings); without it, inspect each ``SubResponse``.

        Raises:
            ConfigError: More than 25 subrequests, none, or a bad ``referenceId`` (not sent).
        """
        subs = list(subrequests)
        body = composite_body(subs, self.base_path, all_or_none=all_or_none, collate=collate)
        operation = "POST composite"
        call = Call(
            "POST",
            f"{self.base_path}/composite",
            operation,
            json=body,
            idempotent=all(sub.method.upper() != "POST" for sub in subs),
            check=composite_check(operation, len(subs)) if all_or_none else None,
        )
        response = await self._send(call)
        return parse_composite(json_body(response, operation), operation, len(subs))

    async def collection_create(
        self, records: Sequence[Record], *, all_or_none: bool = False
    ) -> list[SaveResult]:
        """Create records (each with ``attributes.type``, no ``Id``), 200 per call."""
        check_records(records, with_id=False)
        path = f"{self.base_path}/composite/sobjects"
        return await self._collection("POST", path, records, all_or_none, idempotent=False)

    async def collection_update(
        self, records: Sequence[Record], *, all_or_none: bool = False
    ) -> list[SaveResult]:
        """Update records by ``Id`` (each with ``attributes.type``), 200 per call."""
        check_records(records, with_id=True)
        path = f"{self.base_path}/composite/sobjects"
        return await self._collection("PATCH", path, records, all_or_none, idempotent=True)

    async def collection_upsert(
        self,
        sobject: str,
        ext_field: str,
        records: Sequence[Record],
        *,
        all_or_none: bool = False,
    ) -> list[SaveResult]:
        """Upsert records of one type by an external id field (v46+), 200 per call."""
        names = f"{sobject_name(sobject, 'sObject')}/{sobject_name(ext_field, 'field')}"
        typed = []
        for record in records:
            if not record.get(ext_field):
                raise ConfigError(f"every record to upsert needs {ext_field}")
            typed.append({"attributes": {"type": sobject}, **record})
        path = f"{self.base_path}/composite/sobjects/{names}"
        return await self._collection("PATCH", path, typed, all_or_none, idempotent=True)

    async def _collection(
        self,
        method: str,
        path: str,
        records: Sequence[Record],
        all_or_none: bool,
        *,
        idempotent: bool,
    ) -> list[SaveResult]:
        """One call per 200 records (§1.6); ``all_or_none`` holds within each call only."""
        operation = f"{method} {path.removeprefix(self.base_path + '/')}"
        results: list[SaveResult] = []
        for start in range(0, len(records), models.COLLECTION_MAX):
            chunk = list(records[start : start + models.COLLECTION_MAX])
            call = Call(
                method,
                path,
                operation,
                json={"allOrNone": all_or_none, "records": chunk},
                idempotent=idempotent,
                check=collection_check(operation, len(chunk)) if all_or_none else None,
            )
            data = json_body(await self._send(call), operation)
            results.extend(parse_save_results(data, operation, len(chunk)))
        return results

    # -- plumbing -----------------------------------------------------------------------------

    def _row_path(self, sobject: str, record_id: str) -> str:
        if not models.is_salesforce_id(record_id):
            raise ValidationError(
                f"{record_id!r} is not a Salesforce id",
                record=sobject,
                field_path="Id",
                rule="salesforce_id",
            )
        return f"{self.base_path}/sobjects/{sobject_name(sobject, 'sObject')}/{record_id}"

    async def _send(self, call: Call) -> httpx.Response:
        return await self._dispatcher.send(call)


def query_options(batch_size: int | None) -> dict[str, str] | None:
    """``Sforce-Query-Options: batchSize=N`` (§1.2: 200 to 2000, a hint)."""
    if batch_size is None:
        return None
    if not models.QUERY_BATCH_MIN <= batch_size <= models.QUERY_BATCH_MAX:
        raise ConfigError(
            f"batch_size must be {models.QUERY_BATCH_MIN} to {models.QUERY_BATCH_MAX}, "
            f"not {batch_size}"
        )
    return {models.QUERY_OPTIONS_HEADER: f"batchSize={batch_size}"}


def _object(data: Any, operation: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise shape_error(operation, f"Salesforce answered {operation} without a JSON object")
    return data


def _tls(settings: SalesforceSettings) -> ssl.SSLContext | bool:
    """The default trust store of httpx plus ``ca_bundle`` (the emulator's CA, a proxy's)."""
    if not settings.ca_bundle:
        return True
    context = httpx.create_ssl_context(verify=True)
    try:
        context.load_verify_locations(cafile=settings.ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load salesforce.ca_bundle {settings.ca_bundle}: {exc}") from exc
    return context
