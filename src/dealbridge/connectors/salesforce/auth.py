"""Salesforce OAuth 2.0: the JWT bearer flow and client credentials (contracts/salesforce.md §2).

Neither flow issues a refresh token, so a token is used until a REST call answers 401
``INVALID_SESSION_ID``; then that token (and only that one) is dropped and the next caller fetches
a new one. One fetch runs at a time across every coroutine, event loop and thread sharing this
object: the first caller to find no token leads, the others wait on a
``concurrent.futures.Future`` (loop-agnostic, unlike an asyncio primitive).

Why not ``httpx.Auth``: the token response also says *where* the org lives (``instance_url``), so
the token decides the request URL, not just a header; the dispatcher asks for the token first and
builds the request from it.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import structlog
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.errors import SYSTEM, body_snippet, error_from_exception
from dealbridge.core.calls import TOKEN_ENDPOINT_BODY, CallObserver, CallRecord, redact_text
from dealbridge.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    DealbridgeError,
    RateLimitedError,
    TransientError,
    UnexpectedResponseError,
)
from dealbridge.settings import SalesforceSettings

ASSERTION_LIFETIME_SECONDS = 180  # §2: the accepted window is a few minutes (UNCONFIRMED exactly)
TOKEN_OPERATION = "POST oauth2/token"  # noqa: S105 - an operation name, not a secret

_log = structlog.get_logger("dealbridge.salesforce")


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and the org's REST host it is good for."""

    value: str = field(repr=False)
    instance_url: str


class SalesforceAuth:
    """Fetches, caches and drops access tokens for one org.

    Args:
        settings: ``auth_mode`` and its credentials, ``login_url``, ``instance_url``.
        clock: Wall-clock seconds for the JWT ``exp``; injectable for tests.
        on_call: Receives one ``CallRecord`` per token request (never a body).

    Raises:
        ConfigError: A credential the chosen mode needs is missing or unusable.
    """

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        clock: Callable[[], float] = time.time,
        on_call: CallObserver | None = None,
    ) -> None:
        self._settings, self._clock, self._on_call = settings, clock, on_call
        self.token_url = settings.login_url.rstrip("/") + models.TOKEN_PATH
        self._key = load_signing_key(settings) if settings.auth_mode == "jwt" else None
        _require_credentials(settings)
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._pending: Future[AccessToken | None] | None = None
        self._last_assertion = ""

    async def token(self, http: httpx.AsyncClient) -> AccessToken:
        """The cached token, or a new one fetched through ``http`` (one fetch at a time)."""
        while True:
            claim = self._claim()
            if isinstance(claim, AccessToken):
                return claim
            pending, leader = claim
            if leader:
                return await self._lead(http, pending)
            # Shielded: a cancelled waiter must not cancel the fetch others wait for.
            result = await asyncio.shield(asyncio.wrap_future(pending))
            if result is not None:
                return result

    def invalidate(self, token: AccessToken) -> None:
        """Drop ``token`` after a 401, unless another caller already replaced it."""
        with self._lock:
            if self._token is not None and self._token.value == token.value:
                self._token = None

    def secret_values(self) -> tuple[str, ...]:
        """Values to mask wherever text from a call is recorded."""
        secret = self._settings.client_secret
        token = self._token
        values = (
            token.value if token else "",
            secret.get_secret_value() if secret else "",
            self._last_assertion,
        )
        return tuple(value for value in values if value)

    def assertion(self) -> str:
        """A freshly signed JWT bearer assertion (§2); never logged, never put in an error."""
        settings = self._settings
        if self._key is None:
            raise ConfigError("the JWT bearer assertion needs salesforce.auth_mode=jwt and a key")
        claims = {
            "iss": settings.consumer_key,
            "sub": settings.username,
            "aud": (settings.audience or settings.login_url).rstrip("/"),
            "exp": int(self._clock()) + ASSERTION_LIFETIME_SECONDS,  # a number; §2 allows strings
        }
        self._last_assertion = jwt.encode(claims, self._key, algorithm="RS256")
        return self._last_assertion

    def token_request(self) -> httpx.Request:
        """The form POST of the configured flow (§2)."""
        settings = self._settings
        if settings.auth_mode == "jwt":
            form = {"grant_type": models.JWT_BEARER_GRANT, "assertion": self.assertion()}
        else:
            secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
            form = {
                "grant_type": models.CLIENT_CREDENTIALS_GRANT,
                "client_id": settings.client_id,
                "client_secret": secret,
            }
        headers = {"Accept": "application/json"}
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _claim(self) -> AccessToken | tuple[Future[AccessToken | None], bool]:
        """The cached token, or the fetch to join and whether this caller leads it."""
        with self._lock:
            if self._token is not None:
                return self._token
            if self._pending is not None:
                return self._pending, False
            self._pending = Future()
            return self._pending, True

    async def _lead(
        self, http: httpx.AsyncClient, pending: Future[AccessToken | None]
    ) -> AccessToken:
        """Fetch for everyone; waiters get the token, the endpoint's error, or None to retry."""
        token: AccessToken | None = None
        try:
            token = await self._fetch(http)
            return token
        except DealbridgeError as error:
            self._settle(pending, None, error)
            raise
        finally:
            self._settle(pending, token)  # after a cancellation: waiters go round again

    def _settle(
        self,
        pending: Future[AccessToken | None],
        token: AccessToken | None,
        error: Exception | None = None,
    ) -> None:
        with self._lock:
            if self._pending is not pending:
                return
            self._pending = None
            if token is not None:
                self._token = token
        if error is not None:
            pending.set_exception(error)
        else:
            pending.set_result(token)

    async def _fetch(self, http: httpx.AsyncClient) -> AccessToken:
        request = self.token_request()
        started = time.monotonic()
        try:
            response = await http.send(request)
        except httpx.HTTPError as exc:
            self._record(None, started)
            raise error_from_exception(exc, TOKEN_OPERATION) from exc
        self._record(response, started)
        return self._accept(response)

    def _accept(self, response: httpx.Response) -> AccessToken:
        """Read the token and instance URL, or raise the endpoint's refusal."""
        if not response.is_success:
            raise token_error(response, self.secret_values())
        data = _json_object(response)
        value = data.get("access_token")
        instance_url = self._settings.instance_url or data.get("instance_url")
        if not isinstance(value, str) or not value or not isinstance(instance_url, str):
            raise UnexpectedResponseError(
                "Salesforce's token endpoint answered without an access_token and instance_url",
                system=SYSTEM,
                operation=TOKEN_OPERATION,
                status=response.status_code,
            )
        return AccessToken(value, instance_url.rstrip("/"))

    def _record(self, response: httpx.Response | None, started: float) -> None:
        if self._on_call is None:
            return
        record = CallRecord(
            system=SYSTEM,
            method="POST",
            path=models.TOKEN_PATH,
            status=response.status_code if response is not None else None,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
            extra={"operation": TOKEN_OPERATION, "grant": self._settings.auth_mode},
            request_body=TOKEN_ENDPOINT_BODY,  # assertions and client secrets: never kept
            response_body=TOKEN_ENDPOINT_BODY if response is not None else None,
        )
        try:
            self._on_call(record)
        except Exception:  # an observer must never break a sync
            _log.exception("call_observer_failed", operation=TOKEN_OPERATION)


