"""The emulator's authentication: TBA signatures, nonces, bearer tokens, client assertions.

Requests are signed by oauthlib's own Client and assertions by PyJWT, never by the code under
test, so a mistake in the verifier cannot cancel out a mistake in the signer.
"""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client

from dealbridge.connectors.netsuite.emulator.auth import (
    AuthFailure,
    BearerTokens,
    NonceStore,
    RequestAuthenticator,
    TbaVerifier,
)
from dealbridge.connectors.netsuite.emulator.credentials import (
    CREDENTIALS_FILE,
    Credentials,
    TbaCredentials,
    load_or_create_credentials,
)
from dealbridge.connectors.netsuite.emulator.oauth2 import (
    ClientAssertionVerifier,
    OAuthError,
    parse_form,
)
from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.wire import ReceivedRequest
from dealbridge.connectors.netsuite.models import CLIENT_ASSERTION_TYPE

REALM = "1234567_SB1"
TBA = TbaCredentials(
    consumer_key="ck" * 8, consumer_secret="cs&%" * 4, token_id="tk" * 8, token_secret="ts=+" * 4
)
TOKEN_URL = "http://127.0.0.1:8702/services/rest/auth/oauth2/v1/token"
NOW = int(time.time())
CANONICAL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def signed(
    url: str,
    method: str = "GET",
    *,
    realm: str = REALM,
    body: str | None = None,
    host: str | None = None,
    **client_options: Any,
) -> ReceivedRequest:
    """A request as oauthlib would send it, as the emulator would receive it."""
    options: dict[str, Any] = {
        "client_secret": TBA.consumer_secret,
        "resource_owner_key": TBA.token_id,
        "resource_owner_secret": TBA.token_secret,
        "signature_method": SIGNATURE_HMAC_SHA256,
        "realm": realm,
        **client_options,
    }
    client = Client(options.pop("client_key", TBA.consumer_key), **options)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    uri, headers, _ = client.sign(url, http_method=method, body=body, headers=headers)
    parts = urlsplit(uri)
    return ReceivedRequest(
        method=method,
        scheme=parts.scheme,
        host=host or parts.netloc,
        path=parts.path,
        query=parts.query,
        authorization=headers["Authorization"],
    )


def verifier(clock: FakeClock | None = None, nonces: NonceStore | None = None) -> TbaVerifier:
    return TbaVerifier(TBA, REALM, nonces or NonceStore(), clock=clock or FakeClock(time.time()))


URL = "http://127.0.0.1:8702/services/rest/record/v1/customer"


def test_tba_accepts_oauthlib_signatures_with_query_parameters() -> None:
    request = signed(URL + "?q=companyName%20IS%20%22A%20%26%20B%22&limit=5&offset=0")
    verifier().verify(request)


def test_tba_accepts_a_signed_body_hash_as_authlib_clients_send_it() -> None:
    request = signed(URL, "POST", body='{"companyName": "Acme"}')
    assert "oauth_body_hash" in request.authorization
    verifier().verify(request)


def test_tba_base_string_uses_the_host_header_lower_cased_without_default_port() -> None:
    request = signed(
        "http://emulator.example/services/rest/record/v1/customer", host="EMULATOR.example:80"
    )
    verifier().verify(request)


