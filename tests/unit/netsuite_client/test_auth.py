"""TBA signatures (checked by oauthlib's own verifier) and OAuth 2.0 assertions and tokens."""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature

from dealbridge.connectors.netsuite import models
from dealbridge.connectors.netsuite.auth import (
    NetSuiteOAuth2Auth,
    NetSuiteTbaAuth,
    build_auth,
    parse_expires_in,
)
from dealbridge.errors import AuthError, ConfigError, TransientError, UnexpectedResponseError
from tests.unit.netsuite_client.conftest import (
    ACCOUNT,
    BASE,
    TBA_SECRETS,
    FakeNetSuite,
    make_harness,
    oauth2_settings,
    problem,
    tba_settings,
)

TOKEN_URL = BASE + models.TOKEN_PATH


def tba_auth() -> NetSuiteTbaAuth:
    return NetSuiteTbaAuth(account=ACCOUNT, **TBA_SECRETS)


def signed(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    flow = auth.sync_auth_flow(request)
    return next(flow)


def verify_tba(request: httpx.Request, consumer_secret: str, token_secret: str) -> bool:
    """What a NetSuite server does: rebuild the base string from the request and compare."""
    header = request.headers["Authorization"]
    oauth_request = OAuthRequest(
        str(request.url), request.method, headers={"Authorization": header}
    )
    params = signature.collect_parameters(
        uri_query=request.url.query.decode(),
        headers={"Authorization": header},
        exclude_oauth_signature=True,
        with_realm=False,
    )
    oauth_request.params = params
    oauth_request.signature = oauth_params(request)["oauth_signature"]
    return signature.verify_hmac_sha256(oauth_request, consumer_secret, token_secret)


def oauth_params(request: httpx.Request) -> dict[str, str]:
    header = {"Authorization": request.headers["Authorization"]}
    collected = signature.collect_parameters(
        headers=header, with_realm=True, exclude_oauth_signature=False
    )
    return dict(collected)


# -- TBA (contracts §7.1) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f'{BASE}/record/v1/customer?q=email START_WITH "barbara"&limit=2', None),
        ("GET", f"{BASE}/record/v1/customer?q=a+b%2Bc&flag", None),
        ("PUT", f"{BASE}/record/v1/customer/eid:SFACC-1?replace=addressBook", {"a": "b"}),
        ("POST", f"{BASE}/query/v1/suiteql?limit=1000&offset=0", {"q": "SELECT id FROM x"}),
    ],
)
def test_tba_signature_verifies_with_oauthlib(method: str, url: str, body: Any) -> None:
    request = signed(tba_auth(), httpx.Request(method, url, json=body))

    assert verify_tba(request, TBA_SECRETS["consumer_secret"], TBA_SECRETS["token_secret"])
    assert not verify_tba(request, TBA_SECRETS["consumer_secret"], "wrong-secret")


def test_tba_signed_url_keeps_the_query_values() -> None:
    url = f'{BASE}/record/v1/customer?q=email START_WITH "b+c"&limit=2'
    original = dict(httpx.Request("GET", url).url.params)
    request = signed(tba_auth(), httpx.Request("GET", url))
    assert dict(request.url.params) == original
    assert b'"' not in request.url.query


def test_tba_header_carries_realm_and_hmac_sha256() -> None:
    request = signed(tba_auth(), httpx.Request("GET", f"{BASE}/record/v1/customer/1"))
    header = request.headers["Authorization"]
    params = oauth_params(request)

    assert header.startswith('OAuth realm="1234567_SB1"')
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_consumer_key"] == TBA_SECRETS["consumer_key"]
    assert params["oauth_token"] == TBA_SECRETS["token_id"]
    assert len(params["oauth_nonce"]) >= 6


def test_tba_body_is_not_signed() -> None:
    auth = tba_auth()
    request = signed(auth, httpx.Request("POST", f"{BASE}/record/v1/customer", json={"a": 1}))
    request.stream = httpx.ByteStream(b'{"a": 2}')  # another body: the signature still holds

    assert verify_tba(request, TBA_SECRETS["consumer_secret"], TBA_SECRETS["token_secret"])
    assert "oauth_body_hash" not in oauth_params(request)


def test_tba_fresh_nonce_every_request() -> None:
    auth = tba_auth()
    nonces = {
        oauth_params(signed(auth, httpx.Request("GET", f"{BASE}/record/v1/customer/1")))[
            "oauth_nonce"
        ]
        for _ in range(5)
    }
    assert len(nonces) == 5


