"""``NetSuiteClient``: records, collections, SuiteQL and governance over SuiteTalk REST.

Async-first on ``httpx.AsyncClient`` because the durable workflows run on one event loop. Use one
client per event loop (httpx connection pools belong to a loop); every client of an account in the
process shares one ``AdaptiveConcurrencyLimiter`` unless given its own.

Writes should be upserts (``PUT record/v1/<type>/eid:<id>``): they are safe to retry, so the client
retries them on timeouts and 5xx. A POST create is not retried once it may have reached NetSuite
(contracts/netsuite.md §9: POST + ``externalId`` is not idempotent); see ``dispatch``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import structlog
from pydantic import ValidationError as PydanticValidationError

from dealbridge.connectors.netsuite import models
from dealbridge.connectors.netsuite.auth import build_auth
from dealbridge.connectors.netsuite.dispatch import Call, NetSuiteDispatcher, Sleep
from dealbridge.connectors.netsuite.errors import SYSTEM, json_body, request_id_of
from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter, shared_limiter
from dealbridge.connectors.netsuite.suiteql import Row, check_page_size, iter_by_key, iter_rows
from dealbridge.core.calls import CallObserver, log_call
from dealbridge.core.http_transport import AiohttpTransport, CookielessClient
from dealbridge.errors import (
    ConfigError,
    ConnectorError,
    NotFoundError,
    UnexpectedResponseError,
    ValidationError,
)
from dealbridge.settings import NetSuiteSettings

_RECORD_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INTERNAL_ID = re.compile(r"^\d{1,20}$")
_HEADERS = {
    "Accept": "application/json",
    # §2: unknown field names must fail loudly rather than be dropped.
    models.PROPERTY_VALIDATION_HEADER: "error",
    "User-Agent": "dealbridge",
}
_TRANSIENT = {"Prefer": "transient"}  # §4: every SuiteQL example sends it

_log = structlog.get_logger("dealbridge.netsuite")


def eid(external_id: str, *, record: str = "NetSuite record") -> str:
    """A reference by external id, ``eid:<external id>``, usable wherever an id is (§2).

    Raises:
        ValidationError: The id has characters other than letters, digits, ``_`` and ``-``.
    """
    if not models.is_valid_external_id(external_id):
        raise ValidationError(
            f"external id {external_id!r} may hold only letters, digits, '_' and '-' (at most 255)",
            record=record,
            field_path="externalId",
            rule="external_id_format",
        )
    return f"eid:{external_id}"


class NetSuiteClient:
    """SuiteTalk REST for one account.

    Args:
        settings: Account, auth, limits and retry settings.
        transport: An httpx transport (tests use ``httpx.MockTransport``).
        on_call: Receives one redacted ``CallRecord`` per HTTP attempt; logs by default.
        limiter: The in-flight cap; by default the process-wide one of the account.
        sleep: Awaited between retries; injectable so tests never wait.
        record_bodies: Whether call records carry redacted request and response bodies.
    """

    def __init__(
        self,
        settings: NetSuiteSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_call: CallObserver | None = None,
        limiter: AdaptiveConcurrencyLimiter | None = None,
        sleep: Sleep = asyncio.sleep,
        record_bodies: bool = True,
    ) -> None:
        if not settings.base_url and not settings.account:
            raise ConfigError("NetSuite needs netsuite.account (or netsuite.base_url)")
        self.settings = settings
        self.base_url = (settings.base_url or models.default_base_url(settings.account)).rstrip("/")
        observer = on_call or log_call
        auth = build_auth(settings, base_url=self.base_url, on_call=observer)
        self.limiter = limiter or shared_limiter(
            settings.account or self.base_url, settings.concurrency_limit
        )
        self._http = CookielessClient(
            base_url=self.base_url + "/",
            auth=auth,
            transport=transport or AiohttpTransport(),
            headers=_HEADERS,
            timeout=settings.timeout_seconds,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
        )
        self._dispatcher = NetSuiteDispatcher(
            http=self._http,
            auth=auth,
            limiter=self.limiter,
            settings=settings,
            on_call=observer,
            sleep=sleep,
            record_bodies=record_bodies,
        )
        self._governance_pending = settings.read_governance_limits
        self._governance_read: asyncio.Future[None] | None = None

    async def __aenter__(self) -> NetSuiteClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- records (§2) -------------------------------------------------------------------------

    async def get(
        self,
        record_type: str,
        ref: str,
        *,
        expand_sub_resources: bool = False,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One record by internal id or ``eid(…)``; sublists are links unless expanded (§2)."""
        params = {}
        if expand_sub_resources:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(_names(fields))
        path = record_path(record_type, ref)
        operation = f"GET {path.removeprefix('record/v1/')}"
        response = await self._send(Call("GET", path, operation, params=params or None))
        return json_body(response, operation)

    async def create(
        self, record_type: str, body: dict[str, Any], *, replace: Iterable[str] = ()
    ) -> str:
        """POST a new record; returns its internal id. Not idempotent: prefer ``upsert``."""
        path = record_path(record_type)
        call = Call(
            "POST",
            path,
            f"POST {record_type}",
            params=_replace(replace),
            json=body,
            idempotent=False,
        )
        return location_id(await self._send(call), call.operation)

    async def update(
        self,
        record_type: str,
        ref: str,
        body: dict[str, Any],
        *,
        replace: Iterable[str] = (),
        replace_selected_fields: bool = False,
    ) -> str:
        """PATCH: omitted fields stay, ``null`` clears, ``replace`` sublists are redone (§2.2)."""
        params = _replace(replace) or {}
        if replace_selected_fields:
            params["replaceSelectedFields"] = "true"  # §2.2: semantics UNCONFIRMED
        path = record_path(record_type, ref)
        call = Call(
            "PATCH",
            path,
            f"PATCH {path.removeprefix('record/v1/')}",
            params=params or None,
            json=body,
        )
        return location_id(await self._send(call), call.operation)

    async def upsert(
        self,
        record_type: str,
        external_id: str,
        body: dict[str, Any],
        *,
        replace: Iterable[str] = (),
    ) -> str:
        """PUT by external id: creates or updates, safe to retry; returns the internal id (§9)."""
        path = record_path(record_type, eid(external_id, record=record_type))
        call = Call(
            "PUT",
            path,
            f"PUT {path.removeprefix('record/v1/')}",
            params=_replace(replace),
            json=body,
        )
        return location_id(await self._send(call), call.operation)

    async def delete(self, record_type: str, ref: str, *, missing_ok: bool = False) -> None:
        """DELETE a record (204, §2).

        ``missing_ok`` makes a re-run idempotent: a delete retried after a lost answer finds
        nothing to delete.
        """
        path = record_path(record_type, ref)
        try:
            await self._send(Call("DELETE", path, f"DELETE {path.removeprefix('record/v1/')}"))
        except NotFoundError:
            if not missing_ok:
                raise

    async def list_ids(
        self, record_type: str, *, q: str | None = None, page_size: int = models.COLLECTION_MAX_PAGE
    ) -> AsyncIterator[str]:
        """Internal ids of a record type, optionally filtered by a ``q`` expression (§2.3)."""
        path = record_path(record_type)

        async def fetch(_query: str, limit: int, offset: int) -> models.Page:
            params = {"limit": str(limit), "offset": str(offset)}
            if q:
                params["q"] = q
            response = await self._send(Call("GET", path, f"GET {record_type}", params=params))
            return parse_page(response, f"GET {record_type}")

        async for item in iter_rows(fetch, "", page_size=check_page_size(page_size)):
            yield str(item["id"])

    # -- SuiteQL (§4) -------------------------------------------------------------------------

    async def suiteql(
        self, query: str, *, page_size: int = models.SUITEQL_MAX_PAGE
    ) -> AsyncIterator[Row]:
        """Rows of a query (values built with ``sql_literal``), across pages, up to 100,000."""
        async for row in iter_rows(self._suiteql_page, query, page_size=page_size):
            yield row

    async def suiteql_all(self, query: str) -> list[Row]:
        """Every row of a query as a list."""
        return [row async for row in self.suiteql(query)]

    async def suiteql_by_key(
        self,
        select_list: Sequence[str],
        table: str,
        where: str | None = None,
        *,
        key: str = "id",
        page_size: int = models.SUITEQL_MAX_PAGE,
    ) -> AsyncIterator[Row]:
        """Every row of a table in key order, with no row cap (``suiteql.iter_by_key``)."""
        rows = iter_by_key(
            self._suiteql_page, select_list, table, where, key=key, page_size=page_size
        )
        async for row in rows:
            yield row

    async def _suiteql_page(self, query: str, limit: int, offset: int) -> models.Page:
        """``POST query/v1/suiteql?limit&offset`` with ``{"q"}`` (§4); a read, so idempotent."""
        call = Call(
            "POST",
            models.SUITEQL_PATH.lstrip("/"),
            "POST suiteql",
            params={"limit": str(limit), "offset": str(offset)},
            json={"q": query},
            headers=_TRANSIENT,
        )
        return parse_page(await self._send(call), call.operation)

    # -- governance (§6) ----------------------------------------------------------------------

    async def governance_limits(self) -> models.GovernanceLimits:
        """The account's concurrency limits (administrators only, §6)."""
        operation = "GET governanceLimits"
        call = Call("GET", models.GOVERNANCE_PATH.lstrip("/"), operation)
        data = json_body(await self._dispatcher.send(call), operation)
        try:
            return models.GovernanceLimits.model_validate(data)
        except PydanticValidationError as exc:
            raise _shape_error(operation, f"unexpected governanceLimits: {exc}") from None

    async def _apply_governance_limits(self) -> None:
        """Replace the configured limit with NetSuite's; keep it if the role may not read it."""
        try:
            limits = await self.governance_limits()
        except ConnectorError as error:
            _log.warning("governance_limits_unavailable", error=error.message)
            return
        self.limiter.reset(limits.effective_limit())

    async def _send(self, call: Call) -> httpx.Response:
        if self._governance_pending:
            await self._governance_read_once()
        return await self._dispatcher.send(call)

    async def _governance_read_once(self) -> None:
        """Every call of the first burst waits until the account's limit has been read.

        Without the wait, the first call reads the limit while the rest of the burst goes out
        under the configured (possibly too high) cap and meets a wall of 429s.
        """
        if self._governance_read is None:
            self._governance_read = asyncio.ensure_future(self._apply_governance_limits())
        await asyncio.shield(self._governance_read)
        self._governance_pending = False


