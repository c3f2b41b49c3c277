"""NetSuite's wire format at the emulator's edge: reading requests, writing responses.

Handlers speak in Python values and :class:`NetSuiteProblem`; this module turns them into the
bytes and headers a SuiteTalk REST client sees (contracts §2, §5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.models import (
    INVALID_CONTENT,
    PROPERTY_VALIDATION_HEADER,
    RECORD_PATH,
    REST_PREFIX,
)

SINGULAR = "application/vnd.oracle.resource+json; type=singular"  # §2 read
COLLECTION = "application/vnd.oracle.resource+json; type=collection"
ERROR = "application/vnd.oracle.resource+json; type=error"
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024  # NetSuite takes 104 MB (§2); tests need far less


@dataclass(frozen=True)
class ReceivedRequest:
    """What a TBA signature covers, exactly as it arrived (contracts §7.1).

    Attributes:
        method: HTTP method.
        scheme: ``http`` or ``https``.
        host: The ``Host`` header (``host[:port]``), or the socket address if absent.
        path: The path as sent, still percent-encoded.
        query: The raw query string, still percent-encoded.
        authorization: The ``Authorization`` header ('' if absent).
    """

    method: str
    scheme: str
    host: str
    path: str
    query: str
    authorization: str

    @property
    def url(self) -> str:
        """``scheme://host/path`` without the query: the base string URI's input."""
        return f"{self.scheme}://{self.host}{self.path}"


def received_request(request: Request) -> ReceivedRequest:
    """Capture the parts of ``request`` a signature or an audience depends on."""
    scope = request.scope
    raw_path: bytes | None = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    return ReceivedRequest(
        method=request.method,
        scheme=scope.get("scheme", "http"),
        host=request.headers.get("host") or _socket_host(request),
        path=path,  # ASGI's raw_path never includes the query
        query=scope.get("query_string", b"").decode("latin-1"),
        authorization=request.headers.get("authorization", ""),
    )


def _socket_host(request: Request) -> str:
    server = request.scope.get("server") or ("127.0.0.1", 80)
    return f"{server[0]}:{server[1]}"


def base_url(request: Request) -> str:
    """``scheme://host[:port]/services/rest`` as the client addressed us, for links."""
    received = received_request(request)
    return f"{received.scheme}://{received.host}{REST_PREFIX}"


def record_url(request: Request, record_type: str, record_id: str) -> str:
    """The ``Location`` of a record (contracts §2: the id is the last segment)."""
    return f"{base_url(request)}{RECORD_PATH}/{record_type}/{record_id}"


def strict_fields(request: Request) -> bool:
    """``X-NetSuite-PropertyNameValidation: error`` makes unknown fields fail (§2)."""
    return request.headers.get(PROPERTY_VALIDATION_HEADER, "").strip().lower() == "error"


def flag(request: Request, name: str) -> bool:
    """A ``?name=true`` query flag; anything but ``true`` (any case) is false."""
    return request.query_params.get(name, "").strip().lower() == "true"


def name_list(request: Request, name: str) -> list[str]:
    """A comma-separated query parameter such as ``replace=item,member`` (§2.2)."""
    raw = request.query_params.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


async def read_json(request: Request) -> Any:
    """The request body as JSON.

    Raises:
        NetSuiteProblem: 413 when too large, 400 ``INVALID_CONTENT`` when not JSON.
    """
    return parse_json(await read_body(request))


async def read_body(request: Request) -> bytes:
    """The raw body, refusing more than the app's cap before reading it all.

    Raises:
        NetSuiteProblem: 413 when the body is larger than ``app.state.max_body_bytes``.
    """
    max_bytes = int(getattr(request.app.state, "max_body_bytes", DEFAULT_MAX_BODY_BYTES))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """Decode a JSON body, worded like NetSuite's INVALID_CONTENT error (§5)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        detail = f"Invalid JSON in the request body: {exc.msg} at {where}."
    except ValueError:  # undecodable bytes (UnicodeDecodeError)
        detail = "Invalid JSON in the request body: the body is not UTF-8 text."
    raise NetSuiteProblem(400, INVALID_CONTENT, detail)


def _too_large(max_bytes: int) -> NetSuiteProblem:
    # The status and code NetSuite gives past its 104 MB cap are UNCONFIRMED; 413 is HTTP's own.
    return NetSuiteProblem(
        413, INVALID_CONTENT, f"The request body exceeds the maximum size of {max_bytes} bytes."
    )


def problem_response(problem: NetSuiteProblem) -> JSONResponse:
    """An RFC 7807 error in NetSuite's shape and media type (§5)."""
    return JSONResponse(
        problem.body(), status_code=problem.status, headers=problem.headers, media_type=ERROR
    )


def resource_response(payload: Any, media_type: str = SINGULAR) -> JSONResponse:
    """A 200 with one record or one page."""
    return JSONResponse(payload, media_type=media_type)


def located(request: Request, record_type: str, record_id: str) -> Response:
    """204 + ``Location``, the answer to POST, PATCH and PUT-eid (§2)."""
    return Response(
        status_code=204, headers={"Location": record_url(request, record_type, record_id)}
    )
