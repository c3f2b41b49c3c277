"""The OAuth 2.0 client-credentials (M2M) token endpoint (contracts §7.2).

The client proves itself with a JWT signed by the key of a certificate it uploaded; the ``kid``
header names the certificate. Errors use the OAuth shape of RFC 6749 §5.2, not NetSuite's
RFC 7807 one: which ``error`` NetSuite picks for each fault is UNCONFIRMED, so the RFC's meanings
are used — ``invalid_request`` (malformed), ``unsupported_grant_type``, ``invalid_client`` (key,
algorithm, signature or issuer wrong: the client is not who it says), ``invalid_grant`` (audience
or lifetime wrong), ``invalid_scope``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from dealbridge.connectors.netsuite.models import (
    CLIENT_ASSERTION_TYPE,
    OAUTH2_ALGORITHMS,
    OAUTH2_MAX_ASSERTION_SECONDS,
)

REQUIRED_SCOPE = "rest_webservices"  # §7.2
_CURVE_ALGORITHM = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_RSA_ALGORITHMS = frozenset({"PS256", "PS384", "PS512"})  # §7.2 lists no RS* algorithm


class OAuthError(Exception):
    """A token-endpoint refusal (RFC 6749 §5.2).

    Args:
        status: 400, or 401 for ``invalid_client``.
        error: The RFC 6749 error code.
        description: ``error_description``: says what was wrong, to help whoever debugs a client.
    """

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(status, error, description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON document to send."""
        return {"error": self.error, "error_description": self.description}


def parse_form(raw: bytes, content_type: str) -> dict[str, str]:
    """Decode an ``application/x-www-form-urlencoded`` token request.

    Raises:
        OAuthError: ``invalid_request`` for another media type, bad bytes or a repeated
            parameter (RFC 6749 §3.2: parameters must not repeat).
    """
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise OAuthError(
            400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded."
        )
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except ValueError as exc:
        raise OAuthError(400, "invalid_request", "The body is not form-encoded.") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OAuthError(400, "invalid_request", "A parameter is repeated.")
    return form


class ClientAssertionVerifier:
    """Checks a client-credentials token request against the registered client.

    Args:
        client_id: The integration record's client id; the assertion's ``iss``.
        public_keys: Certificate id (``kid``) → public key of each uploaded certificate.
        canonical_token_url: ``https://<host label>.suitetalk.api.netsuite.com/…/token``, always
            accepted as ``aud`` besides the URL the request actually reached.
    """

    def __init__(
        self, client_id: str, public_keys: Mapping[str, PublicKeyTypes], canonical_token_url: str
    ) -> None:
        self._client_id = client_id
        self._keys = dict(public_keys)
        self._canonical = canonical_token_url

    def verify(self, form: Mapping[str, str], *, token_url: str) -> None:
        """Accept the request or raise :class:`OAuthError`."""
        assertion = _assertion_of(form)
        key, algorithm = self._key_for(assertion)
        claims = self._decode(assertion, key, algorithm, token_url)
        _check_lifetime(claims)
        _check_scope(claims.get("scope"))

    def _key_for(self, assertion: str) -> tuple[PublicKeyTypes, str]:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.DecodeError as exc:
            raise OAuthError(400, "invalid_request", "client_assertion is not a JWT.") from exc
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise OAuthError(401, "invalid_client", "No certificate matches the JWT kid.")
        algorithm = str(header.get("alg"))
        if algorithm not in _algorithms_for(key):
            raise OAuthError(
                401, "invalid_client", f"Algorithm {algorithm} does not fit the certificate's key."
            )
        return key, algorithm

    def _decode(
        self, assertion: str, key: PublicKeyTypes, algorithm: str, token_url: str
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key,  # type: ignore[arg-type]  # narrowed to RSA/EC by _algorithms_for
                algorithms=[algorithm],
                audience=[token_url, self._canonical],
                issuer=self._client_id,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except (jwt.InvalidSignatureError, jwt.InvalidIssuerError) as exc:
            raise OAuthError(401, "invalid_client", str(exc)) from exc
        except jwt.DecodeError as exc:
            raise OAuthError(400, "invalid_request", str(exc)) from exc
        except jwt.InvalidTokenError as exc:  # audience, expiry, iat, missing claims
            raise OAuthError(400, "invalid_grant", str(exc)) from exc
        return claims


def _assertion_of(form: Mapping[str, str]) -> str:
    if form.get("grant_type") != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise OAuthError(
            400, "invalid_request", f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}."
        )
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise OAuthError(400, "invalid_request", "client_assertion is missing.")
    return assertion


def _algorithms_for(key: PublicKeyTypes) -> frozenset[str]:
    """The JWT algorithms a key can verify: PS* for RSA, the curve's own ES* for EC."""
    if isinstance(key, rsa.RSAPublicKey):
        allowed = _RSA_ALGORITHMS
    elif isinstance(key, ec.EllipticCurvePublicKey):
        allowed = frozenset({_CURVE_ALGORITHM.get(key.curve.name, "")})
    else:
        allowed = frozenset()
    return allowed & frozenset(OAUTH2_ALGORITHMS)


def _check_lifetime(claims: Mapping[str, Any]) -> None:
    # §7.2: exp - iat must stay within 60 minutes.
    if float(claims["exp"]) - float(claims["iat"]) > OAUTH2_MAX_ASSERTION_SECONDS:
        raise OAuthError(
            400, "invalid_grant", f"exp - iat exceeds {OAUTH2_MAX_ASSERTION_SECONDS} seconds."
        )


def _check_scope(scope: object) -> None:
    # Oracle's sample sends a list; a space-separated string (RFC 6749 §3.3) is accepted too.
    if isinstance(scope, str):
        scopes: Sequence[object] = scope.split()
    elif isinstance(scope, list):
        scopes = scope
    else:
        scopes = []
    if REQUIRED_SCOPE not in scopes:
        raise OAuthError(400, "invalid_scope", f"scope must include {REQUIRED_SCOPE}.")
