"""The real ``NetSuiteClient`` pointed at a running emulator process.

Everything a client needs comes from the emulator's first stdout line (``emulator/server.py``):
``base_url``, ``account``, ``tba{…}``, ``oauth2{…}`` (PS256) and ``oauth2_es256{…}``, each key given
as the path of a PEM file. This module turns that line into ``NetSuiteSettings``, wraps the
client's transport so a test can see the exact bytes on the wire (and the bearer tokens and client
assertions, which the client never exposes), steers the emulator through ``/__emulator__/``, and
checks that no credential reached a call record.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx

from dealbridge.connectors.netsuite.auth import TOKEN_OPERATION
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter
from dealbridge.core.calls import CallRecord, log_call
from dealbridge.settings import NetSuiteSettings
from tests.support.processes import dealbridge_process

Info = dict[str, Any]
AuthMode = Literal["oauth2", "oauth2_es256", "tba"]
# "oauth2" is the PS256 certificate of the first line, "oauth2_es256" the EC one.
AUTH_MODES: tuple[AuthMode, ...] = ("oauth2", "oauth2_es256", "tba")
OAUTH2_MODES: tuple[AuthMode, ...] = ("oauth2", "oauth2_es256")
# One mode per scheme, for behaviour that does not depend on the certificate's algorithm. The EC
# certificate stands for OAuth 2.0: loading the RSA-3072 key costs ~0.3 s of CPU per client
# (cryptography validates it), and PS256 is covered end to end by the core suite.
AUTH_SCHEMES: tuple[AuthMode, ...] = ("oauth2_es256", "tba")
TOKEN_PATH_SUFFIX = "/auth/oauth2/v1/token"
# Retries against a local emulator need not wait long; the retry policy is what is under test.
QUICK_RETRIES: dict[str, Any] = {
    "backoff_base_seconds": 0.01,
    "backoff_max_seconds": 0.05,
    "timeout_seconds": 30.0,
}
_POLL_SECONDS = 0.02
_MIN_SECRET_CHARS = 16


# -- settings -----------------------------------------------------------------------------------


def netsuite_settings(info: Info, mode: AuthMode = "oauth2", **overrides: Any) -> NetSuiteSettings:
    """Settings for the emulator of ``info`` in one auth mode; ``overrides`` win."""
    values: dict[str, Any] = {
        "account": info["account"],
        "base_url": info["base_url"],
        **QUICK_RETRIES,
    }
    values.update(tba_values(info) if mode == "tba" else oauth2_values(info, mode))
    values.update(overrides)
    return NetSuiteSettings(**values)


def tba_values(info: Info) -> dict[str, Any]:
    """Token-based authentication (contracts §7.1) with the emulator's one token."""
    tba = info["tba"]
    return {
        "auth_mode": "tba",
        "consumer_key": tba["consumer_key"],
        "consumer_secret": tba["consumer_secret"],
        "token_id": tba["token_id"],
        "token_secret": tba["token_secret"],
    }


def oauth2_values(info: Info, section: str = "oauth2") -> dict[str, Any]:
    """OAuth 2.0 client credentials (contracts §7.2) with one of the emulator's certificates."""
    cert = info[section]
    return {
        "auth_mode": "oauth2",
        "client_id": cert["client_id"],
        "certificate_id": cert["certificate_id"],
        "private_key_file": cert["private_key_pem"],
        "jwt_algorithm": cert["algorithm"],
    }


# -- the emulator process -----------------------------------------------------------------------