def test_tba_refuses_a_tampered_body_hash() -> None:
    request = signed(URL, "POST", body='{"companyName": "Acme"}')
    tampered = request.authorization.replace('oauth_body_hash="', 'oauth_body_hash="x')
    with pytest.raises(AuthFailure, match="bad signature"):
        verifier().verify(ReceivedRequest(**{**request.__dict__, "authorization": tampered}))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"resource_owner_secret": "wrong"}, "bad signature"),
        ({"client_secret": "wrong"}, "bad signature"),
        ({"realm": "1234567_sb1"}, "wrong realm"),
        ({"realm": "1234567-SB1"}, "wrong realm"),
        ({"signature_method": SIGNATURE_HMAC_SHA1}, "HMAC-SHA256"),
        ({"client_key": "unknown"}, "unknown consumer key"),
        ({"resource_owner_key": "unknown"}, "unknown token"),
        ({"nonce": "abc"}, "nonce"),
    ],
)
def test_tba_refuses_bad_credentials(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(AuthFailure, match=reason):
        verifier().verify(signed(URL, **change))


def test_tba_refuses_a_signature_for_another_path_or_method() -> None:
    request = signed(URL)
    with pytest.raises(AuthFailure, match="bad signature"):
        verifier().verify(ReceivedRequest(**{**request.__dict__, "path": request.path + "/1"}))
    with pytest.raises(AuthFailure, match="bad signature"):
        verifier().verify(ReceivedRequest(**{**request.__dict__, "method": "DELETE"}))


def test_tba_refuses_a_reused_nonce_for_the_same_token() -> None:
    tba = verifier()
    request = signed(URL, nonce="abcdef123456")
    tba.verify(request)
    with pytest.raises(AuthFailure, match="nonce reused"):
        tba.verify(request)


@pytest.mark.parametrize("offset", [-301, 301])
def test_tba_refuses_timestamps_outside_the_skew(offset: int) -> None:
    clock = FakeClock(time.time())
    request = signed(URL, timestamp=str(int(clock.now) + offset))
    with pytest.raises(AuthFailure, match="timestamp"):
        verifier(clock).verify(request)


def test_tba_refuses_a_malformed_header() -> None:
    request = ReceivedRequest("GET", "http", "h", "/p", "", 'OAuth realm="x" junk')
    with pytest.raises(AuthFailure):
        verifier().verify(request)


def test_nonce_store_forgets_after_its_ttl_and_stays_bounded() -> None:
    clock = FakeClock(0.0)
    store = NonceStore(ttl_seconds=10, max_entries=3, clock=clock)
    assert store.claim("t", "n1")
    assert not store.claim("t", "n1")
    assert store.claim("other-token", "n1")
    clock.now = 11.0
    assert store.claim("t", "n1")
    for index in range(10):
        store.claim("t", f"x{index}")
    assert len(store) == 3


def test_bearer_tokens_expire_and_zero_lifetime_is_already_expired() -> None:
    clock = FakeClock(100.0)
    tokens = BearerTokens(max_tokens=2, clock=clock)
    token = tokens.issue(60)
    assert tokens.is_valid(token)
    assert not tokens.is_valid(tokens.issue(0))
    assert not tokens.is_valid("never-issued")
    clock.now = 160.0
    assert not tokens.is_valid(token)


def test_authenticator_answers_every_failure_with_netsuite_invalid_login() -> None:
    tokens = BearerTokens()
    authenticator = RequestAuthenticator(verifier(), tokens, REALM)
    good = tokens.issue(60)
    base = ReceivedRequest("GET", "http", "h", "/p", "", "")
    authenticator.authenticate(
        ReceivedRequest(**{**base.__dict__, "authorization": f"Bearer {good}"})
    )
    with pytest.raises(NetSuiteProblem) as missing:
        authenticator.authenticate(base)
    assert (missing.value.status, missing.value.code) == (401, "INVALID_LOGIN")
    assert "WWW-Authenticate" not in missing.value.headers
    with pytest.raises(NetSuiteProblem) as bearer:
        authenticator.authenticate(
            ReceivedRequest(**{**base.__dict__, "authorization": "Bearer nope"})
        )
    assert bearer.value.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}", error="invalid_token"'
    )
    assert bearer.value.body()["o:errorDetails"][0]["detail"] == "Invalid login attempt."
    assert authenticator.failures == {
        "no supported Authorization header": 1,
        "unknown or expired bearer token": 1,
    }


# --- OAuth 2.0 client credentials -------------------------------------------------------------


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return load_or_create_credentials(tmp_path_factory.mktemp("ns-state"))


def assertion(
    credentials: Credentials,
    algorithm: str = "PS256",
    *,
    key_of: str | None = None,
    kid_of: str | None = None,
    kid: str | None = None,
    **changes: Any,
) -> str:
    """A client assertion; ``key_of``/``kid_of`` pick the signing key / the ``kid`` by algorithm."""
    signer = credentials.certificate_for(key_of or algorithm)
    now = int(time.time())
    claims = {
        "iss": credentials.client_id,
        "scope": ["rest_webservices"],
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 3600,
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    kid = kid or credentials.certificate_for(kid_of or key_of or algorithm).certificate_id
    key = Path(signer.private_key_pem).read_bytes()
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})


