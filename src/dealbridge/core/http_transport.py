"""An httpx transport that puts requests on the wire with aiohttp.

Why: httpx stays the connectors' interface — requests, responses, auth flows, the error trees
built on its exceptions, and the tests' ``MockTransport`` — but its own connection pool
(httpcore over anyio) cost ~1.1 ms of CPU per request, about a third of the service's CPU per
deal (``bench/overhead.py`` profile). aiohttp's pool and C parser send the same request for
~0.4 ms. Only the wire changes: a request is sent as httpx built it (headers, body), the answer
comes back as an ``httpx.Response`` whose body httpx decodes as usual.

Failures are raised as the httpx exceptions the connectors classify (``error_from_exception``):
connect-phase failures as ``ConnectError``/``ConnectTimeout`` (the request never left; a
certificate the trust store refuses among them, its ``SSLCertVerificationError`` in the chain
of causes where ``core.tls.certificate_failure`` finds it), a silent server as
``ReadTimeout``, an exchange outliving the sum of its phases' bounds (a peer that stopped
reading the body) as ``WriteTimeout``, a dropped or garbled answer as
``RemoteProtocolError``/``ReadError``, a non-http(s) URL as ``UnsupportedProtocol``.

A proxy from the environment (``HTTPS_PROXY``) still goes through httpx's own transport: httpx
mounts it in front of this one for the URLs it covers.

``CookielessClient`` is the connectors' ``httpx.AsyncClient`` without a cookie jar, and with a
cheaper ``build_request`` for the requests they send (see there).

One aiohttp session per transport, opened in the event loop of the first request: every client
of the engine belongs to one loop (``sync.clients``), and aiohttp's sessions may not cross loops.
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
import ssl
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
from httpx._client import USE_CLIENT_DEFAULT, UseClientDefault
from httpx._types import (
    CookieTypes,
    HeaderTypes,
    QueryParamTypes,
    RequestContent,
    RequestData,
    RequestExtensions,
    RequestFiles,
    TimeoutTypes,
)

# An idle connection is dropped after 4 s: servers close idle kept-alive connections themselves
# (uvicorn, which serves the emulators and `dealbridge serve`, after 5 s), and a request sent on a
# connection the server is closing fails as a RemoteProtocolError and waits out a retry. httpx's
# own pool let connections go after 5 s for the same reason.
_KEEPALIVE_SECONDS = 4.0
# aiohttp warns that a bytes body above 1 MiB is sent in one piece; it streams a file-like one.
_LARGE_BODY_BYTES = 1024 * 1024
# httpx already wrote these; aiohttp must not add its own beside them.
_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one aiohttp session.

    Args:
        verify: ``True`` for httpx's trust store (certifi's, as before this transport), or an
            ``ssl.SSLContext`` (a CA bundle added, as ``salesforce.ca_bundle`` does).
            Verification is never switched off.
    """

    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        self._ssl = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """One exchange; the whole answer is read before returning (no streaming callers)."""
        session = self._open_session()
        body = await request.aread()
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=_payload(body),
                allow_redirects=False,
                timeout=_timeout(request),
                ssl=self._ssl,
                skip_auto_headers=_SKIP_AUTO_HEADERS,
            ) as answer:
                raw = await answer.read()
                status, headers = answer.status, list(answer.raw_headers)
        except Exception as exc:
            mapped = _as_httpx_error(exc, request)
            if mapped is exc:
                raise
            raise mapped from exc
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(raw),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        """Close the session and its kept-alive connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,  # the connectors' limiters bound what is in flight
                keepalive_timeout=_KEEPALIVE_SECONDS,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # httpx decodes by Content-Encoding
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps no cookies either here
            )
        return self._session


def _payload(body: bytes) -> bytes | io.BytesIO | None:
    """The body as aiohttp sends it best: none, bytes, or streamed when large."""
    if not body:
        return None
    return io.BytesIO(body) if len(body) > _LARGE_BODY_BYTES else body


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    """Httpx's per-phase timeouts (``request.extensions["timeout"]``) in aiohttp's terms.

    aiohttp bounds connecting and each read but not writing: a peer that stops reading a body
    larger than the socket buffers would hold the request forever. So the whole exchange is
    bounded too, by the sum of httpx's phases (pool + connect + write + read), which no
    request that keeps to each phase's bound can exceed; ``_as_httpx_error`` reports it as
    the write timeout, the one phase aiohttp does not bound itself.
    """
    phases: dict[str, Any] = request.extensions.get("timeout", {})
    bounds = [phases.get(name) for name in ("pool", "connect", "write", "read")]
    whole = sum(float(b) for b in bounds if b is not None) if None not in bounds else None
    return aiohttp.ClientTimeout(
        total=whole,
        connect=phases.get("pool"),
        sock_connect=phases.get("connect"),
        sock_read=phases.get("read"),
    )


def _as_httpx_error(exc: Exception, request: httpx.Request) -> Exception:
    """The httpx exception a failure of this kind raises with httpx's own transport."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.NonHttpUrlClientError | aiohttp.InvalidUrlClientError):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):  # SocketTimeoutError: no answer in time
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, asyncio.TimeoutError):  # the whole exchange's bound (``_timeout``)
        return httpx.WriteTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return httpx.ReadError(message, request=request)
    return exc