def record_path(record_type: str, ref: str | None = None) -> str:
    """``record/v1/<type>[/<id or eid:…>]``, refusing anything that could leave the path."""
    if not _RECORD_TYPE.match(record_type):
        raise ConfigError(f"not a NetSuite record type: {record_type!r}")
    if ref is None:
        return f"record/v1/{record_type}"
    if not (_INTERNAL_ID.match(ref) or ref.startswith("eid:")):
        raise ValidationError(
            f"a {record_type} reference is an internal id or eid:<external id>, not {ref!r}",
            record=record_type,
            field_path="id",
            rule="record_ref_format",
        )
    if ref.startswith("eid:"):
        eid(ref.removeprefix("eid:"), record=record_type)
    return f"record/v1/{record_type}/{ref}"


def location_id(response: httpx.Response, operation: str) -> str:
    """The internal id at the end of the ``Location`` header of a 204 (§2)."""
    location = response.headers.get("Location", "")
    last = unquote(urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1])
    if not last:
        raise _shape_error(
            operation,
            f"NetSuite answered {operation} without a Location header",
            response=response,
        )
    return last


def parse_page(response: httpx.Response, operation: str) -> models.Page:
    """A collection or SuiteQL page (§2.3, §4)."""
    data = json_body(response, operation)
    try:
        return models.Page.model_validate(data)
    except PydanticValidationError as exc:
        raise _shape_error(operation, f"unexpected page shape: {exc}", response=response) from None


def _shape_error(
    operation: str, message: str, *, response: httpx.Response | None = None
) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        message,
        system=SYSTEM,
        operation=operation,
        status=response.status_code if response is not None else None,
        request_id=request_id_of(response) if response is not None else None,
    )


def _names(names: Iterable[str]) -> list[str]:
    """Field or sublist names for a query parameter; nothing that could smuggle a parameter."""
    checked = list(names)
    for name in checked:
        if not _RECORD_TYPE.match(name):
            raise ConfigError(f"not a NetSuite field or sublist name: {name!r}")
    return checked


def _replace(names: Iterable[str]) -> dict[str, str] | None:
    """``?replace=a,b`` (§2.2)."""
    checked = _names(names)
    return {"replace": ",".join(checked)} if checked else None