def form(token: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": token,
    }


def assertions(credentials: Credentials) -> ClientAssertionVerifier:
    return ClientAssertionVerifier(credentials.client_id, credentials.public_keys(), CANONICAL)


@pytest.mark.parametrize("algorithm", ["PS256", "ES256"])
def test_client_assertions_signed_by_either_certificate_pass(
    credentials: Credentials, algorithm: str
) -> None:
    assertions(credentials).verify(form(assertion(credentials, algorithm)), token_url=TOKEN_URL)


def test_the_canonical_netsuite_token_url_is_a_valid_audience(credentials: Credentials) -> None:
    token = assertion(credentials, aud=CANONICAL, scope="restlets rest_webservices")
    assertions(credentials).verify(form(token), token_url=TOKEN_URL)


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"kid": "no-such-certificate"}, 401, "invalid_client"),
        ({"kid_of": "ES256"}, 401, "invalid_client"),  # PS256 claimed for the EC certificate
        ({"algorithm": "RS256", "key_of": "PS256"}, 401, "invalid_client"),
        ({"iss": "someone-else"}, 401, "invalid_client"),
        ({"aud": "https://elsewhere.example/token"}, 400, "invalid_grant"),
        ({"iat": NOW, "exp": NOW + 3601}, 400, "invalid_grant"),
        ({"iat": NOW - 7200, "exp": NOW - 3600}, 400, "invalid_grant"),
        ({"exp": None}, 400, "invalid_grant"),
        ({"scope": ["restlets"]}, 400, "invalid_scope"),
        ({"scope": None}, 400, "invalid_scope"),
    ],
)
def test_bad_client_assertions_are_refused(
    credentials: Credentials, changes: dict[str, Any], status: int, error: str
) -> None:
    changes = dict(changes)
    token = assertion(credentials, changes.pop("algorithm", "PS256"), **changes)
    with pytest.raises(OAuthError) as refused:
        assertions(credentials).verify(form(token), token_url=TOKEN_URL)
    assert (refused.value.status, refused.value.error) == (status, error)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("grant_type", "password", "unsupported_grant_type"),
        ("client_assertion_type", "urn:other", "invalid_request"),
        ("client_assertion", "", "invalid_request"),
        ("client_assertion", "not.a.jwt", "invalid_request"),
    ],
)
def test_malformed_token_requests_are_refused(
    credentials: Credentials, field: str, value: str, error: str
) -> None:
    request = {**form(assertion(credentials)), field: value}
    with pytest.raises(OAuthError) as refused:
        assertions(credentials).verify(request, token_url=TOKEN_URL)
    assert refused.value.error == error
    assert refused.value.body()["error"] == error


def test_token_form_must_be_form_encoded_without_repeats() -> None:
    assert parse_form(b"a=1&b=x%20y", "application/x-www-form-urlencoded; charset=utf-8") == {
        "a": "1",
        "b": "x y",
    }
    with pytest.raises(OAuthError, match="invalid_request"):
        parse_form(b"a=1&a=2", "application/x-www-form-urlencoded")
    with pytest.raises(OAuthError, match="invalid_request"):
        parse_form(b'{"a": 1}', "application/json")


def test_credentials_persist_per_state_dir_with_private_files(tmp_path: Path) -> None:
    first = load_or_create_credentials(tmp_path)
    again = load_or_create_credentials(tmp_path)
    assert again == first
    assert {cert.algorithm for cert in first.certificates} == {"PS256", "ES256"}
    for path in [
        tmp_path / CREDENTIALS_FILE,
        *(Path(c.private_key_pem) for c in first.certificates),
    ]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads((tmp_path / CREDENTIALS_FILE).read_text())["client_id"] == first.client_id
    assert load_or_create_credentials(tmp_path / "other") != first