class _NoCookies(httpx.Cookies):
    """A jar that keeps no cookie a server sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep nothing (``CookielessClient``)."""


# An absolute URL begins with a scheme (RFC 3986 §3.1); a path such as ``record/v1/x/eid:A``
# has a colon too, but after a slash, which no scheme contains.
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` that keeps no cookies from responses and builds requests cheaply.

    Why no cookies: httpx reads every response into its cookie jar, and to do that it rebuilds
    the request as a ``urllib`` one, parsing its URL again: ~3 % of the service's CPU per deal
    (``bench/overhead.py``, ``py-spy --gil``), for nothing. Salesforce and NetSuite authenticate
    every request by its ``Authorization`` header (a bearer token or a TBA signature), and a
    cookie a server set would only carry state from one request to the next that none of them
    asked for.

    Why its own ``build_request``: httpx parses a request's URL four or five times on the way
    (joined to the base URL, its query merged, copied into the request, each time re-parsed
    from text), ~12 % of the service's time holding the GIL during a burst. The requests the
    connectors send — a path or a whole URL, query parameters, a JSON body — have their URL
    written here as text and parsed once, by the request itself. Anything else (a form body, a
    query already in the URL, client-wide parameters, a timeout of its own) goes through httpx
    unchanged. The result is the same request either way (``tests/unit/core``).

    The query is encoded apart and never parsed: httpx checks and quotes a URL character by
    character in Python, and a deal's Salesforce queries are ~1.8 KB of URL each (every mapped
    field is named in the SOQL).
    """

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any | None = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> httpx.Request:
        """The request httpx would build; a plain one's URL is written as text, parsed once."""
        plain = _is_plain(content, data, files, cookies, extensions)
        whole = self._plain_url(url) if plain else None
        if whole is None or not isinstance(timeout, UseClientDefault) or self.params:
            return super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        request = httpx.Request(
            method,
            whole,
            json=json,
            headers=self._merge_headers(headers),
            extensions={"timeout": self.timeout.as_dict()},
        )
        if params:
            request.url = _with_query(request.url, _query_text(params))
        return request

    def _plain_url(self, url: httpx.URL | str) -> str | None:
        """The whole URL as text, or None when httpx should join it (a query, no base, …)."""
        if not isinstance(url, str) or "?" in url or "#" in url:
            return None
        if _ABSOLUTE.match(url):
            return url
        base = self.base_url
        if not base.scheme or base.query or base.fragment:
            return None
        text = str(base)  # httpx gave the base a trailing slash; an empty path prints without it
        return (text if text.endswith("/") else text + "/") + url.lstrip("/")

    @property
    def cookies(self) -> httpx.Cookies:
        """An empty jar that stays empty."""
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise AttributeError("a CookielessClient keeps no cookies")

    @functools.cached_property
    def _no_cookies(self) -> httpx.Cookies:
        return _NoCookies()


def _is_plain(
    content: RequestContent | None,
    data: RequestData | None,
    files: RequestFiles | None,
    cookies: CookieTypes | None,
    extensions: RequestExtensions | None,
) -> bool:
    """Whether a request has nothing but a URL, query parameters, headers and a JSON body."""
    return content is None and data is None and files is None and not cookies and not extensions


def _query_text(params: QueryParamTypes) -> str:
    """``str(httpx.QueryParams(params))``, for a plain dict by the standard library's quoting.

    Both keep exactly RFC 3986's unreserved characters and write the rest as ``%XX`` of UTF-8;
    the standard library's quoting maps whole byte strings, httpx's tests each character.
    """
    if not isinstance(params, dict) or not all(
        isinstance(value, str | int | float | bool) or value is None for value in params.values()
    ):
        return str(httpx.QueryParams(params))
    return "&".join(
        f"{quote(str(key), safe='')}={quote(_value_text(value), safe='')}"
        for key, value in params.items()
    )


def _value_text(value: str | float | bool | None) -> str:
    """What httpx writes for a parameter's value (``primitive_value_to_str``)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _with_query(url: httpx.URL, query: str) -> httpx.URL:
    """``url`` (without a query) with ``query`` (percent-encoded), not parsed again.

    ``query`` holds only unreserved characters, ``%XX``, ``=`` and ``&``: text httpx's own parse
    would keep exactly as it is, so it is put in the parsed URL's parts as that parse would.
    Should httpx keep its parts differently one day, the URL is parsed the ordinary way.
    """
    parts: Any = getattr(url, "_uri_reference", None)
    if not hasattr(parts, "_replace") or getattr(parts, "query", "") is not None:
        return httpx.URL(f"{url}?{query}")
    joined = object.__new__(httpx.URL)
    joined.__dict__.update(url.__dict__)
    joined._uri_reference = parts._replace(query=query)
    return joined