@contextmanager
def running_emulator(state_dir: Path, **options: Any) -> Iterator[Info]:
    """``dealbridge emulate netsuite`` on a free port; yields its first line, stops it after."""
    args = ["emulate", "netsuite", "--port", "0", "--state-dir", str(state_dir)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    with dealbridge_process(args) as started:
        yield started.info


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One default TLS context for every test client (each new one reads the CA bundle anew)."""
    return httpx.create_ssl_context()


class EmulatorControl:
    """The emulator's test hooks (``/__emulator__/``, see ``emulator/control.py``).

    Each call opens and closes its own connection, so an instance needs no closing; it is also
    a context manager for symmetry with the emulator's.
    """

    def __init__(self, info: Info) -> None:
        self.url = info["control_url"]

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        verify = shared_ssl_context()
        with httpx.Client(base_url=self.url, timeout=30, verify=verify) as http:
            answer = http.request(method, path, json=body)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def fresh(self) -> None:
        """Wait out any hung request, then reset: the state every test starts from."""
        self.wait_idle()
        self.reset()

    def reset(self) -> None:
        """Reference data only, start-up settings, zeroed statistics."""
        self._call("POST", "/reset")

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Change run-time settings (fault rates, latency, token lifetime…)."""
        settings: dict[str, Any] = self._call("PUT", "/faults", changes)
        return settings

    def stats(self) -> dict[str, Any]:
        """Governance counters and login failure reasons."""
        stats: dict[str, Any] = self._call("GET", "/stats")
        return stats

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._call("POST", "/stats/reset")

    def records(self, record_type: str) -> list[dict[str, Any]]:
        """Every stored record of a type, as the emulator keeps it."""
        records: list[dict[str, Any]] = self._call("GET", f"/records/{record_type}")
        return records

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Poll until no request is in flight (a hung fault keeps its slot a while)."""
        deadline = time.monotonic() + timeout
        while self.stats()["in_flight"] > 0:
            assert time.monotonic() < deadline, "the emulator still has requests in flight"
            time.sleep(_POLL_SECONDS)

    async def wait_for(
        self, condition: Callable[[dict[str, Any]], bool], what: str, timeout: float = 20.0
    ) -> dict[str, Any]:
        """Poll the statistics without blocking the event loop until ``condition`` holds."""
        deadline = time.monotonic() + timeout
        verify = shared_ssl_context()
        async with httpx.AsyncClient(base_url=self.url, timeout=30, verify=verify) as hooks:
            while True:
                stats: dict[str, Any] = (await hooks.get("/stats")).json()
                if condition(stats):
                    return stats
                assert time.monotonic() < deadline, f"gave up waiting for {what}: {stats}"
                await asyncio.sleep(_POLL_SECONDS)


# -- the wire -----------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One HTTP request the client sent through the transport, and what came back."""

    request: httpx.Request
    body: bytes
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    content: bytes = b""
    error: Exception | None = None

    @property
    def is_token_request(self) -> bool:
        """Whether this is a call to the OAuth 2.0 token endpoint."""
        return self.request.url.path.endswith(TOKEN_PATH_SUFFIX)

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)


BodyRewrite = Callable[[httpx.Request, bytes], bytes | None]


