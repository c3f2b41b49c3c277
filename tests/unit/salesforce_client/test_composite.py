"""Composite and sObject Collections (contracts §1.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.results import SubRequest
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.errors import ConfigError, RemoteRejectedError, TransientError
from tests.unit.salesforce_client.conftest import DATA, Harness, body_of

pytestmark = pytest.mark.anyio

HALTED = [
    {
        "errorCode": models.PROCESSING_HALTED,
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
    }
]


def sub_result(reference: str, status: int, body: Any) -> dict[str, Any]:
    return {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": reference}


def composite_answer(*results: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"compositeResponse": list(results)})


def writeback() -> list[SubRequest]:
    return [
        SubRequest("PATCH", "sobjects/Account/0015w00002ABCDEAA2", "acc", {"X__c": "1"}),
        SubRequest("PATCH", "sobjects/Opportunity/0065w000023STAmAAO", "opp", {"Y__c": "2"}),
    ]


async def test_composite_body_urls_and_results(harness: Harness) -> None:
    subs = [
        SubRequest("POST", "sobjects/Account", "newAcc", {"Name": "Acme"}),
        SubRequest("GET", "sobjects/Account/@{newAcc.id}", "readAcc"),
        SubRequest(
            "PATCH",
            f"{DATA}/sobjects/Contact/0035w00000ABCDEAAA",
            "con",
            {"AccountId": "@{newAcc.id}"},
        ),
        SubRequest("GET", "v65.0/limits", "limits"),
    ]
    harness.fake.queue(
        composite_answer(
            sub_result("newAcc", 201, {"id": "0015w00002ABCDEAA2", "success": True}),
            sub_result("readAcc", 200, {"Id": "0015w00002ABCDEAA2"}),
            sub_result("con", 204, None),
            sub_result("limits", 200, {}),
        )
    )
    async with harness.client as client:
        results = await client.composite(subs, all_or_none=True)
    body = body_of(harness.fake.requests[0])
    assert harness.fake.requests[0].url.path == f"{DATA}/composite"
    assert body["allOrNone"] is True
    assert body["collateSubrequests"] is False
    assert [item["url"] for item in body["compositeRequest"]] == [
        f"{DATA}/sobjects/Account",
        f"{DATA}/sobjects/Account/@{{newAcc.id}}",
        f"{DATA}/sobjects/Contact/0035w00000ABCDEAAA",
        f"{DATA}/limits",
    ]
    assert body["compositeRequest"][2]["body"] == {"AccountId": "@{newAcc.id}"}
    assert "body" not in body["compositeRequest"][1]
    assert [r.status for r in results] == [201, 200, 204, 200]
    assert results[0].ok
    assert results[0].body["id"] == "0015w00002ABCDEAA2"


async def test_more_than_25_subrequests_are_refused_before_sending(harness: Harness) -> None:
    subs = [SubRequest("GET", f"sobjects/Account/{n}", f"r{n}") for n in range(26)]
    async with harness.client as client:
        with pytest.raises(ConfigError, match="25"):
            await client.composite(subs)
        with pytest.raises(ConfigError):
            await client.composite([])
    assert harness.fake.requests == []
    assert harness.fake.token_requests == []


@pytest.mark.parametrize(
    "subs",
    [
        [SubRequest("GET", "a", "dup"), SubRequest("GET", "b", "dup")],
        [SubRequest("GET", "a", "bad ref")],
        [SubRequest("HEAD", "a", "ok")],
    ],
)
async def test_bad_subrequests_are_refused(harness: Harness, subs: list[SubRequest]) -> None:
    async with harness.client as client:
        with pytest.raises(ConfigError):
            await client.composite(subs)


async def test_all_or_none_failure_names_the_real_failure(harness: Harness) -> None:
    failure = [
        {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Name missing", "fields": ["Name"]}
    ]
    harness.fake.queue(
        composite_answer(sub_result("acc", 400, HALTED), sub_result("opp", 400, failure))
    )
    async with harness.client as client:
        with pytest.raises(RemoteRejectedError) as caught:
            await client.composite(writeback())
    error = caught.value
    assert error.code == "REQUIRED_FIELD_MISSING"
    assert error.field_path == "Name"
    assert error.context["reference_id"] == "opp"
    assert "opp" in error.operation
    assert "rolled back" not in error.message
    assert len(harness.fake.requests) == 1
    failed = [r for r in harness.records if r.error_code]
    assert failed[0].error_code == "REQUIRED_FIELD_MISSING"


async def test_without_all_or_none_failures_are_returned(harness: Harness) -> None:
    failure = [{"errorCode": "INVALID_FIELD", "message": "No such column"}]
    harness.fake.queue(
        composite_answer(sub_result("acc", 204, None), sub_result("opp", 400, failure))
    )
    async with harness.client as client:
        results = await client.composite(writeback(), all_or_none=False)
    assert results[0].ok
    assert not results[1].ok
    assert results[1].errors[0].code == "INVALID_FIELD"
    assert body_of(harness.fake.requests[0])["allOrNone"] is False


async def test_a_rolled_back_lock_error_is_retried_even_with_a_create(harness: Harness) -> None:
    locked = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}]
    subs = [SubRequest("POST", "sobjects/Account", "acc", {"Name": "Acme"})]
    harness.fake.queue(
        composite_answer(sub_result("acc", 400, locked)),
        composite_answer(sub_result("acc", 201, {"id": "0015w00002ABCDEAA2"})),
    )
    async with harness.client as client:
        results = await client.composite(subs)
    assert results[0].status == 201
    assert len(harness.fake.requests) == 2
    assert len(harness.sleeps) == 1


async def test_a_composite_with_a_create_is_not_resent_after_a_5xx(harness: Harness) -> None:
    subs = [SubRequest("POST", "sobjects/Account", "acc", {"Name": "Acme"})]
    harness.fake.queue(
        httpx.Response(500, json=[{"errorCode": "UNKNOWN_EXCEPTION", "message": "x"}])
    )
    async with harness.client as client:
        with pytest.raises(TransientError):
            await client.composite(subs)
    assert len(harness.fake.requests) == 1


def records(count: int, sobject: str = "Account", **extra: Any) -> list[dict[str, Any]]:
    return [{"attributes": {"type": sobject}, "Name": f"N{n}", **extra} for n in range(count)]


def save_results(request: httpx.Request) -> httpx.Response:
    sent = body_of(request)["records"]
    results = [{"id": f"001{n:015d}", "success": True, "errors": []} for n in range(len(sent))]
    return httpx.Response(200, json=results)


async def test_collections_are_chunked_by_200_in_order(harness: Harness) -> None:
    harness.fake.default = save_results
    async with harness.client as client:
        results = await client.collection_create(records(450))
    sizes = [len(body_of(r)["records"]) for r in harness.fake.requests]
    assert sizes == [200, 200, 50]
    assert all(r.url.path == f"{DATA}/composite/sobjects" for r in harness.fake.requests)
    assert all(r.method == "POST" for r in harness.fake.requests)
    assert len(results) == 450
    assert all(result.success for result in results)
    assert body_of(harness.fake.requests[0])["allOrNone"] is False


async def test_no_records_no_call(harness: Harness) -> None:
    async with harness.client as client:
        assert await client.collection_update([]) == []
    assert harness.fake.requests == []


async def test_per_record_status_code_errors_are_returned(harness: Harness) -> None:
    harness.fake.queue(
        httpx.Response(
            200,
            json=[
                {"id": "0015w00002ABCDEAA2", "success": True, "errors": []},
                {
                    "id": None,
                    "success": False,
                    "errors": [
                        {"statusCode": "DUPLICATE_VALUE", "message": "dup", "fields": ["Ext__c"]}
                    ],
                },
            ],
        )
    )
    rows = [
        {"attributes": {"type": "Account"}, "Id": "0015w00002ABCDEAA2", "Name": "A"},
        {"attributes": {"type": "Account"}, "Id": "0015w00002ABCDEAA3", "Name": "B"},
    ]
    async with harness.client as client:
        results = await client.collection_update(rows)
    assert harness.fake.requests[0].method == "PATCH"
    assert results[0].success
    assert results[1].errors[0].code == "DUPLICATE_VALUE"
    assert results[1].errors[0].fields == ("Ext__c",)


async def test_all_or_none_collection_failure_names_the_real_failure(harness: Harness) -> None:
    rolled = [{"statusCode": models.ALL_OR_NONE_OPERATION_ROLLED_BACK, "message": "rolled back"}]
    real = [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Name", "fields": ["Name"]}]
    harness.fake.queue(
        httpx.Response(
            200,
            json=[
                {"id": None, "success": False, "errors": rolled},
                {"id": None, "success": False, "errors": real},
            ],
        )
    )
    async with harness.client as client:
        with pytest.raises(RemoteRejectedError) as caught:
            await client.collection_create(records(2), all_or_none=True)
    assert caught.value.code == "REQUIRED_FIELD_MISSING"
    assert caught.value.context["index"] == 1
    assert body_of(harness.fake.requests[0])["allOrNone"] is True


async def test_upsert_collection_path_and_types(harness: Harness) -> None:
    harness.fake.default = save_results
    rows = [{"External_Id__c": "E1", "Name": "A"}, {"External_Id__c": "E2", "Name": "B"}]
    async with harness.client as client:
        await client.collection_upsert("Account", "External_Id__c", rows)
    request = harness.fake.requests[0]
    assert request.method == "PATCH"
    assert request.url.path == f"{DATA}/composite/sobjects/Account/External_Id__c"
    assert [r["attributes"]["type"] for r in body_of(request)["records"]] == ["Account", "Account"]


@pytest.mark.parametrize(
    ("method", "rows"),
    [
        ("create", [{"Name": "no type"}]),
        ("create", [{"attributes": {"type": "Account"}, "Id": "0015w00002ABCDEAA2"}]),
        ("update", [{"attributes": {"type": "Account"}, "Name": "no id"}]),
        ("update", [{"attributes": {"type": "Bad Type"}, "Id": "0015w00002ABCDEAA2"}]),
    ],
)
async def test_collection_records_are_checked(
    harness: Harness, method: str, rows: list[dict[str, Any]]
) -> None:
    async with harness.client as client:
        call = client.collection_create if method == "create" else client.collection_update
        with pytest.raises(ConfigError):
            await call(rows)
    assert harness.fake.requests == []


async def test_upsert_rows_need_the_external_id(harness: Harness) -> None:
    async with harness.client as client:
        with pytest.raises(ConfigError, match="External_Id__c"):
            await client.collection_upsert("Account", "External_Id__c", [{"Name": "A"}])


async def test_query_subrequests_carry_encoded_soql(harness: Harness) -> None:
    q = soql("SELECT Id FROM Account WHERE Name = {}", "A&B")
    subs = [
        SubRequest.query("acc", q),
        SubRequest("GET", "sobjects/Account/@{acc.records[0].Id}", "r"),
    ]
    harness.fake.queue(composite_answer(sub_result("acc", 200, {}), sub_result("r", 200, {})))
    async with harness.client as client:
        await client.composite(subs)
    urls = [item["url"] for item in body_of(harness.fake.requests[0])["compositeRequest"]]
    assert urls[0] == f"{DATA}/query?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+%27A%26B%27"
    assert urls[1] == f"{DATA}/sobjects/Account/@{{acc.records[0].Id}}"
    assert harness.fake.requests[0].method == "POST"


def test_query_subrequests_need_built_soql() -> None:
    with pytest.raises(ConfigError, match=r"soql\(\)"):
        SubRequest.query("acc", "SELECT Id FROM Account")  # type: ignore[arg-type]
