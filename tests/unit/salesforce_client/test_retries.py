"""The dispatcher's retry policy: what is sent again, what is not, and how long it waits."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.salesforce.errors import DAILY_LIMIT_RETRY_AFTER_SECONDS
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.errors import AuthError, RateLimitedError, RemoteRejectedError, TransientError
from tests.unit.salesforce_client.conftest import (
    ACC_ID,
    Harness,
    jwt_settings,
    make_harness,
    page,
    sf_error,
)

pytestmark = pytest.mark.anyio

QUERY = soql("SELECT Id FROM Account")
CREATED = httpx.Response(201, json={"id": ACC_ID, "success": True, "errors": []})


def unavailable() -> httpx.Response:
    return sf_error(503, "SERVER_UNAVAILABLE", "Service Unavailable")


def api_records(harness: Harness) -> list[tuple[int, int | None, str | None]]:
    return [
        (r.attempt, r.status, r.error_code)
        for r in harness.records
        if r.path != "/services/oauth2/token"
    ]


async def test_a_query_is_retried_after_a_503(harness: Harness) -> None:
    harness.fake.queue(unavailable(), page([]))
    async with harness.client as client:
        await client.query(QUERY)
    assert api_records(harness) == [(1, 503, "SERVER_UNAVAILABLE"), (2, 200, None)]
    assert len(harness.sleeps) == 1
    assert 0 <= harness.sleeps[0] <= 0.5  # backoff_base for the first retry


async def test_retries_stop_at_max_attempts(harness: Harness) -> None:
    harness.fake.default = unavailable()
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.query(QUERY)
    assert len(harness.fake.requests) == 4
    assert len(harness.sleeps) == 3
    assert all(0 <= delay <= 30.0 for delay in harness.sleeps)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
    ],
)
async def test_idempotent_calls_are_retried_after_transport_errors(
    harness: Harness, failure: httpx.HTTPError
) -> None:
    def fail(_request: httpx.Request) -> httpx.Response:
        raise failure

    harness.fake.queue(fail, httpx.Response(204))
    async with harness.client as client:
        await client.update("Account", ACC_ID, {"Name": "Acme"})
    assert len(harness.fake.requests) == 2
    assert api_records(harness)[0] == (1, None, type(failure).__name__)


async def test_a_create_is_not_resent_after_a_5xx(harness: Harness) -> None:
    harness.fake.queue(sf_error(500, "UNKNOWN_EXCEPTION", "boom"), CREATED)
    async with harness.client as client:
        with pytest.raises(TransientError) as caught:
            await client.create("Account", {"Name": "Acme"})
    assert caught.value.retryable  # the caller decides (prefer upsert)
    assert len(harness.fake.requests) == 1


async def test_a_create_is_not_resent_after_a_read_timeout(harness: Harness) -> None:
    def slow(_request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    harness.fake.queue(slow, CREATED)
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.create("Account", {"Name": "Acme"})
    assert len(harness.fake.requests) == 1


async def test_a_create_is_resent_when_the_connection_never_opened(harness: Harness) -> None:
    def refused(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    harness.fake.queue(refused, CREATED)
    async with harness.client as client:
        assert await client.create("Account", {"Name": "Acme"}) == ACC_ID
    assert len(harness.fake.requests) == 2


async def test_a_create_is_resent_after_a_row_lock(harness: Harness) -> None:
    harness.fake.queue(
        sf_error(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
        CREATED,
    )
    async with harness.client as client:
        assert await client.create("Account", {"Name": "Acme"}) == ACC_ID
    assert api_records(harness) == [(1, 400, "UNABLE_TO_LOCK_ROW"), (2, 201, None)]


@pytest.mark.parametrize("method", ["update", "upsert", "delete", "get"])
async def test_idempotent_writes_are_retried_after_a_5xx(harness: Harness, method: str) -> None:
    success = {
        "update": httpx.Response(204),
        "upsert": httpx.Response(200, json={"id": ACC_ID, "success": True, "created": False}),
        "delete": httpx.Response(204),
        "get": httpx.Response(200, json={"Id": ACC_ID}),
    }[method]
    harness.fake.queue(unavailable(), success)
    async with harness.client as client:
        if method == "update":
            await client.update("Account", ACC_ID, {"Name": "A"})
        elif method == "upsert":
            await client.upsert("Account", "Ext__c", "E1", {"Name": "A"})
        elif method == "delete":
            await client.delete("Account", ACC_ID)
        else:
            await client.get("Account", ACC_ID)
    assert len(harness.fake.requests) == 2


async def test_request_limit_exceeded_is_not_retried_in_the_call(harness: Harness) -> None:
    harness.fake.queue(sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    async with harness.client as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.query(QUERY)
    error = caught.value
    assert len(harness.fake.requests) == 1
    assert harness.sleeps == []
    assert error.retryable
    assert error.failure_type == "rate_limit"
    assert error.retry_after == DAILY_LIMIT_RETRY_AFTER_SECONDS


async def test_the_limit_backoff_is_at_least_the_configured_cap(rsa_key: rsa.RSAPrivateKey) -> None:
    harness = make_harness(jwt_settings(rsa_key, backoff_max_seconds=3600.0))
    harness.fake.queue(sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit"))
    async with harness.client as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.query(QUERY)
    assert caught.value.retry_after == 3600.0


async def test_a_proxy_429_is_retried_with_backoff(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(429, text="slow down"), page([]))
    async with harness.client as client:
        await client.query(QUERY)
    assert len(harness.fake.requests) == 2


@pytest.mark.parametrize("code", ["MALFORMED_QUERY", "INVALID_FIELD"])
async def test_rejections_are_not_retried(harness: Harness, code: str) -> None:
    harness.fake.queue(sf_error(400, code, "ERROR at Row:1:Column:8"))
    async with harness.client as client:
        with pytest.raises(RemoteRejectedError, match="Row:1:Column:8"):
            await client.query(QUERY)
    assert len(harness.fake.requests) == 1


async def test_forbidden_is_not_retried(harness: Harness) -> None:
    harness.fake.queue(sf_error(403, "INSUFFICIENT_ACCESS", "no access"))
    async with harness.client as client:
        with pytest.raises(AuthError):
            await client.query(QUERY)
    assert len(harness.fake.requests) == 1
    assert len(harness.fake.token_requests) == 1  # a 403 is not a stale token
