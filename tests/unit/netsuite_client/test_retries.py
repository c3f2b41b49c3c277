"""The client's retry policy: what is retried, how often, and with which waits (§5, §6)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter
from dealbridge.errors import AuthError, RemoteRejectedError, TransientError
from tests.unit.netsuite_client.conftest import (
    FakeNetSuite,
    harness_with,
    make_harness,
    no_content,
    oauth2_settings,
    problem,
    tba_settings,
)

pytestmark = pytest.mark.anyio

BUSY = "CONCURRENCY_LIMIT_EXCEEDED"


async def test_put_is_retried_on_5xx_and_timeouts() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    harness = harness_with(problem(500, "UNEXPECTED_ERROR"), timeout, no_content("5"))
    async with harness.client as client:
        assert await client.upsert("customer", "SFACC-1", {}) == "5"
    assert len(harness.fake.requests) == 3
    assert len(harness.sleeps) == 2
    assert [record.attempt for record in harness.records] == [1, 2, 3]
    assert [record.status for record in harness.records] == [500, None, 204]
    assert [record.error_code for record in harness.records] == [
        "UNEXPECTED_ERROR",
        "ReadTimeout",
        None,
    ]


async def test_post_create_is_not_retried_on_500() -> None:
    harness = harness_with(problem(500, "UNEXPECTED_ERROR"), no_content())
    async with harness.client as client:
        with pytest.raises(TransientError) as caught:
            await client.create("customer", {})
    assert caught.value.retryable
    assert len(harness.fake.requests) == 1
    assert harness.sleeps == []


async def test_post_create_is_not_retried_after_a_read_timeout() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    harness = harness_with(timeout, no_content())
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.create("customer", {})
    assert len(harness.fake.requests) == 1


async def test_post_create_is_retried_when_the_connection_never_opened() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    harness = harness_with(refused, no_content("77"))
    async with harness.client as client:
        assert await client.create("customer", {}) == "77"


async def test_post_create_is_retried_when_the_token_endpoint_failed(rsa_key: Any) -> None:
    calls = [0]

    def flaky_token_then_ok(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            calls[0] += 1
            if calls[0] == 1:
                return httpx.Response(503, text="down")
            return httpx.Response(200, json={"access_token": "tok-2-abcdef", "expires_in": 3600})
        return no_content("31")

    client = NetSuiteClient(
        oauth2_settings(rsa_key),
        transport=httpx.MockTransport(flaky_token_then_ok),
        on_call=lambda record: None,
        limiter=AdaptiveConcurrencyLimiter(2),
        sleep=lambda seconds: asyncio.sleep(0),
    )
    async with client:
        assert await client.create("customer", {}) == "31"


async def test_post_create_is_retried_on_429() -> None:
    harness = harness_with(problem(429, BUSY), problem(400, BUSY), no_content("12"))
    async with harness.client as client:
        assert await client.create("customer", {}) == "12"
    assert len(harness.fake.requests) == 3


async def test_retry_after_is_honoured() -> None:
    harness = harness_with(problem(429, BUSY, headers={"Retry-After": "7"}), no_content())
    async with harness.client as client:
        await client.upsert("customer", "SFACC-1", {})
    assert harness.sleeps[0] >= 7


async def test_invalid_login_is_retried_exactly_once() -> None:
    login = problem(401, "INVALID_LOGIN", "Invalid login attempt.")
    harness = harness_with(login, login, no_content())
    async with harness.client as client:
        with pytest.raises(AuthError) as caught:
            await client.upsert("customer", "SFACC-1", {})
    assert caught.value.code == "INVALID_LOGIN"
    assert len(harness.fake.requests) == 2
    assert len(harness.sleeps) == 1


async def test_invalid_login_then_success() -> None:
    harness = harness_with(problem(401, "INVALID_LOGIN", "Invalid login attempt."), no_content())
    async with harness.client as client:
        assert await client.upsert("customer", "SFACC-1", {}) == "107"


@pytest.mark.parametrize("status", [400, 403, 404, 405])
async def test_other_4xx_are_not_retried(status: int) -> None:
    harness = harness_with(problem(status, "INVALID_CONTENT", "bad"), no_content())
    async with harness.client as client:
        with pytest.raises((RemoteRejectedError, AuthError)):
            await client.upsert("customer", "SFACC-1", {})
    assert len(harness.fake.requests) == 1


async def test_attempts_are_bounded() -> None:
    fake = FakeNetSuite(default=problem(503, "UNEXPECTED_ERROR"))
    harness = make_harness(tba_settings(max_attempts=4), fake)
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.get("customer", "1")
    assert len(fake.requests) == 4
    assert len(harness.sleeps) == 3


async def test_backoff_uses_settings() -> None:
    fake = FakeNetSuite(default=problem(503, "UNEXPECTED_ERROR"))
    settings = tba_settings(max_attempts=5, backoff_base_seconds=1.0, backoff_max_seconds=2.0)
    harness = make_harness(settings, fake)
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.get("customer", "1")
    assert all(0 <= delay <= 2.0 for delay in harness.sleeps)


async def test_a_429_storm_is_ridden_out_with_a_lower_cap() -> None:
    in_flight, peak, refused = [0], [0], [0]
    gate = asyncio.Event()

    async def busy_netsuite(request: httpx.Request) -> httpx.Response:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await gate.wait()
        in_flight[0] -= 1
        if refused[0] < 12:
            refused[0] += 1
            return problem(429, BUSY, "Concurrent request limit exceeded. Request blocked.")
        return no_content()

    fake = FakeNetSuite(default=busy_netsuite)
    limiter = AdaptiveConcurrencyLimiter(8)
    harness = make_harness(tba_settings(max_attempts=10), fake, limiter)
    async with harness.client as client:
        calls = [asyncio.create_task(client.upsert("customer", f"SFACC-{n}", {})) for n in range(8)]
        for _ in range(5):
            await asyncio.sleep(0)
        gate.set()
        ids = await asyncio.gather(*calls)

    assert ids == ["107"] * 8
    assert limiter.rate_limited_count == 12
    assert limiter.decrease_count >= 1
    assert limiter.cap < 8
    assert peak[0] <= 8
    assert limiter.in_flight == 0


async def test_one_slot_per_attempt_released_before_backoff() -> None:
    limiter = AdaptiveConcurrencyLimiter(1)
    seen: list[int] = []
    fake = FakeNetSuite()
    fake.queue(problem(503, "UNEXPECTED_ERROR"), no_content())
    records: list[Any] = []

    async def sleep(seconds: float) -> None:
        seen.append(limiter.in_flight)

    client = NetSuiteClient(
        tba_settings(),
        transport=fake.transport,
        on_call=records.append,
        limiter=limiter,
        sleep=sleep,
    )
    async with client:
        await client.upsert("customer", "SFACC-1", {})
    assert seen == [0]
