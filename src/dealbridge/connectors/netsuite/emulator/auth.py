"""Who may call: TBA (OAuth 1.0a, HMAC-SHA256) signatures and OAuth 2.0 bearer tokens.

Verification is real, not a header-present check, so a client that signs the wrong base string
fails here as it would against NetSuite (contracts §7, §10.1). Every failure answers the same
401 ``INVALID_LOGIN``: NetSuite never says why (the reason goes to its Login Audit Trail), so the
emulator keeps its reasons in :attr:`RequestAuthenticator.failures` for ``/__emulator__/stats``.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from oauthlib.oauth1.rfc5849 import signature, utils

from dealbridge.connectors.netsuite.emulator.credentials import TbaCredentials
from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.wire import ReceivedRequest
from dealbridge.connectors.netsuite.models import INVALID_LOGIN, INVALID_LOGIN_DETAIL

# §5 wording. O:section_156570709583 shows a longer text that continues "For more details, see
# the Login Audit Trail…"; clients match the code and this prefix, so the short form is sent.
LOGIN_DETAIL = INVALID_LOGIN_DETAIL
# Allowed clock skew is UNCONFIRMED (§7.1); 300 s is the common OAuth 1.0a server default.
TIMESTAMP_SKEW_SECONDS = 300
_NONCE = re.compile(r"^[A-Za-z0-9]{6,64}$")  # §7.1: 6-64 alphanumerics (O:section_4395630653)
_SIGNATURE_METHOD = "HMAC-SHA256"  # §7.1: SHA1 support ended in 2023.1


class AuthFailure(Exception):
    """Why a request was refused; kept in the emulator, never sent to the client."""


def login_problem(realm: str | None = None) -> NetSuiteProblem:
    """401 ``INVALID_LOGIN``; with a realm, the OAuth 2 ``WWW-Authenticate`` challenge (§5)."""
    challenge = f'Bearer realm="{realm}", error="invalid_token"'
    headers = {"WWW-Authenticate": challenge} if realm else {}
    return NetSuiteProblem(401, INVALID_LOGIN, LOGIN_DETAIL, headers=headers)


class NonceStore:
    """Nonces seen per token, forgotten once their timestamp could no longer pass anyway.

    A timestamp may be up to the skew in the future, so a nonce must be remembered for twice the
    skew. The store is bounded: past ``max_entries`` the oldest are dropped, and the timestamp
    check still stops replays of those.
    """

    def __init__(
        self,
        ttl_seconds: float = 2 * TIMESTAMP_SKEW_SECONDS,
        max_entries: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def claim(self, token: str, nonce: str) -> bool:
        """Record ``nonce`` for ``token``; False if it was already used."""
        now = self._clock()
        self._expire(now)
        key = (token, nonce)
        if key in self._seen:
            return False
        self._seen[key] = now + self._ttl
        if len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)

    def _expire(self, now: float) -> None:
        while self._seen:
            key, expiry = next(iter(self._seen.items()))
            if expiry > now:
                return
            del self._seen[key]


@dataclass(frozen=True)
class _Secrets:
    """The shape oauthlib's ``sign_*_with_client`` helpers read secrets from."""

    client_secret: str
    resource_owner_secret: str


