"""sObject rows (contracts §1.5): URLs, bodies, status codes, upsert outcomes, redaction."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.errors import MULTIPLE_CHOICES
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.errors import (
    ConfigError,
    DuplicateError,
    NotFoundError,
    RemoteRejectedError,
    UnexpectedResponseError,
    ValidationError,
)
from tests.unit.salesforce_client.conftest import (
    ACC_ID,
    CLIENT_SECRET,
    DATA,
    INSTANCE,
    FakeSalesforce,
    Harness,
    body_of,
    cc_settings,
    jwt_settings,
    make_harness,
    page,
    sf_error,
)

pytestmark = pytest.mark.anyio

CREATED = {"id": ACC_ID, "success": True, "errors": []}


async def test_get_reads_one_record_with_selected_fields(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(200, json={"Id": ACC_ID, "Name": "Acme"}))
    async with harness.client as client:
        record = await client.get("Account", ACC_ID, fields=["Name", "NetSuite_Customer_Id__c"])
    assert record["Name"] == "Acme"
    request = harness.fake.requests[0]
    assert request.url.path == f"{DATA}/sobjects/Account/{ACC_ID}"
    assert parse_qs(request.url.query.decode()) == {"fields": ["Name,NetSuite_Customer_Id__c"]}


async def test_a_deleted_record_is_not_found(harness: Harness) -> None:
    harness.fake.queue(sf_error(404, "ENTITY_IS_DELETED", "entity is deleted"))
    async with harness.client as client:
        with pytest.raises(NotFoundError, match="entity is deleted"):
            await client.get("Account", ACC_ID)


@pytest.mark.parametrize(
    ("sobject", "record_id", "error"),
    [
        ("Account", "001/../../x", ValidationError),
        ("Account", "short", ValidationError),
        ("Account/../User", ACC_ID, ConfigError),
        ("Acc ount", ACC_ID, ConfigError),
    ],
)
async def test_names_and_ids_cannot_escape_the_path(
    harness: Harness, sobject: str, record_id: str, error: type[Exception]
) -> None:
    async with harness.client as client:
        with pytest.raises(error):
            await client.get(sobject, record_id)
    assert harness.fake.requests == []


async def test_field_names_are_checked(harness: Harness) -> None:
    async with harness.client as client:
        with pytest.raises(ConfigError, match="field"):
            await client.get("Account", ACC_ID, fields=["Name&x=1"])


async def test_create_posts_json_and_returns_the_id(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(201, json=CREATED))
    async with harness.client as client:
        assert await client.create("Account", {"Name": "Acme"}) == ACC_ID
    request = harness.fake.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{INSTANCE}{DATA}/sobjects/Account/"
    assert body_of(request) == {"Name": "Acme"}
    assert request.headers["Content-Type"] == "application/json"


async def test_create_without_an_id_is_unexpected(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(201, json={"success": True}))
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError, match="id"):
            await client.create("Account", {"Name": "Acme"})


async def test_update_patches_and_expects_204(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(204))
    async with harness.client as client:
        await client.update("Account", ACC_ID, {"NetSuite_Customer_Id__c": "107"})
    request = harness.fake.requests[0]
    assert request.method == "PATCH"
    assert request.url.path == f"{DATA}/sobjects/Account/{ACC_ID}"
    assert body_of(request) == {"NetSuite_Customer_Id__c": "107"}


async def test_validation_failures_name_code_and_fields(harness: Harness) -> None:
    harness.fake.queue(
        sf_error(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Stage needs a date", ["CloseDate"])
    )
    async with harness.client as client:
        with pytest.raises(RemoteRejectedError) as caught:
            await client.update("Opportunity", "0065w000023STAmAAO", {"StageName": "Closed Won"})
    assert caught.value.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert caught.value.field_path == "CloseDate"
    assert caught.value.operation == "PATCH sobjects/Opportunity/0065w000023STAmAAO"


@pytest.mark.parametrize(
    ("status", "body", "expected_id", "created"),
    [
        (201, {**CREATED, "created": True}, ACC_ID, True),
        (200, {**CREATED, "created": False}, ACC_ID, False),
        (201, CREATED, ACC_ID, True),  # before v46 there is no "created"
        (204, None, None, False),  # old versions: no body
    ],
)
async def test_upsert_outcomes(
    harness: Harness, status: int, body: object, expected_id: str | None, created: bool
) -> None:
    harness.fake.queue(httpx.Response(status, json=body) if body else httpx.Response(status))
    async with harness.client as client:
        result = await client.upsert("Account", "External_Id__c", "SF-1", {"Name": "Acme"})
    assert result.id == expected_id
    assert result.created is created


async def test_upsert_quotes_the_value_into_the_path(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(201, json={**CREATED, "created": True}))
    async with harness.client as client:
        await client.upsert("Account", "External_Id__c", "A/B 1?x", {"Name": "Acme"})
    request = harness.fake.requests[0]
    assert request.method == "PATCH"
    assert request.url.raw_path.decode() == f"{DATA}/sobjects/Account/External_Id__c/A%2FB%201%3Fx"


async def test_upsert_matching_several_records_is_a_duplicate(harness: Harness) -> None:
    urls = [
        f"{DATA}/sobjects/Account/0015w00002ABCDEAA2",
        f"{DATA}/sobjects/Account/0015w00002ABCDEAA3",
    ]
    harness.fake.queue(httpx.Response(300, json=urls))
    async with harness.client as client:
        with pytest.raises(DuplicateError) as caught:
            await client.upsert("Account", "External_Id__c", "SF-1", {"Name": "Acme"})
    assert caught.value.code == MULTIPLE_CHOICES
    assert caught.value.context["matches"] == ["0015w00002ABCDEAA2", "0015w00002ABCDEAA3"]
    assert len(harness.fake.requests) == 1  # not retried


async def test_upsert_needs_a_value(harness: Harness) -> None:
    async with harness.client as client:
        with pytest.raises(ConfigError):
            await client.upsert("Account", "External_Id__c", "", {})


async def test_delete_and_missing_ok(harness: Harness) -> None:
    harness.fake.queue(httpx.Response(204), sf_error(404, "NOT_FOUND"), sf_error(404, "NOT_FOUND"))
    async with harness.client as client:
        await client.delete("Account", ACC_ID)
        await client.delete("Account", ACC_ID, missing_ok=True)
        with pytest.raises(NotFoundError):
            await client.delete("Account", ACC_ID)
    assert [r.method for r in harness.fake.requests] == ["DELETE"] * 3


async def test_no_secret_reaches_any_call_record() -> None:
    harness = make_harness(cc_settings())
    harness.fake.queue(
        sf_error(401, "INVALID_SESSION_ID"),
        page([]),
        httpx.Response(201, json=CREATED),
        sf_error(400, "MALFORMED_QUERY", "bad"),
    )
    async with harness.client as client:
        await client.query(soql("SELECT Id FROM Account WHERE Name = {}", "Acme"))
        await client.create("Account", {"Name": "Acme"})
        with pytest.raises(RemoteRejectedError):
            await client.query(soql("SELECT Id FROM Account"))
    dumped = repr([record.as_dict() for record in harness.records])
    tokens = [harness.fake.token_value(n) for n in (1, 2)]
    for secret in [*tokens, CLIENT_SECRET, "Bearer"]:
        assert secret not in dumped
    assert all(record.system == "salesforce" for record in harness.records)
    api_records = [r for r in harness.records if r.path != "/services/oauth2/token"]
    assert [r.attempt for r in api_records] == [1, 2, 1, 1]


async def test_an_observer_that_raises_does_not_break_the_call(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    def explode(_record: object) -> None:
        raise RuntimeError("observer bug")

    fake = FakeSalesforce(default=page([]))
    client = SalesforceClient(jwt_settings(rsa_key), transport=fake.transport, on_call=explode)
    async with client:
        result = await client.query(soql("SELECT Id FROM Account"))
    assert result.records == []


def test_a_bad_ca_bundle_is_configuration(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ca_bundle"):
        SalesforceClient(jwt_settings(rsa_key, ca_bundle=str(tmp_path / "missing.pem")))
