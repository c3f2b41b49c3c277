"""NetSuiteClient over MockTransport: URLs, headers, ids, retries, governance and call records."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dealbridge.connectors.netsuite.client import NetSuiteClient, eid, location_id, record_path
from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter
from dealbridge.errors import (
    ConfigError,
    NotFoundError,
    UnexpectedResponseError,
    ValidationError,
)
from tests.unit.netsuite_client.conftest import (
    BASE,
    TBA_SECRETS,
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


# -- records (contracts §2) -------------------------------------------------------------------


async def test_create_posts_json_and_reads_the_location() -> None:
    harness = harness_with(no_content("4321"))
    async with harness.client as client:
        new_id = await client.create("customer", {"companyName": "Acme"}, replace=["addressBook"])

    assert new_id == "4321"
    request = harness.fake.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/record/v1/customer?replace=addressBook"
    assert json.loads(request.content) == {"companyName": "Acme"}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["X-NetSuite-PropertyNameValidation"] == "error"
    assert "Prefer" not in request.headers


async def test_create_without_location_is_unexpected() -> None:
    harness = harness_with(httpx.Response(204))
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError, match="Location"):
            await client.create("customer", {})


async def test_upsert_puts_by_external_id() -> None:
    harness = harness_with(no_content("88"))
    async with harness.client as client:
        assert await client.upsert("customer", "SFACC-001ABC", {"companyName": "A"}) == "88"
    request = harness.fake.requests[0]
    assert request.method == "PUT"
    assert request.url.path == "/services/rest/record/v1/customer/eid:SFACC-001ABC"


@pytest.mark.parametrize("external_id", ["SF|1", "a b", "", "x/../y", "é"])
async def test_upsert_refuses_bad_external_ids_before_sending(external_id: str) -> None:
    harness = harness_with()
    async with harness.client as client:
        with pytest.raises(ValidationError) as caught:
            await client.upsert("customer", external_id, {})
    assert (caught.value.field_path, caught.value.rule) == ("externalId", "external_id_format")
    assert caught.value.record == "customer"
    assert harness.fake.requests == []


async def test_update_patches_with_replace_options() -> None:
    harness = harness_with(no_content("9", "subscription"))
    async with harness.client as client:
        updated = await client.update(
            "subscription",
            "9",
            {"priceInterval": {"items": []}},
            replace=["priceInterval", "subscriptionLine"],
            replace_selected_fields=True,
        )
    assert updated == "9"
    request = harness.fake.requests[0]
    assert request.method == "PATCH"
    assert dict(request.url.params) == {
        "replace": "priceInterval,subscriptionLine",
        "replaceSelectedFields": "true",
    }


async def test_get_with_expansion_and_fields() -> None:
    harness = harness_with(httpx.Response(200, json={"id": "7", "companyName": "A"}))
    async with harness.client as client:
        record = await client.get(
            "customer", eid("SFACC-7"), expand_sub_resources=True, fields=["companyName", "email"]
        )
    assert record == {"id": "7", "companyName": "A"}
    request = harness.fake.requests[0]
    assert request.url.path.endswith("/record/v1/customer/eid:SFACC-7")
    assert dict(request.url.params) == {"expandSubResources": "true", "fields": "companyName,email"}


async def test_get_missing_record_is_not_found() -> None:
    harness = harness_with(problem(404, "NONEXISTENT_ID", "Record does not exist."))
    async with harness.client as client:
        with pytest.raises(NotFoundError) as caught:
            await client.get("customer", "404")
    assert caught.value.operation == "GET customer/404"
    assert len(harness.fake.requests) == 1


async def test_get_bad_json_is_unexpected() -> None:
    harness = harness_with(httpx.Response(200, text="<html>maintenance</html>"))
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError):
            await client.get("customer", "1")


async def test_delete() -> None:
    harness = harness_with(httpx.Response(204))
    async with harness.client as client:
        await client.delete("contact", eid("SFCON-1"))
    assert harness.fake.requests[0].method == "DELETE"


async def test_delete_missing_ok() -> None:
    missing = problem(404, "NONEXISTENT_ID", "Record does not exist.")
    harness = harness_with(missing, missing)
    async with harness.client as client:
        await client.delete("contact", "5", missing_ok=True)
        with pytest.raises(NotFoundError):
            await client.delete("contact", "5")


async def test_list_ids_pages_through_the_collection() -> None:
    pages = [
        {"items": [{"id": "1", "links": []}, {"id": "2", "links": []}], "hasMore": True},
        {"items": [{"id": "3", "links": []}], "hasMore": False},
    ]
    harness = harness_with(*(httpx.Response(200, json=page) for page in pages))
    async with harness.client as client:
        ids = [i async for i in client.list_ids("customer", q='email START_WITH "b"', page_size=2)]
    assert ids == ["1", "2", "3"]
    params = [dict(request.url.params) for request in harness.fake.requests]
    assert params == [
        {"limit": "2", "offset": "0", "q": 'email START_WITH "b"'},
        {"limit": "2", "offset": "2", "q": 'email START_WITH "b"'},
    ]


@pytest.mark.parametrize(
    ("record_type", "ref"),
    [
        ("customer/../x", None),
        ("customer?x=1", None),
        ("customer", "1/../2"),
        ("customer", "abc"),
        ("customer", "eid:bad|id"),
        ("customer", "1?replace=x"),
    ],
)
def test_record_path_refuses_anything_that_leaves_the_path(
    record_type: str, ref: str | None
) -> None:
    with pytest.raises((ConfigError, ValidationError)):
        record_path(record_type, ref)


@pytest.mark.parametrize(
    ("location", "expected"),
    [(f"{BASE}/record/v1/customer/107", "107"), ("/services/rest/record/v1/customer/108/", "108")],
)
def test_location_id(location: str, expected: str) -> None:
    response = httpx.Response(204, headers={"Location": location})
    assert location_id(response, "PUT x") == expected


def test_default_base_url_from_account() -> None:
    client = NetSuiteClient(tba_settings(), limiter=AdaptiveConcurrencyLimiter(1))
    assert client.base_url == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"


def test_needs_an_account_or_base_url() -> None:
    with pytest.raises(ConfigError, match=r"netsuite\.account"):
        NetSuiteClient(tba_settings(account=""))


# -- governance (contracts §6) ----------------------------------------------------------------


async def test_governance_limits_replace_the_configured_limit() -> None:
    limits = {
        "accountConcurrencyLimit": 15,
        "accountUnallocatedConcurrencyLimit": 10,
        "integrationConcurrencyLimit": 7,
        "integrationLimitType": "integrationSpecific",
    }
    harness = harness_with(
        httpx.Response(200, json=limits), no_content(), no_content(), read_governance_limits=True
    )
    async with harness.client as client:
        await client.upsert("customer", "SFACC-1", {})
        await client.upsert("customer", "SFACC-2", {})
    paths = [request.url.path for request in harness.fake.requests]
    assert paths[0] == "/services/rest/system/v1/governanceLimits"
    assert paths.count("/services/rest/system/v1/governanceLimits") == 1
    assert (harness.limiter.cap, harness.limiter.ceiling) == (7, 7)


async def test_governance_limits_forbidden_keeps_the_configured_limit() -> None:
    harness = harness_with(
        problem(403, "INSUFFICIENT_PERMISSION"),
        no_content(),
        read_governance_limits=True,
        concurrency_limit=4,
    )
    async with harness.client as client:
        assert await client.upsert("customer", "SFACC-1", {}) == "107"
    assert harness.limiter.ceiling == 4


async def test_governance_limits_shape_error() -> None:
    harness = harness_with(httpx.Response(200, json={"unexpected": True}))
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError):
            await client.governance_limits()


# -- call records (core.calls) ----------------------------------------------------------------


async def test_call_records_describe_each_attempt() -> None:
    first = problem(429, BUSY)
    first.headers["X-N-OperationId"] = "op-1"
    harness = harness_with(first, no_content())
    async with harness.client as client:
        await client.update("customer", "107", {}, replace=["addressBook"])
    one, two = harness.records
    assert one.system == "netsuite"
    assert one.method == "PATCH"
    assert one.path == "/services/rest/record/v1/customer/107?replace=addressBook"
    assert (one.status, one.error_code, one.request_id, one.attempt) == (429, BUSY, "op-1", 1)
    assert (two.status, two.error_code, two.attempt) == (204, None, 2)
    assert one.extra == {"operation": "PATCH customer/107"}
    assert one.duration_ms >= 0


async def test_a_failing_observer_does_not_break_the_call() -> None:
    def broken(record: Any) -> None:
        raise RuntimeError("observer bug")

    fake = FakeNetSuite()
    client = NetSuiteClient(
        tba_settings(),
        transport=fake.transport,
        on_call=broken,
        limiter=AdaptiveConcurrencyLimiter(2),
    )
    async with client:
        assert await client.upsert("customer", "SFACC-1", {}) == "107"


async def test_a_call_is_recorded_after_its_slot_is_free() -> None:
    """The account's slot is held for the exchange, not for the bookkeeping after it."""
    limiter = AdaptiveConcurrencyLimiter(2)
    held_while_recording: list[int] = []
    fake = FakeNetSuite()
    client = NetSuiteClient(
        tba_settings(),
        transport=fake.transport,
        on_call=lambda record: held_while_recording.append(limiter.in_flight),
        limiter=limiter,
    )
    async with client:
        await client.upsert("customer", "SFACC-1", {})

    assert held_while_recording == [0]


