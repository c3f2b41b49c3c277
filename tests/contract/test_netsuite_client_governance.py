"""The client under NetSuite's account-wide concurrency limit (contracts §6), for real.

The module's emulator allows 15 requests in flight and holds each for 200 ms, so a burst of 50
calls overlaps for certain; a request that finds the pool full gets an immediate 429
``CONCURRENCY_LIMIT_EXCEEDED``. The emulator's ``/__emulator__/stats`` counts what it sent, and
the client's own ``AdaptiveConcurrencyLimiter`` shows how it adapted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from dealbridge.errors import RateLimitedError
from tests.support.netsuite import (
    AUTH_SCHEMES,
    AuthMode,
    ClientRun,
    ClientRuns,
    EmulatorControl,
    Info,
    running_emulator,
)

pytestmark = pytest.mark.anyio

ACCOUNT_LIMIT = 15
BURST = 50
BUSY = "CONCURRENCY_LIMIT_EXCEEDED"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    state_dir = tmp_path_factory.mktemp("netsuite")
    with running_emulator(state_dir, concurrency_limit=ACCOUNT_LIMIT, latency_ms=200) as info:
        yield info


@pytest.fixture(scope="module")
def control(emulator: Info) -> Iterator[EmulatorControl]:
    with EmulatorControl(emulator) as hooks:
        yield hooks


@pytest.fixture(autouse=True)
def _fresh_emulator(control: EmulatorControl) -> None:
    control.fresh()


@pytest.fixture
def clients(emulator: Info) -> Iterator[ClientRuns]:
    runs = ClientRuns(emulator)
    yield runs
    runs.assert_nothing_leaked()


@pytest.fixture(params=AUTH_SCHEMES)
def mode(request: pytest.FixtureRequest) -> AuthMode:
    auth_mode: AuthMode = request.param
    return auth_mode


async def burst_of_upserts(run: ClientRun) -> list[Any]:
    """``BURST`` upserts of distinct customers, all started at once; results or errors."""
    async with run.client as client:
        calls = [
            client.upsert(
                "customer",
                f"SFACC-001000000000B{n:03d}",
                {"companyName": f"Burst {n}", "subsidiary": {"id": "1"}},
            )
            for n in range(BURST)
        ]
        return await asyncio.gather(*calls, return_exceptions=True)


async def test_a_burst_over_the_limit_is_refused_with_429(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    run = clients(mode, concurrency_limit=BURST, max_attempts=1)
    results = await burst_of_upserts(run)

    refused = [r for r in results if isinstance(r, BaseException)]
    accepted = [r for r in results if not isinstance(r, BaseException)]
    assert refused, "50 calls against a pool of 15 must see 429s"
    assert all(isinstance(r, str) and r.isdigit() for r in accepted)
    for error in refused:
        assert type(error) is RateLimitedError
        assert (error.status, error.code, error.field_path) == (429, BUSY, None)
        assert error.retryable
        assert error.failure_type == "rate_limit"
    stats = control.stats()
    assert stats["responses_429"] == stats["concurrency_rejections"] == len(refused)
    assert stats["max_in_flight"] <= ACCOUNT_LIMIT
    assert len(run.api_calls()) == BURST  # max_attempts=1: nothing retried
    assert len(control.records("customer")) == len(accepted)


async def test_a_client_configured_above_the_limit_adapts_and_loses_nothing(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    run = clients(mode, concurrency_limit=BURST)
    results = await burst_of_upserts(run)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(set(results)) == BURST
    stats = control.stats()
    assert stats["responses_429"] > 0, "the configured limit was above the account's"
    assert stats["max_in_flight"] <= ACCOUNT_LIMIT
    refused = [c for c in run.api_calls() if c.status == 429]
    assert len(refused) == stats["responses_429"] == run.limiter.rate_limited_count
    assert {c.error_code for c in refused} == {BUSY}
    assert run.limiter.ceiling == BURST
    assert run.limiter.decrease_count >= 1
    assert run.limiter.cap < run.limiter.ceiling
    assert len(control.records("customer")) == BURST


async def test_a_client_configured_at_the_limit_is_never_refused(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    run = clients(mode, concurrency_limit=ACCOUNT_LIMIT)
    results = await burst_of_upserts(run)

    assert [r for r in results if isinstance(r, Exception)] == []
    stats = control.stats()
    assert stats["responses_429"] == 0
    assert 1 < stats["max_in_flight"] <= ACCOUNT_LIMIT
    assert [c for c in run.api_calls() if c.status != 204] == []
    assert run.limiter.decrease_count == 0


async def test_governance_limits_read_first_keep_a_burst_under_the_limit(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    """With ``read_governance_limits``, the account's 15 applies from the very first burst.

    Product bug: ``NetSuiteClient._send`` clears ``_governance_pending`` and awaits the read in
    the first caller only; the other 49 calls of the burst go out at once under the configured
    50 instead of waiting for the account's limit.
    """
    run = clients(mode, concurrency_limit=BURST, read_governance_limits=True)
    results = await burst_of_upserts(run)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert (run.limiter.ceiling, run.limiter.cap) == (ACCOUNT_LIMIT, ACCOUNT_LIMIT)
    assert control.stats()["responses_429"] == 0
