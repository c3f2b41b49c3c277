"""NetSuite authentication as ``httpx.Auth``: OAuth 2.0 client credentials, or TBA (OAuth 1.0a).

Why ``httpx.Auth``: signing happens on every send, so every retry gets a fresh TBA nonce and
timestamp (contracts/netsuite.md §7.1) and the current OAuth 2.0 token without the client knowing
which scheme is in use. ``build_auth`` picks the scheme from ``settings.auth_mode``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import jwt
from oauthlib import oauth1
from pydantic import SecretStr

from dealbridge.connectors.netsuite import models
from dealbridge.connectors.netsuite.errors import SYSTEM, body_snippet, request_id_of
from dealbridge.connectors.netsuite.keys import load_private_key
from dealbridge.core.calls import TOKEN_ENDPOINT_BODY, CallObserver, CallRecord
from dealbridge.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    RateLimitedError,
    TransientError,
    UnexpectedResponseError,
)
from dealbridge.settings import NetSuiteSettings

ASSERTION_SECONDS = models.OAUTH2_MAX_ASSERTION_SECONDS - 60  # §7.2: exp - iat < 60 min
REFRESH_MARGIN_SECONDS = 300  # §7.2: cache until about exp - 5 min
TOKEN_OPERATION = "POST auth/oauth2/v1/token"  # noqa: S105 - an operation name, not a secret
HttpMethod = Literal["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]


class NetSuiteAuth(httpx.Auth):
    """What the client needs from either scheme besides signing."""

    def invalidate(self, request: httpx.Request) -> None:
        """Forget the credential ``request`` was sent with (it got a 401)."""

    def secret_values(self) -> tuple[str, ...]:
        """Credential values to mask wherever text from a call is recorded."""
        return ()


class NetSuiteTbaAuth(NetSuiteAuth):
    """Token-based authentication: OAuth 1.0a with HMAC-SHA256, signed by oauthlib (§7.1).

    The signature covers the method and the full URL with its query; a JSON body is not part of it,
    and the header carries ``realm`` in NetSuite's upper-case form (``1234567_SB1``, §1).
    """

    def __init__(
        self,
        *,
        account: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
    ) -> None:
        self._secrets = (consumer_key, consumer_secret, token_id, token_secret)
        self._signer = oauth1.Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token_id,
            resource_owner_secret=token_secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            realm=models.realm_of(account),
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign with a fresh nonce and timestamp (oauthlib makes new ones on every ``sign``)."""
        request.url = canonical_query(request.url)
        method = cast(HttpMethod, request.method)
        _, headers, _ = self._signer.sign(str(request.url), http_method=method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request

    def secret_values(self) -> tuple[str, ...]:
        """The consumer and token keys and secrets."""
        return self._secrets


def canonical_query(url: httpx.URL) -> httpx.URL:
    """The URL with every query value percent-encoded (RFC 5849 §3.6).

    httpx leaves characters such as ``"`` raw in a query given as part of a URL string, and
    oauthlib refuses to sign those. Decoding and re-encoding keeps the values the server decodes
    identical, so the URL sent is exactly the one signed.
    """
    if not url.query:
        return url
    pairs = parse_qsl(url.query.decode(), keep_blank_values=True)
    return url.copy_with(query=urlencode(pairs, quote_via=quote, safe="~").encode())


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when to stop using it."""

    value: str
    refresh_at: float


class NetSuiteOAuth2Auth(NetSuiteAuth):
    """OAuth 2.0 client credentials with a signed JWT assertion (§7.2).

    The token is cached until five minutes before it expires (or half its lifetime, if shorter).
    Only one refresh runs at a time across every coroutine, event loop and thread: the first caller
    to find the token stale fetches a new one through its own auth flow; the others wait on a
    ``concurrent.futures.Future`` for it.

    Args:
        client_id: The integration record's client id (the JWT ``iss``).
        certificate_id: The certificate mapping's id (the JWT ``kid``).
        private_key: The key the certificate was made from.
        algorithm: ``PS256`` … ``ES512``.
        scopes: E.g. ``["rest_webservices"]``.
        token_url: ``<base_url>/auth/oauth2/v1/token`` (also the JWT ``aud``).
        clock: Wall-clock seconds; injectable for tests.
        on_call: Receives one ``CallRecord`` per token request.
    """

    def __init__(
        self,
        *,
        client_id: str,
        certificate_id: str,
        private_key: Any,
        algorithm: str,
        scopes: list[str],
        token_url: str,
        clock: Callable[[], float] = time.time,
        on_call: CallObserver | None = None,
    ) -> None:
        self._client_id, self._kid, self._key = client_id, certificate_id, private_key
        self._algorithm, self._scopes, self.token_url = algorithm, list(scopes), token_url
        self._clock, self._on_call = clock, on_call
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._refresh: Future[AccessToken | None] | None = None

    def assertion(self) -> str:
        """A freshly signed client assertion (never logged, never put in an error)."""
        now = int(self._clock())
        claims = {
            "iss": self._client_id,
            "scope": self._scopes,
            "aud": self.token_url,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
        }
        headers = {"kid": self._kid, "typ": "JWT"}
        return jwt.encode(claims, self._key, algorithm=self._algorithm, headers=headers)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token, fetching one first when none is fresh."""
        token: AccessToken | None = None
        while token is None:
            token, future, leader = self._claim()
            if leader and future is not None:
                started = time.monotonic()
                try:
                    response = yield self._token_request()
                    await response.aread()
                    token = self._accept(response, started)
                except Exception as exc:
                    self._settle(future, None, exc)
                    raise
                finally:
                    self._settle(future, token)
            elif future is not None:
                # Shielded: a cancelled waiter must not cancel the refresh others wait for.
                token = await asyncio.shield(asyncio.wrap_future(future))
        request.headers["Authorization"] = f"Bearer {token.value}"
        yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The same as ``async_auth_flow`` for a synchronous ``httpx.Client``."""
        token: AccessToken | None = None
        while token is None:
            token, future, leader = self._claim()
            if leader and future is not None:
                started = time.monotonic()
                try:
                    response = yield self._token_request()
                    response.read()
                    token = self._accept(response, started)
                except Exception as exc:
                    self._settle(future, None, exc)
                    raise
                finally:
                    self._settle(future, token)
            elif future is not None:
                token = future.result()
        request.headers["Authorization"] = f"Bearer {token.value}"
        yield request

    def invalidate(self, request: httpx.Request) -> None:
        """Drop the cached token if ``request`` carried it (so 401s in a burst refresh once)."""
        with self._lock:
            sent = request.headers.get("Authorization")
            if self._token is not None and sent == f"Bearer {self._token.value}":
                self._token = None

    def secret_values(self) -> tuple[str, ...]:
        """The current access token."""
        token = self._token
        return (token.value,) if token else ()

    def _claim(self) -> tuple[AccessToken | None, Future[AccessToken | None] | None, bool]:
        """``(fresh token, None, False)``, ``(None, refresh to wait for, False)`` or lead one."""
        with self._lock:
            if self._token is not None and self._clock() < self._token.refresh_at:
                return self._token, None, False
            if self._refresh is not None:
                return None, self._refresh, False
            self._refresh = Future()
            return None, self._refresh, True

    def _settle(
        self,
        future: Future[AccessToken | None],
        token: AccessToken | None,
        error: Exception | None = None,
    ) -> None:
        """End a refresh once, whoever ends it first.

        Waiters get the token or the endpoint's error; if the leader was cancelled instead, they
        get None and go round again (one of them leads).
        """
        with self._lock:
            if self._refresh is not future:
                return
            self._refresh = None
            if token is not None:
                self._token = token
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(token)

    def _token_request(self) -> httpx.Request:
        """The form POST of §7.2."""
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": models.CLIENT_ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        return httpx.Request(
            "POST", self.token_url, data=form, headers={"Accept": "application/json"}
        )

    def _accept(self, response: httpx.Response, started: float) -> AccessToken:
        """Record the call, then read the token or raise the endpoint's refusal."""
        self._record(response, started)
        if not response.is_success:
            raise token_error(response)
        data = _token_body(response)
        lifetime = parse_expires_in(data.get("expires_in"))
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 2)
        return AccessToken(str(data["access_token"]), self._clock() + lifetime - margin)

    def _record(self, response: httpx.Response, started: float) -> None:
        if self._on_call is not None:
            self._on_call(
                CallRecord(
                    system=SYSTEM,
                    method="POST",
                    path=response.request.url.path,
                    status=response.status_code,
                    duration_ms=round((time.monotonic() - started) * 1000, 3),
                    request_id=request_id_of(response),
                    extra={"operation": TOKEN_OPERATION},
                    request_body=TOKEN_ENDPOINT_BODY,  # the signed assertion: never kept
                    response_body=TOKEN_ENDPOINT_BODY,  # the access token: never kept
                )
            )


