"""Daily API usage from ``Sforce-Limit-Info`` (contracts §1.7) and the guard (§5)."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.salesforce.limits import API_USAGE_GUARD, ApiUsage
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.errors import ConfigError, RateLimitedError
from tests.unit.salesforce_client.conftest import FakeSalesforce, jwt_settings, make_harness, page


def test_usage_is_read_from_the_header() -> None:
    usage = ApiUsage()
    usage.observe({"Sforce-Limit-Info": "api-usage=18/5000"})
    assert usage.snapshot is not None
    assert (usage.snapshot.used, usage.snapshot.allocation) == (18, 5000)


def test_per_app_usage_does_not_confuse_the_org_figure() -> None:
    usage = ApiUsage()
    usage.observe({"Sforce-Limit-Info": "api-usage=25/5000; per-app-api-usage=17/250(appName=x)"})
    assert usage.snapshot is not None
    assert (usage.snapshot.used, usage.snapshot.allocation) == (25, 5000)


def test_responses_without_the_header_change_nothing() -> None:
    usage = ApiUsage()
    usage.observe({})
    usage.observe({"Sforce-Limit-Info": "garbage"})
    assert usage.snapshot is None
    usage.guard("backfill")  # unknown usage: work may run


def test_the_guard_pauses_non_urgent_work_with_a_clear_message() -> None:
    usage = ApiUsage(guard_ratio=0.8)
    usage.record(81_234, 100_000)
    with pytest.raises(RateLimitedError) as caught:
        usage.guard("backfill")
    error = caught.value
    assert error.message == (
        "Salesforce daily API usage 81,234/100,000 is above the 80% guard; backfill paused"
    )
    assert error.retryable
    assert error.failure_type == "rate_limit"
    assert error.code == API_USAGE_GUARD
    assert error.system == "salesforce"
    assert error.retry_after is not None
    assert error.retry_after > 0
    with pytest.raises(RateLimitedError, match="reconcile paused"):
        usage.guard("reconcile")


def test_urgent_sync_work_always_passes() -> None:
    usage = ApiUsage(guard_ratio=0.8)
    usage.record(99_999, 100_000)
    usage.guard("sync")
    assert usage.allows("sync")
    assert not usage.allows("backfill")


def test_below_the_guard_everything_runs() -> None:
    usage = ApiUsage(guard_ratio=0.8)
    usage.record(79_999, 100_000)
    usage.guard("backfill")
    usage.guard("reconcile")
    usage.record(80_000, 100_000)  # at the ratio: paused
    assert not usage.allows("backfill")


def test_unknown_kinds_and_ratios_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="kind"):
        ApiUsage().guard("nightly")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ratio"):
        ApiUsage(guard_ratio=0)


def test_concurrent_updates_leave_a_consistent_snapshot() -> None:
    usage = ApiUsage()

    def work(offset: int) -> None:
        for used in range(200):
            usage.record(offset + used, 5000)

    threads = [threading.Thread(target=work, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snapshot = usage.snapshot
    assert snapshot is not None
    assert snapshot.allocation == 5000
    assert snapshot.used % 1000 == 199


@pytest.mark.anyio
async def test_the_client_tracks_usage_from_every_response(rsa_key: rsa.RSAPrivateKey) -> None:
    fake = FakeSalesforce(limit_info="api-usage=4500/5000")
    harness = make_harness(jwt_settings(rsa_key, api_usage_guard_ratio=0.9), fake)
    fake.queue(page([]))
    async with harness.client as client:
        await client.query(soql("SELECT Id FROM Account"))
        assert client.limits_usage.snapshot is not None
        assert client.limits_usage.snapshot.used == 4500
        client.guard("sync")
        with pytest.raises(RateLimitedError, match="4,500/5,000 is above the 90% guard"):
            client.guard("backfill")
    record = harness.records[-1]
    assert record.extra["api_usage"] == "api-usage=4500/5000"
