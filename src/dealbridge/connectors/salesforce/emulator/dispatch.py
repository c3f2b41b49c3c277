"""One REST call, independent of HTTP: what the app and Composite subrequests both execute.

Salesforce runs a Composite request's subrequests as if each had been sent alone, minus the
authentication, the API-call count and the transaction boundary (contracts §1.6). So every REST
resource under ``/services/data/vNN.0/`` is a plain synchronous handler registered on
:data:`router`; the HTTP layer (``app``) and ``routes_composite`` both build a :class:`RestCall`
and dispatch it. Handlers never await, which also keeps a Composite transaction on one thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dealbridge.connectors.salesforce.emulator.wire import (
    METHOD_NOT_ALLOWED,
    SalesforceApiError,
    not_found,
    parse_json_body,
)
from dealbridge.connectors.salesforce.models import DATA_PATH

if TYPE_CHECKING:
    from dealbridge.connectors.salesforce.emulator.state import SalesforceEmulatorState

UNSET = object()


@dataclass
class RestCall:
    """A REST request after routing prefix and version have been taken off.

    Attributes:
        method: Upper-case HTTP method.
        path: The part after ``/services/data/vNN.0``, e.g. ``/sobjects/Account/001…``.
        api_version: ``65.0``-style version of the URL.
        params: Query parameters (first value of each).
        headers: Request headers, lower-case names.
        state: The emulator serving the call.
        raw_body: The body as received over HTTP (None for a subrequest).
        parsed_body: The body already decoded (a Composite subrequest's ``body``).
        in_composite: True for a Composite subrequest.
    """

    method: str
    path: str
    api_version: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    state: SalesforceEmulatorState
    raw_body: bytes | None = None
    parsed_body: Any = UNSET
    in_composite: bool = False

    def json(self) -> Any:
        """The JSON body; 400 ``JSON_PARSER_ERROR`` when absent or malformed."""
        if self.parsed_body is UNSET:
            self.parsed_body = parse_json_body(self.raw_body or b"")
        return self.parsed_body

    def url(self, path: str) -> str:
        """``/services/data/vNN.0`` + ``path``: a URL as Salesforce writes them in bodies."""
        return f"{DATA_PATH}/v{self.api_version}{path}"


@dataclass
class RestReply:
    """A handler's answer: status, JSON body (None = no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[RestCall, "re.Match[str]"], RestReply]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class RestRouter:
    """Method + path-regex routing, with Salesforce's 404 and 405 answers (§1.8)."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``method`` on paths fully matching ``pattern``."""
        compiled = re.compile(pattern)

        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(method, compiled, handler))
            return handler

        return register

    def dispatch(self, call: RestCall) -> RestReply:
        """Run the matching handler; Salesforce errors become their JSON-array replies."""
        try:
            handler, match = self._resolve(call.method, call.path)
            return handler(call, match)
        except SalesforceApiError as error:
            return RestReply(error.status, error.body(), error.headers)

    def _resolve(self, method: str, path: str) -> tuple[Handler, re.Match[str]]:
        allowed: list[str] = []
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            if route.method == method:
                return route.handler, match
            allowed.append(route.method)
        if not allowed:
            raise not_found()
        methods = ",".join(sorted({"HEAD", *allowed}) if "GET" in allowed else sorted(allowed))
        raise SalesforceApiError(
            405,
            METHOD_NOT_ALLOWED,
            f"HTTP Method '{method}' not allowed. Allowed are {methods}",
            headers={"Allow": methods},
        )


router = RestRouter()