def _token_body(response: httpx.Response) -> dict[str, Any]:
    """``{"access_token", "expires_in", "token_type"}`` or ``UnexpectedResponseError``."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise UnexpectedResponseError(
            "NetSuite's token endpoint answered without an access_token",
            system=SYSTEM,
            operation=TOKEN_OPERATION,
            status=response.status_code,
        )
    return data


def parse_expires_in(value: object) -> float:
    """Seconds the token lives; a string or a number (§7.2, UNCONFIRMED); absent means 3600."""
    if value is None or value == "":
        return float(models.TOKEN_LIFETIME_SECONDS)
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise UnexpectedResponseError(
            f"NetSuite's token endpoint sent expires_in={value!r}",
            system=SYSTEM,
            operation=TOKEN_OPERATION,
        )
    return seconds


def token_error(response: httpx.Response) -> ConnectorError:
    """The endpoint's own words (``error``, ``error_description`` or RFC 7807 detail)."""
    status = response.status_code
    code, text = _oauth_error_text(response)
    message = f"NetSuite's token endpoint refused the client assertion: {status} {code}: {text}"
    cls: type[ConnectorError] = AuthError
    if status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = TransientError
    return cls(
        message,
        system=SYSTEM,
        operation=TOKEN_OPERATION,
        status=status,
        code=code,
        request_id=request_id_of(response),
    )