@pytest.mark.anyio
async def test_tba_retry_is_signed_afresh() -> None:
    harness = make_harness(tba_settings())
    harness.fake.queue(problem(503, "UNEXPECTED_ERROR"), problem(503, "UNEXPECTED_ERROR"))
    async with harness.client as client:
        await client.upsert("customer", "SFACC-1", {"companyName": "Acme"})

    nonces = [oauth_params(request)["oauth_nonce"] for request in harness.fake.requests]
    assert len(nonces) == 3
    assert len(set(nonces)) == 3
    for request in harness.fake.requests:
        assert verify_tba(request, TBA_SECRETS["consumer_secret"], TBA_SECRETS["token_secret"])


def test_tba_missing_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"netsuite\.token_secret"):
        build_auth(tba_settings(token_secret=None), base_url=BASE)


# -- OAuth 2.0 client credentials (contracts §7.2) ---------------------------------------------


def oauth2_auth(
    key: Any, fake: FakeNetSuite, clock: list[float], **kwargs: Any
) -> NetSuiteOAuth2Auth:
    del fake
    options: dict[str, Any] = {
        "client_id": "client-abc",
        "certificate_id": "cert-xyz",
        "private_key": key,
        "algorithm": "PS256",
        "scopes": ["rest_webservices"],
        "token_url": TOKEN_URL,
        "clock": lambda: clock[0],
    }
    options.update(kwargs)
    return NetSuiteOAuth2Auth(**options)


def assertion_of(token_request: httpx.Request) -> str:
    form = parse_qs(token_request.content.decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [models.CLIENT_ASSERTION_TYPE]
    return form["client_assertion"][0]


@pytest.mark.parametrize(("algorithm", "key_fixture"), [("PS256", "rsa_key"), ("ES256", "ec_key")])
@pytest.mark.anyio
async def test_oauth2_assertion_is_signed_as_netsuite_requires(
    algorithm: str, key_fixture: str, request: pytest.FixtureRequest
) -> None:
    key = request.getfixturevalue(key_fixture)
    fake = FakeNetSuite(default=httpx.Response(200, json={"id": "107"}))
    settings = oauth2_settings(
        key, jwt_algorithm=algorithm, scopes=["rest_webservices", "restlets"]
    )
    harness = make_harness(settings, fake)
    async with harness.client as client:
        await client.get("customer", "107")

    token_request = fake.token_requests[0]
    assert str(token_request.url) == TOKEN_URL
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assertion = assertion_of(token_request)
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, key.public_key(), algorithms=[algorithm], audience=TOKEN_URL)
    assert header["alg"] == algorithm
    assert header["kid"] == "cert-xyz"
    assert header["typ"] == "JWT"
    assert claims["iss"] == "client-abc"
    assert claims["scope"] == ["rest_webservices", "restlets"]
    assert 0 < claims["exp"] - claims["iat"] < 3600
    assert fake.requests[0].headers["Authorization"] == "Bearer access-token-1-0123456789"


@pytest.mark.parametrize(
    ("expires_in", "refresh_at"), [(3600, 3300), ("3600", 3300), (3600.0, 3300), ("400", 200)]
)
@pytest.mark.anyio
async def test_oauth2_token_is_cached_until_near_expiry(
    rsa_key: Any, expires_in: Any, refresh_at: int
) -> None:
    fake = FakeNetSuite(expires_in=expires_in)
    clock = [1_000_000.0]
    auth = oauth2_auth(rsa_key, fake, clock)
    async with httpx.AsyncClient(auth=auth, transport=fake.transport) as http:
        await http.get(f"{BASE}/record/v1/customer/1")
        clock[0] += refresh_at - 1
        await http.get(f"{BASE}/record/v1/customer/1")
        assert len(fake.token_requests) == 1
        clock[0] += 2
        await http.get(f"{BASE}/record/v1/customer/1")

    assert len(fake.token_requests) == 2
    bearers = [request.headers["Authorization"] for request in fake.requests]
    assert bearers[1] == bearers[0] != bearers[2]


@pytest.mark.anyio
async def test_oauth2_one_refresh_for_many_concurrent_requests(rsa_key: Any) -> None:
    fake = FakeNetSuite()
    clock = [1_000_000.0]
    auth = oauth2_auth(rsa_key, fake, clock)
    arrived, release = asyncio.Event(), asyncio.Event()
    issue = fake.handle

    async def slow_token(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(models.TOKEN_PATH):
            arrived.set()
            await release.wait()
        return await issue(request)

    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(slow_token)) as http:
        calls = [asyncio.create_task(http.get(f"{BASE}/record/v1/customer/{n}")) for n in range(10)]
        await arrived.wait()
        for _ in range(20):  # let every other task reach the refresh it must wait for
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*calls)

    assert len(fake.token_requests) == 1
    assert {request.headers["Authorization"] for request in fake.requests} == {
        "Bearer access-token-1-0123456789"
    }