class TbaVerifier:
    """Checks an ``Authorization: OAuth …`` header against the one registered token (§7.1)."""

    def __init__(
        self,
        credentials: TbaCredentials,
        realm: str,
        nonces: NonceStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = credentials
        self._realm = realm
        self._nonces = nonces
        self._clock = clock

    def verify(self, request: ReceivedRequest) -> None:
        """Accept the request or raise :class:`AuthFailure` with the reason."""
        params = oauth_parameters(request.authorization)
        self._check_realm(params)
        self._check_identity(params)
        self._check_timestamp(params)
        expected = expected_signature(request, self._credentials)
        if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
            raise AuthFailure("bad signature")
        # Claimed only after the signature passes, so a forger cannot burn real nonces.
        if not self._nonces.claim(params["oauth_token"], params["oauth_nonce"]):
            raise AuthFailure("nonce reused")

    def _check_realm(self, params: dict[str, str]) -> None:
        # §1: upper-case with underscore and case-sensitive, so compare exactly.
        if params.get("realm") != self._realm:
            raise AuthFailure("wrong realm")

    def _check_identity(self, params: dict[str, str]) -> None:
        if params.get("oauth_signature_method") != _SIGNATURE_METHOD:
            raise AuthFailure("signature method is not HMAC-SHA256")
        if params.get("oauth_version", "1.0") != "1.0":
            raise AuthFailure("oauth_version is not 1.0")
        if not _same(params.get("oauth_consumer_key"), self._credentials.consumer_key):
            raise AuthFailure("unknown consumer key")
        if not _same(params.get("oauth_token"), self._credentials.token_id):
            raise AuthFailure("unknown token")
        if not _NONCE.match(params.get("oauth_nonce", "")):
            raise AuthFailure("nonce missing or malformed")
        if "oauth_signature" not in params:
            raise AuthFailure("signature missing")

    def _check_timestamp(self, params: dict[str, str]) -> None:
        # NetSuite also wants each timestamp >= the token's previous one (§7.1). Not enforced:
        # concurrent requests signed a second apart may arrive out of order, and failing them
        # would make the emulator flaky rather than faithful. The nonce store stops replays.
        raw = params.get("oauth_timestamp", "")
        if not raw.isdigit():
            raise AuthFailure("timestamp missing or malformed")
        if abs(self._clock() - int(raw)) > TIMESTAMP_SKEW_SECONDS:
            raise AuthFailure("timestamp outside the allowed skew")


def oauth_parameters(authorization: str) -> dict[str, str]:
    """The parameters of an ``OAuth`` header, unescaped; duplicates are an error (RFC 5849 §3.5.1).

    Raises:
        AuthFailure: When the header is absent or malformed.
    """
    try:
        pairs = utils.parse_authorization_header(authorization)
    except ValueError as exc:
        raise AuthFailure("malformed OAuth header") from exc
    params = {name: utils.unescape(value) for name, value in pairs}
    if len(params) != len(pairs):
        raise AuthFailure("repeated OAuth parameter")
    return params


def expected_signature(request: ReceivedRequest, credentials: TbaCredentials) -> str:
    """HMAC-SHA256 over the RFC 5849 §3.4.1 base string of ``request`` as received.

    The base string takes the method, ``scheme://host[:port]/path`` (host lower-cased, default
    port dropped, per the ``Host`` header), every query parameter and every ``oauth_*`` header
    parameter except ``oauth_signature`` and ``realm``, so an ``oauth_body_hash`` added by
    authlib-based clients counts (§7.1). A JSON body does not.
    """
    try:
        params = signature.collect_parameters(
            uri_query=request.query, headers={"Authorization": request.authorization}
        )
        uri = signature.base_string_uri(request.url, request.host)
    except ValueError as exc:  # a query string no client library would have produced
        raise AuthFailure(f"unsignable request: {exc}") from exc
    # The stubs are narrower than oauthlib: normalize_parameters takes (and here needs) a list
    # of pairs, any method name is signed as sent, and the signer is simply untyped.
    normalized = signature.normalize_parameters(params)  # type: ignore[arg-type]
    base = signature.signature_base_string(request.method, uri, normalized)  # type: ignore[arg-type]
    secrets_ = _Secrets(credentials.consumer_secret, credentials.token_secret)
    return str(signature.sign_hmac_sha256_with_client(base, secrets_))  # type: ignore[no-untyped-call]


class BearerTokens:
    """Opaque OAuth 2.0 access tokens and their expiry (§7.2: 60 min, no refresh token)."""

    def __init__(
        self, max_tokens: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_tokens
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self, lifetime_seconds: float) -> str:
        """A new random token valid for ``lifetime_seconds`` (0 = already expired)."""
        now = self._clock()
        self._expiry = {token: when for token, when in self._expiry.items() if when > now}
        while len(self._expiry) >= self._max:
            del self._expiry[next(iter(self._expiry))]
        token = secrets.token_urlsafe(48)
        self._expiry[token] = now + lifetime_seconds
        return token

    def is_valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        expiry = self._expiry.get(token)
        return expiry is not None and self._clock() < expiry


class RequestAuthenticator:
    """Accepts a request signed with TBA or carrying a live bearer token."""

    def __init__(self, tba: TbaVerifier, tokens: BearerTokens, realm: str) -> None:
        self._tba = tba
        self._tokens = tokens
        self._realm = realm
        self.failures: Counter[str] = Counter()

    def authenticate(self, request: ReceivedRequest) -> None:
        """Return if the caller is known, else raise the 401 NetSuite sends.

        Raises:
            NetSuiteProblem: 401 ``INVALID_LOGIN`` (with a ``WWW-Authenticate`` challenge when
                a bearer token was refused).
        """
        scheme, _, credentials = request.authorization.partition(" ")
        bearer = scheme.lower() == "bearer"
        try:
            if bearer:
                self._check_bearer(credentials.strip())
            elif scheme.lower() == "oauth":
                self._tba.verify(request)
            else:
                raise AuthFailure("no supported Authorization header")
        except AuthFailure as failure:
            self.failures[str(failure)] += 1
            raise login_problem(self._realm if bearer else None) from failure

    def _check_bearer(self, token: str) -> None:
        if not self._tokens.is_valid(token):
            raise AuthFailure("unknown or expired bearer token")


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
