"""OAuth for the emulated org: the token endpoint's two grants and the sessions they open.

``POST /services/oauth2/token`` (contracts §2) takes

- the **JWT bearer** grant: an RS256 assertion verified against the app's certificate, with
  ``iss`` = consumer key, ``sub`` = the integration username, ``aud`` = this emulator or
  ``https://login|test.salesforce.com``, and ``exp`` in the future — as a number *or a numeric
  string*: Salesforce's own example and simple-salesforce send a string, which PyJWT's ``exp``
  check rejects, so expiry is checked here (§2.1);
- the **client credentials** grant, with ``client_id``/``client_secret`` in the body or as HTTP
  Basic (simple-salesforce) (§2).

Refusals: 400 ``invalid_grant`` "authentication failure" — Salesforce does not say which check
failed (the reason is kept in the stats, like its Login History), 400 ``invalid_client_id`` for
an unknown consumer key, ``invalid_client`` for bad client credentials, ``unsupported_grant_type``.

A session token works until it has been idle for the token lifetime (2 h by default, §2); the
control API can shorten the lifetime or end every session at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from dealbridge.connectors.salesforce.emulator.credentials import OrgCredentials
from dealbridge.connectors.salesforce.models import JWT_BEARER_GRANT

LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")  # §2
AUTH_FAILURE = "authentication failure"  # §2
SCOPE = "api id"  # §2 example; the app's selected scopes are not modelled
_TOKEN_ALPHABET = string.ascii_letters + string.digits + "._"


class OAuthError(Exception):
    """A token-endpoint refusal: ``{"error","error_description"}`` (§2).

    Args:
        error: OAuth error code.
        description: ``error_description`` as Salesforce words it.
        reason: Why, for ``/__emulator__/stats`` only (never sent).
        status: HTTP status (400; 401 for a bad client over Basic auth is UNCONFIRMED).
    """

    def __init__(self, error: str, description: str, reason: str, status: int = 400) -> None:
        super().__init__(error, description, reason, status)
        self.error = error
        self.description = description
        self.reason = reason
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON document to send."""
        return {"error": self.error, "error_description": self.description}


class SessionTokens:
    """Issued access tokens and when each was last used.

    Args:
        org_id: The org whose 15-character id starts every token (``00D…!AR…``, §2).
        lifetime: Idle seconds after which a token is dead (read at each check, so a change
            through the control API applies to tokens already issued).
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        org_id: str,
        lifetime: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = f"{org_id[:15]}!AR"
        self._lifetime = lifetime
        self._clock = clock
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        """A new session token."""
        token = self._prefix + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(96))
        with self._lock:
            self._last_used[token] = self._clock()
        return token

    def check(self, token: str) -> bool:
        """Whether ``token`` is alive; using it restarts its idle timer."""
        now = self._clock()
        with self._lock:
            last = self._last_used.get(token)
            if last is None or now - last > self._lifetime():
                self._last_used.pop(token, None)
                return False
            self._last_used[token] = now
        return True

    def expire_all(self) -> int:
        """End every session (the control API's forced expiry); returns how many."""
        with self._lock:
            count = len(self._last_used)
            self._last_used.clear()
        return count


def bearer_token(authorization: str) -> str | None:
    """The token of ``Authorization: Bearer <t>`` or the older ``OAuth <t>`` scheme (§1.7)."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


class TokenIssuer:
    """Grants tokens to the org's one External Client App.

    Args:
        credentials: The app and integration user.
        tokens: Where sessions are kept.
        instance_url: ``scheme://host:port`` of this emulator: the ``instance_url`` returned,
            and an accepted JWT audience besides login/test.salesforce.com.
    """

    def __init__(self, credentials: OrgCredentials, tokens: SessionTokens, instance_url: str):
        self._credentials = credentials
        self._key = credentials.public_key()
        self._tokens = tokens
        self._instance_url = instance_url
        self._audiences = frozenset({instance_url, *LOGIN_AUDIENCES})

    def grant(self, form: Mapping[str, str], authorization: str) -> dict[str, Any]:
        """The token response for a form-encoded token request, or raise :class:`OAuthError`."""
        grant_type = form.get("grant_type", "")
        if grant_type == JWT_BEARER_GRANT:
            self._verify_assertion(form.get("assertion", ""))
            return self._session_body()
        if grant_type == "client_credentials":
            self._verify_client(form, authorization)
            return self._client_credentials_body()
        raise OAuthError("unsupported_grant_type", "grant type not supported", grant_type)

    def _verify_assertion(self, assertion: str) -> None:
        claims = self._decode(assertion)
        if claims.get("iss") != self._credentials.consumer_key:
            raise OAuthError("invalid_client_id", "client identifier invalid", "iss")
        if claims.get("sub") != self._credentials.username:
            raise OAuthError("invalid_grant", AUTH_FAILURE, "sub")
        audiences = claims.get("aud")
        listed = audiences if isinstance(audiences, list) else [audiences]
        if not any(str(aud).rstrip("/") in self._audiences for aud in listed):
            raise OAuthError("invalid_grant", AUTH_FAILURE, "aud")
        _check_expiry(claims.get("exp"))

    def _decode(self, assertion: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self._key,
                algorithms=["RS256"],
                # exp may be a numeric string (§2.1), which PyJWT refuses: checked below.
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            raise OAuthError("invalid_grant", AUTH_FAILURE, "signature") from None
        except jwt.InvalidTokenError:
            raise OAuthError("invalid_grant", AUTH_FAILURE, "malformed assertion") from None
        return claims

    def _verify_client(self, form: Mapping[str, str], authorization: str) -> None:
        client_id, client_secret = _basic_credentials(authorization) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        known_id = hmac.compare_digest(client_id, self._credentials.consumer_key)
        known_secret = hmac.compare_digest(client_secret, self._credentials.client_secret)
        if not (known_id and known_secret):
            raise OAuthError("invalid_client", "invalid client credentials", "client credentials")

    def _session_body(self) -> dict[str, Any]:
        """The JWT bearer response (§2): no refresh token, no ``issued_at``/``signature``."""
        return {
            "access_token": self._tokens.issue(),
            "scope": SCOPE,
            "instance_url": self._instance_url,
            "id": self.identity_url(),
            "token_type": "Bearer",
        }

    def _client_credentials_body(self) -> dict[str, Any]:
        """The client-credentials response, with ``signature`` and ``issued_at`` (§2, [R22])."""
        issued_at = str(int(time.time() * 1000))
        identity = self.identity_url()
        digest = hmac.new(
            self._credentials.client_secret.encode(),
            (identity + issued_at).encode(),
            hashlib.sha256,
        ).digest()
        return {
            **self._session_body(),
            "signature": base64.b64encode(digest).decode(),
            "issued_at": issued_at,
        }

    def identity_url(self) -> str:
        """The identity URL of the integration user (``…/id/00D…/005…``)."""
        return f"{self._instance_url}/id/{self._credentials.org_id}/{self._credentials.user_id}"


def _check_expiry(exp: Any) -> None:
    """``exp`` is epoch seconds, a number or a numeric string, and must be in the future.

    How far ahead Salesforce lets ``exp`` lie (its docs say "within 3 minutes") is UNCONFIRMED
    (§2), so no upper bound is enforced.
    """
    try:
        expires = float(exp)
    except (TypeError, ValueError):
        raise OAuthError("invalid_grant", AUTH_FAILURE, "exp missing or not numeric") from None
    if expires <= time.time():
        raise OAuthError("invalid_grant", AUTH_FAILURE, "expired assertion")


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep else None