def token_error(response: httpx.Response, secrets: tuple[str, ...] = ()) -> ConnectorError:
    """``{"error", "error_description"}`` (§2) as an error naming both, and nothing secret."""
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        code = str(data["error"])
        text = redact_text(str(data.get("error_description", "")), secrets)
    else:
        code, text = "-", body_snippet(response, secrets)
    cls: type[ConnectorError] = AuthError
    if status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = TransientError
    return cls(
        f"Salesforce's token endpoint refused the request: {status} {code}: {text}",
        system=SYSTEM,
        operation=TOKEN_OPERATION,
        status=status,
        code=code,
        user_message=f"Salesforce refused dealbridge's login ({code}: {text}).",
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


def load_signing_key(settings: SalesforceSettings) -> rsa.RSAPrivateKey:
    """The RS256 key of the JWT bearer flow (§2), checked without ever echoing key material.

    Raises:
        ConfigError: Naming the setting that is missing or does not hold an RSA PEM key.
    """
    pem = settings.private_key.get_secret_value() if settings.private_key else ""
    setting = "private_key"
    if not pem and settings.private_key_file:
        setting, pem = "private_key_file", _read(settings.private_key_file)
    if not pem.strip():
        raise ConfigError(
            "Salesforce JWT bearer auth needs salesforce.private_key or "
            "salesforce.private_key_file (DEALBRIDGE_SALESFORCE__PRIVATE_KEY[_FILE])"
        )
    try:
        key = _parse_pem(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # No exception chaining: the parser's message could quote key material.
        raise ConfigError(
            f"salesforce.{setting} is not a PEM private key without a passphrase"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"salesforce.{setting} must be an RSA key (the JWT flow signs RS256)")
    return key


@functools.lru_cache(maxsize=8)
def _parse_pem(pem: str) -> Any:
    """Parsing checks the RSA key's consistency (~0.1 s); clients of one org share the result."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read salesforce.private_key_file {path}: {exc}") from exc


def _require_credentials(settings: SalesforceSettings) -> None:
    """Name every missing setting of the chosen flow at once."""
    if settings.auth_mode == "jwt":
        names = ("consumer_key", "username")
    else:
        names = ("client_id", "client_secret")
    missing = [f"salesforce.{name}" for name in names if not getattr(settings, name)]
    if missing:
        raise ConfigError(f"Salesforce auth_mode={settings.auth_mode} needs {', '.join(missing)}")