@pytest.mark.anyio
async def test_oauth2_cancelled_waiter_does_not_spoil_the_refresh(rsa_key: Any) -> None:
    fake = FakeNetSuite()
    auth = oauth2_auth(rsa_key, fake, [1_000_000.0])
    arrived, release = asyncio.Event(), asyncio.Event()
    issue = fake.handle

    async def slow_token(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(models.TOKEN_PATH):
            arrived.set()
            await release.wait()
        return await issue(request)

    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(slow_token)) as http:
        leader = asyncio.create_task(http.get(f"{BASE}/record/v1/customer/1"))
        await arrived.wait()
        waiter = asyncio.create_task(http.get(f"{BASE}/record/v1/customer/2"))
        for _ in range(10):
            await asyncio.sleep(0)
        waiter.cancel()
        release.set()
        await leader
        await http.get(f"{BASE}/record/v1/customer/3")

    assert waiter.cancelled()
    assert len(fake.token_requests) == 1
    assert len(fake.requests) == 2


def test_oauth2_one_refresh_across_threads(rsa_key: Any) -> None:
    fake = FakeNetSuite()
    auth = oauth2_auth(rsa_key, fake, [1_000_000.0])
    threads_n = 4
    claimed = threading.Event()
    claims = [0]
    lock = threading.Lock()
    original_claim = auth._claim

    def counting_claim() -> Any:
        result = original_claim()
        with lock:
            claims[0] += 1
            if claims[0] >= threads_n:
                claimed.set()
        return result

    auth._claim = counting_claim  # type: ignore[method-assign]
    tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(models.TOKEN_PATH):
            assert claimed.wait(timeout=10)
            fake.token_requests.append(request)
            return httpx.Response(200, json={"access_token": "tok-shared-0001", "expires_in": 3600})
        with lock:
            tokens.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    def worker() -> None:
        with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as http:
            http.get(f"{BASE}/record/v1/customer/1")

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(fake.token_requests) == 1
    assert tokens == ["Bearer tok-shared-0001"] * threads_n


@pytest.mark.anyio
async def test_oauth2_401_refreshes_token_and_retries_once(rsa_key: Any) -> None:
    harness = make_harness(oauth2_settings(rsa_key))
    harness.fake.queue(problem(401, "INVALID_LOGIN", "Invalid login attempt."))
    harness.fake.default = httpx.Response(200, json={"id": "107"})
    async with harness.client as client:
        record = await client.get("customer", "107")

    assert record == {"id": "107"}
    assert len(harness.fake.token_requests) == 2
    bearers = [request.headers["Authorization"] for request in harness.fake.requests]
    assert bearers == ["Bearer access-token-1-0123456789", "Bearer access-token-2-0123456789"]


@pytest.mark.anyio
async def test_oauth2_token_endpoint_refusal_is_auth_error_without_assertion(rsa_key: Any) -> None:
    assertions: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        assertions.append(assertion_of(request))
        body = {"error": "invalid_client", "error_description": "Invalid client assertion."}
        return httpx.Response(400, json=body)

    auth = oauth2_auth(rsa_key, FakeNetSuite(), [1_000_000.0])
    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(AuthError) as caught:
            await http.get(f"{BASE}/record/v1/customer/1")

    error = caught.value
    assert "invalid_client" in error.message
    assert "Invalid client assertion." in error.message
    assert error.status == 400
    assert not error.retryable
    assert assertions[0] not in repr(error.as_dict())


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(503, text="<html><body>Service Unavailable</body></html>"), TransientError),
        (problem(401, "INVALID_LOGIN", "Invalid login attempt."), AuthError),
        (httpx.Response(200, json={"token_type": "Bearer"}), UnexpectedResponseError),
    ],
)
@pytest.mark.anyio
async def test_oauth2_token_endpoint_failures_are_typed(
    rsa_key: Any, response: httpx.Response, expected: type[Exception]
) -> None:
    auth = oauth2_auth(rsa_key, FakeNetSuite(), [1_000_000.0])
    transport = httpx.MockTransport(lambda request: response)
    async with httpx.AsyncClient(auth=auth, transport=transport) as http:
        with pytest.raises(expected):
            await http.get(f"{BASE}/record/v1/customer/1")


@pytest.mark.parametrize(
    ("value", "seconds"), [(3600, 3600.0), ("3600", 3600.0), (" 1800 ", 1800.0), (None, 3600.0)]
)
def test_expires_in_accepts_strings_and_numbers(value: Any, seconds: float) -> None:
    assert parse_expires_in(value) == seconds


@pytest.mark.parametrize("value", ["soon", -5, 0, "nan", "inf"])
def test_expires_in_rejects_nonsense(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError):
        parse_expires_in(value)