def _oauth_error_text(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        return str(data["error"]), str(data.get("error_description", ""))
    if isinstance(data, dict) and data.get("o:errorDetails"):
        first = models.ErrorBody.model_validate(data).details[0]
        return first.error_code or "-", first.detail
    return "-", body_snippet(response)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _require(settings: NetSuiteSettings, names: tuple[str, ...], mode: str) -> None:
    missing = [f"netsuite.{name}" for name in names if not getattr(settings, name)]
    if missing:
        raise ConfigError(f"NetSuite auth_mode={mode} needs {', '.join(missing)}")


def build_auth(
    settings: NetSuiteSettings, *, base_url: str, on_call: CallObserver | None = None
) -> NetSuiteAuth:
    """The auth scheme ``settings.auth_mode`` names, with its settings checked."""
    if settings.auth_mode == "tba":
        names = ("account", "consumer_key", "consumer_secret", "token_id", "token_secret")
        _require(settings, names, "tba")
        return NetSuiteTbaAuth(
            account=settings.account,
            consumer_key=settings.consumer_key,
            consumer_secret=_secret(settings.consumer_secret),
            token_id=settings.token_id,
            token_secret=_secret(settings.token_secret),
        )
    _require(settings, ("client_id", "certificate_id"), "oauth2")
    return NetSuiteOAuth2Auth(
        client_id=settings.client_id,
        certificate_id=settings.certificate_id,
        private_key=load_private_key(settings),
        algorithm=settings.jwt_algorithm,
        scopes=settings.scopes,
        token_url=base_url.rstrip("/") + models.TOKEN_PATH,
        on_call=on_call,
    )