async def test_no_secret_reaches_a_call_record(rsa_key: Any) -> None:
    fake = FakeNetSuite()
    fake.queue(
        problem(401, "INVALID_LOGIN", "Invalid login attempt."),
        no_content(),
        problem(500, "UNEXPECTED_ERROR"),
        httpx.Response(200, json={"id": "1"}),
    )
    harness = make_harness(oauth2_settings(rsa_key), fake)
    async with harness.client as client:
        await client.upsert("customer", "SFACC-1", {"companyName": "A"})
        await client.get("customer", "1")
    tba = harness_with(problem(503, "UNEXPECTED_ERROR"), no_content())
    async with tba.client as client:
        await client.upsert("customer", "SFACC-1", {})

    records = harness.records + tba.records
    text = repr([record.as_dict() for record in records])
    secrets = list(TBA_SECRETS.values())
    secrets += [
        request.headers["Authorization"].removeprefix("Bearer ")
        for request in fake.requests + tba.fake.requests
    ]
    secrets += [request.content.decode() for request in fake.token_requests]
    assert len(records) == 2 + 2 + 2 + 2  # 2 token calls, 4 API attempts, 2 TBA attempts
    assert any(record.extra.get("operation") == "POST auth/oauth2/v1/token" for record in records)
    for secret in secrets:
        assert secret not in text
    assert "Authorization" not in text
    assert "client_assertion" not in text
