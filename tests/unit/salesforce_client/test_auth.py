"""OAuth (contracts §2): JWT claims checked with PyJWT, client credentials, refresh on 401."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.auth import (
    ASSERTION_LIFETIME_SECONDS,
    AccessToken,
    SalesforceAuth,
)
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.errors import AuthError, ConfigError, TransientError, UnexpectedResponseError
from tests.unit.salesforce_client.conftest import (
    CLIENT_SECRET,
    CONSUMER_KEY,
    DATA,
    INSTANCE,
    LOGIN,
    FakeSalesforce,
    Harness,
    cc_settings,
    jwt_settings,
    make_harness,
    page,
    pem_of,
    sf_error,
)

pytestmark = pytest.mark.anyio

QUERY = soql("SELECT Id FROM Account")


def form_of(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def claims_of(assertion: str, key: rsa.RSAPrivateKey, audience: str = LOGIN) -> dict[str, Any]:
    return jwt.decode(
        assertion,
        key.public_key(),
        algorithms=["RS256"],
        audience=audience,
        options={"require": ["iss", "sub", "aud", "exp"]},
    )


async def test_jwt_bearer_request_and_claims(rsa_key: rsa.RSAPrivateKey, harness: Harness) -> None:
    harness.fake.queue(page([]))
    before = int(time.time())
    async with harness.client as client:
        await client.query(QUERY)

    [token_request] = harness.fake.token_requests
    assert str(token_request.url) == LOGIN + models.TOKEN_PATH
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = form_of(token_request)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert jwt.get_unverified_header(form["assertion"])["alg"] == "RS256"
    claims = claims_of(form["assertion"], rsa_key)
    assert claims["iss"] == CONSUMER_KEY
    assert claims["sub"] == "integration@acme.example"
    assert claims["aud"] == LOGIN
    assert isinstance(claims["exp"], int)  # a number (§2 also allows strings; we send numbers)
    assert before + ASSERTION_LIFETIME_SECONDS <= claims["exp"] <= before + 200


async def test_audience_setting_overrides_the_login_url(rsa_key: rsa.RSAPrivateKey) -> None:
    auth = SalesforceAuth(jwt_settings(rsa_key, audience="https://test.salesforce.com/"))
    claims = claims_of(auth.assertion(), rsa_key, audience="https://test.salesforce.com")
    assert claims["aud"] == "https://test.salesforce.com"


async def test_exp_follows_the_injected_clock(rsa_key: rsa.RSAPrivateKey) -> None:
    auth = SalesforceAuth(jwt_settings(rsa_key), clock=lambda: 1_700_000_000.7)
    claims = jwt.decode(
        auth.assertion(),
        rsa_key.public_key(),
        algorithms=["RS256"],
        audience=LOGIN,
        options={"verify_exp": False},
    )
    assert claims["exp"] == 1_700_000_000 + 180


async def test_the_returned_instance_url_is_the_rest_base(harness: Harness) -> None:
    harness.fake.queue(page([]))
    async with harness.client as client:
        await client.query(QUERY)
    request = harness.fake.requests[0]
    assert str(request.url).startswith(f"{INSTANCE}{DATA}/query?q=")
    assert request.headers["Authorization"] == f"Bearer {harness.fake.token_value(1)}"


async def test_the_instance_url_setting_wins(rsa_key: rsa.RSAPrivateKey) -> None:
    harness = make_harness(jwt_settings(rsa_key, instance_url="https://proxy.example.test/"))
    harness.fake.queue(page([]))
    async with harness.client as client:
        await client.query(QUERY)
    assert harness.fake.requests[0].url.host == "proxy.example.test"


async def test_client_credentials_body() -> None:
    harness = make_harness(cc_settings())
    harness.fake.queue(page([]))
    async with harness.client as client:
        await client.query(QUERY)
    [token_request] = harness.fake.token_requests
    assert str(token_request.url) == "https://acme.my.salesforce.com" + models.TOKEN_PATH
    assert form_of(token_request) == {
        "grant_type": "client_credentials",
        "client_id": "cc-client-id-0123",
        "client_secret": CLIENT_SECRET,
    }


async def test_invalid_grant_names_the_error_and_nothing_secret(harness: Harness) -> None:
    harness.fake.token_answer = httpx.Response(
        400,
        json={"error": "invalid_grant", "error_description": "user hasn't approved this consumer"},
    )
    async with harness.client as client:
        with pytest.raises(AuthError) as caught:
            await client.query(QUERY)
    error = caught.value
    assert error.code == "invalid_grant"
    assert "user hasn't approved this consumer" in error.message
    assert error.status == 400
    assertion = form_of(harness.fake.token_requests[0])["assertion"]
    for text in (error.message, error.user_message, repr(error.as_dict())):
        assert assertion not in text
    assert harness.fake.requests == []  # the API request never left
    assert len(harness.fake.token_requests) == 1  # credentials refused: not retried


async def test_client_secret_echoed_by_the_endpoint_is_masked() -> None:
    harness = make_harness(cc_settings())
    harness.fake.token_answer = httpx.Response(
        400, json={"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"}
    )
    async with harness.client as client:
        with pytest.raises(AuthError) as caught:
            await client.query(QUERY)
    assert CLIENT_SECRET not in caught.value.message
    assert caught.value.code == "invalid_client"


async def test_token_endpoint_outage_is_retried_even_before_a_create(harness: Harness) -> None:
    harness.fake.token_script.append(httpx.Response(503, text="down"))
    harness.fake.queue(httpx.Response(201, json={"id": "0015w00002ABCDEAA2", "success": True}))
    async with harness.client as client:
        assert await client.create("Account", {"Name": "Acme"}) == "0015w00002ABCDEAA2"
    assert len(harness.fake.token_requests) == 2
    assert len(harness.fake.requests) == 1  # the create itself went out once
    assert len(harness.sleeps) == 1


async def test_a_token_answer_without_instance_url_is_unexpected(harness: Harness) -> None:
    harness.fake.token_answer = httpx.Response(200, json={"access_token": "tok-abcdef"})
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError, match="instance_url"):
            await client.query(QUERY)


async def test_invalid_session_refreshes_once_and_retries(harness: Harness) -> None:
    harness.fake.queue(sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"), page([]))
    async with harness.client as client:
        await client.query(QUERY)
    fake = harness.fake
    assert len(fake.token_requests) == 2
    tokens = [request.headers["Authorization"] for request in fake.requests]
    assert tokens == [f"Bearer {fake.token_value(1)}", f"Bearer {fake.token_value(2)}"]
    assert harness.sleeps == []  # nothing to wait for: a new token is the cure
    assert [record.attempt for record in harness.records if record.path != models.TOKEN_PATH] == [
        1,
        2,
    ]


async def test_a_second_invalid_session_is_an_auth_error(harness: Harness) -> None:
    harness.fake.default = sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    async with harness.client as client:
        with pytest.raises(AuthError) as caught:
            await client.query(QUERY)
    assert caught.value.code == "INVALID_SESSION_ID"
    assert len(harness.fake.token_requests) == 2
    assert len(harness.fake.requests) == 2


async def test_a_create_refused_for_an_expired_session_is_resent(harness: Harness) -> None:
    harness.fake.queue(
        sf_error(401, "INVALID_SESSION_ID"),
        httpx.Response(201, json={"id": "0015w00002ABCDEAA2", "success": True, "errors": []}),
    )
    async with harness.client as client:
        assert await client.create("Account", {"Name": "Acme"}) == "0015w00002ABCDEAA2"
    assert len(harness.fake.requests) == 2


async def test_concurrent_calls_share_one_token_fetch(rsa_key: rsa.RSAPrivateKey) -> None:
    fake = FakeSalesforce(default=page([]))
    release = asyncio.Event()
    original = fake.handle

    async def slow_token(request: httpx.Request) -> httpx.Response:
        if request.url.path == models.TOKEN_PATH:
            await release.wait()
        return await original(request)

    records: list[Any] = []
    client = SalesforceClient(
        jwt_settings(rsa_key), transport=httpx.MockTransport(slow_token), on_call=records.append
    )
    async with client:
        tasks = [asyncio.create_task(client.query(QUERY)) for _ in range(5)]
        await asyncio.sleep(0)  # let every task reach the token
        release.set()
        await asyncio.gather(*tasks)
    assert len(fake.token_requests) == 1
    assert len(fake.requests) == 5


async def test_only_the_token_that_failed_is_dropped(rsa_key: rsa.RSAPrivateKey) -> None:
    auth = SalesforceAuth(jwt_settings(rsa_key))
    fake = FakeSalesforce()
    async with httpx.AsyncClient(transport=fake.transport) as http:
        first = await auth.token(http)
        auth.invalidate(first)
        second = await auth.token(http)
        auth.invalidate(first)  # a late 401 for the old token must not drop the new one
        assert await auth.token(http) == second
    assert first != second
    assert len(fake.token_requests) == 2


async def test_tokens_never_show_in_a_repr(rsa_key: rsa.RSAPrivateKey) -> None:
    token = AccessToken("00D!secret-token-value", INSTANCE)
    assert "secret-token-value" not in repr(token)


async def test_the_token_call_is_recorded_without_secrets(harness: Harness) -> None:
    harness.fake.queue(page([]))
    async with harness.client as client:
        await client.query(QUERY)
    token_record = next(r for r in harness.records if r.path == models.TOKEN_PATH)
    assert token_record.system == "salesforce"
    assert token_record.method == "POST"
    assert token_record.status == 200
    assertion = form_of(harness.fake.token_requests[0])["assertion"]
    assert assertion not in repr(token_record.as_dict())


def test_missing_jwt_settings_are_named(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match=r"salesforce\.consumer_key, salesforce\.username"):
        SalesforceAuth(jwt_settings(rsa_key, consumer_key="", username=""))
    with pytest.raises(ConfigError, match="private_key"):
        SalesforceAuth(jwt_settings(rsa_key, private_key=None))


def test_missing_client_credentials_are_named() -> None:
    with pytest.raises(ConfigError, match=r"salesforce\.client_secret"):
        SalesforceAuth(cc_settings(client_secret=None))


def test_keys_must_be_rsa_pem_without_echoing_them(rsa_key: rsa.RSAPrivateKey) -> None:
    ec_pem = pem_of(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigError, match="RSA"):
        SalesforceAuth(jwt_settings(rsa_key, private_key=ec_pem))
    bad = "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n"
    with pytest.raises(ConfigError, match="not a PEM") as caught:
        SalesforceAuth(jwt_settings(rsa_key, private_key=bad))
    assert "bm9wZQ" not in caught.value.message


def test_the_key_may_come_from_a_file(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    path.write_text(pem_of(rsa_key))
    auth = SalesforceAuth(jwt_settings(rsa_key, private_key=None, private_key_file=str(path)))
    assert claims_of(auth.assertion(), rsa_key)["iss"] == CONSUMER_KEY
    with pytest.raises(ConfigError, match="cannot read"):
        SalesforceAuth(jwt_settings(rsa_key, private_key=None, private_key_file="/nonexistent"))


async def test_token_server_errors_are_transient(harness: Harness) -> None:
    harness.fake.token_answer = httpx.Response(500, text="oops")
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.query(QUERY)
    assert len(harness.fake.token_requests) == 4  # max_attempts, each a fresh fetch
    assert harness.fake.requests == []


class _WatchedAuth(SalesforceAuth):
    """Signals each time a caller asks for the token, so a test can line threads up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = 0
        self.claimed = threading.Condition()

    def _claim(self) -> Any:
        result = super()._claim()
        with self.claimed:
            self.claims += 1
            self.claimed.notify_all()
        return result


def test_threads_with_their_own_loops_share_one_token_fetch(rsa_key: rsa.RSAPrivateKey) -> None:
    auth = _WatchedAuth(jwt_settings(rsa_key))
    fake = FakeSalesforce(default=page([]))
    release = threading.Event()
    original = fake.handle

    async def gated(request: httpx.Request) -> httpx.Response:
        if request.url.path == models.TOKEN_PATH:
            release.wait(timeout=10)  # synchronisation, not timing: set once both threads wait
        return await original(request)

    def run() -> None:
        async def one_query() -> None:
            transport = httpx.MockTransport(gated)
            async with SalesforceClient(jwt_settings(rsa_key), transport=transport, auth=auth) as c:
                await c.query(QUERY)

        asyncio.run(one_query())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    with auth.claimed:
        auth.claimed.wait_for(lambda: auth.claims >= 2, timeout=10)
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(fake.token_requests) == 1
    assert len(fake.requests) == 2