class WireLog(httpx.AsyncBaseTransport):
    """Real HTTP to the emulator, keeping every exchange for assertions.

    Args:
        rewrite: Called with each request and its body; a returned ``bytes`` is sent instead of
            the body (how a test sends what the client's API never would, e.g. broken JSON).
    """

    def __init__(self, rewrite: BodyRewrite | None = None) -> None:
        # The client's own pool is unbounded; a bounded one here would queue calls it sent.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=20)
        self._inner = httpx.AsyncHTTPTransport(limits=limits, verify=shared_ssl_context())
        self._rewrite = rewrite
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request (rewritten if asked) and keep the exchange."""
        body = await request.aread()
        replacement = self._rewrite(request, body) if self._rewrite else None
        if replacement is not None:
            request, body = _with_body(request, replacement), replacement
        exchange = Exchange(request, body)
        self.exchanges.append(exchange)
        try:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
        except Exception as exc:
            exchange.error = exc
            raise
        exchange.status, exchange.headers, exchange.content = (
            response.status_code,
            response.headers,
            content,
        )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._inner.aclose()

    def api(self) -> list[Exchange]:
        """Exchanges other than token requests."""
        return [exchange for exchange in self.exchanges if not exchange.is_token_request]

    def token_requests(self) -> list[Exchange]:
        """Requests to the token endpoint."""
        return [exchange for exchange in self.exchanges if exchange.is_token_request]

    def access_tokens(self) -> list[str]:
        """Every bearer token the token endpoint issued."""
        tokens = []
        for exchange in self.token_requests():
            if exchange.status == 200:
                tokens.append(str(json.loads(exchange.content)["access_token"]))
        return tokens

    def client_assertions(self) -> list[str]:
        """Every JWT client assertion the client sent."""
        forms = [parse_qs(exchange.body.decode()) for exchange in self.token_requests()]
        return [value for form in forms for value in form.get("client_assertion", [])]

    def credentials_seen(self) -> set[str]:
        """Tokens, assertions and TBA signatures that crossed the wire."""
        seen = set(self.access_tokens()) | set(self.client_assertions())
        for exchange in self.exchanges:
            authorization = exchange.request.headers.get("Authorization", "")
            seen.add(authorization)
            seen.add(authorization.removeprefix("Bearer "))
        return {value for value in seen if len(value) >= _MIN_SECRET_CHARS}


def _with_body(request: httpx.Request, body: bytes) -> httpx.Request:
    headers = httpx.Headers(request.headers)
    del headers["Content-Length"]
    return httpx.Request(
        request.method, request.url, headers=headers, content=body, extensions=request.extensions
    )


# -- clients ------------------------------------------------------------------------------------


@dataclass
class ClientRun:
    """A client wired to the emulator, with its call records, wire log and own limiter."""

    client: NetSuiteClient
    settings: NetSuiteSettings
    calls: list[CallRecord]
    wire: WireLog
    limiter: AdaptiveConcurrencyLimiter

    def api_calls(self, operation: str | None = None) -> list[CallRecord]:
        """Call records of API attempts (not token requests), optionally of one operation."""
        return [
            record
            for record in self.calls
            if record.extra.get("operation") != TOKEN_OPERATION
            and (operation is None or record.extra.get("operation") == operation)
        ]

    def token_calls(self) -> list[CallRecord]:
        """Call records of token requests."""
        return [r for r in self.calls if r.extra.get("operation") == TOKEN_OPERATION]


class ClientRuns:
    """Makes clients for one test and, at the end, checks none of them leaked a credential.

    Each client gets its own ``AdaptiveConcurrencyLimiter``: by default every client of an
    account shares one per process, and the first client's limit would win for the whole run.
    """

    def __init__(self, info: Info) -> None:
        self.info = info
        self.runs: list[ClientRun] = []
        self.extra_secrets: set[str] = set()

    def __call__(
        self,
        mode: AuthMode,
        *,
        rewrite: BodyRewrite | None = None,
        log_calls: bool = False,
        **overrides: Any,
    ) -> ClientRun:
        """A new client in ``mode`` with ``overrides`` applied to its settings.

        Args:
            mode: Which credentials of the first line to use.
            rewrite: Passed to the client's ``WireLog``.
            log_calls: Also send each call record to the product's default observer (the log).
            **overrides: Settings that differ from ``netsuite_settings``.
        """
        settings = netsuite_settings(self.info, mode, **overrides)
        calls: list[CallRecord] = []

        def observe(record: CallRecord) -> None:
            calls.append(record)
            if log_calls:
                log_call(record)

        wire = WireLog(rewrite)
        limiter = AdaptiveConcurrencyLimiter(settings.concurrency_limit)
        client = NetSuiteClient(settings, transport=wire, on_call=observe, limiter=limiter)
        run = ClientRun(client, settings, calls, wire, limiter)
        self.runs.append(run)
        return run

    def secrets(self) -> set[str]:
        """Every credential value this test's clients held or saw."""
        found = credential_values(self.info) | self.extra_secrets
        for run in self.runs:
            found |= run.wire.credentials_seen()
        return found

    def assert_nothing_leaked(self) -> None:
        """No call record of any client holds a credential value."""
        secrets = self.secrets()
        for run in self.runs:
            for record in run.calls:
                assert not leaks(secrets, record), f"a credential leaked into {record}"


def credential_values(info: Info) -> set[str]:
    """The secrets of the first line: TBA secrets and the text of both private keys."""
    values = {info["tba"]["consumer_secret"], info["tba"]["token_secret"]}
    for section in OAUTH2_MODES:
        values |= pem_fragments(Path(info[section]["private_key_pem"]).read_text())
    return values


def pem_fragments(pem: str) -> set[str]:
    """A PEM's whole text and each base64 line of it, so a partial echo is caught too."""
    lines = {line.strip() for line in pem.splitlines() if not line.startswith("-----")}
    return {pem.strip()} | {line for line in lines if len(line) >= _MIN_SECRET_CHARS}


def leaks(secrets: Iterable[str], *things: Any) -> list[str]:
    """The secrets that occur in the text of any of ``things`` (records, dicts, strings)."""
    texts = [_text(thing) for thing in things]
    return [secret for secret in secrets if any(secret in text for text in texts)]


def _text(thing: Any) -> str:
    if isinstance(thing, CallRecord):
        thing = thing.as_dict()
    if isinstance(thing, Mapping):
        return repr(thing) + json.dumps(thing, default=str)
    return str(thing)
