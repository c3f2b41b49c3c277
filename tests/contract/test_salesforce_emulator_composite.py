"""Composite and sObject Collections on the Salesforce emulator over real HTTP (contracts §1.6).

References between subrequests, ``allOrNone`` rollback (verified against what is stored), the
``PROCESSING_HALTED`` / ``ALL_OR_NONE_OPERATION_ROLLED_BACK`` answers, ``statusCode`` (not
``errorCode``) in collection results, limits on request size, and one API call per Composite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.salesforce_org import DATA, SalesforceOrg, api_usage, salesforce_process

HALTED = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
    }
]
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}
OPPORTUNITY = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-06-30"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceOrg]:
    with salesforce_process(tmp_path_factory.mktemp("sf-composite"), "--deals", "0") as org:
        yield org


@pytest.fixture
def org(emulator: SalesforceOrg) -> SalesforceOrg:
    emulator.reset()
    return emulator


def sub(method: str, path: str, ref: str, body: Any = None) -> dict[str, Any]:
    request = {"method": method, "url": f"{DATA}{path}", "referenceId": ref}
    return request if body is None else {**request, "body": body}


def composite(org: SalesforceOrg, *subrequests: dict[str, Any], **options: Any) -> Any:
    response = org.rest.post(
        f"{DATA}/composite", json={"compositeRequest": list(subrequests), **options}
    )
    return response


def test_references_chain_subrequests_and_count_as_one_call(org: SalesforceOrg) -> None:
    before = org.rest.get(f"{DATA}/limits")
    response = composite(
        org,
        sub("POST", "/sobjects/Account/", "acc", {"Name": "Ref Co"}),
        sub("POST", "/sobjects/Contact/", "con", {"LastName": "Ng", "AccountId": "@{acc.id}"}),
        sub("GET", "/query/?q=SELECT+Id,AccountId+FROM+Contact+WHERE+AccountId='@{acc.id}'", "q"),
        sub("GET", "/sobjects/Account/@{q.records[0].AccountId}?fields=Name", "read"),
        sub("PATCH", "/sobjects/Account/@{acc.id}", "upd", {"Phone": "@{q.totalSize}"}),
        allOrNone=True,
    )
    assert response.status_code == 200
    results = {r["referenceId"]: r for r in response.json()["compositeResponse"]}
    account = results["acc"]["body"]["id"]
    assert results["acc"]["httpStatusCode"] == 201
    assert results["acc"]["httpHeaders"] == {"Location": f"{DATA}/sobjects/Account/{account}"}
    assert results["q"]["body"]["records"][0]["AccountId"] == account
    assert results["read"]["body"]["Name"] == "Ref Co"
    assert (results["upd"]["httpStatusCode"], results["upd"]["body"]) == (204, None)
    assert org.ok(org.get("Account", account))["Phone"] == "1"
    assert api_usage(response) == api_usage(before) + 1  # five subrequests, one API call


def test_all_or_none_failure_rolls_back_every_write(org: SalesforceOrg) -> None:
    org.ok(org.control.post("/outbound/endpoints", json={"url": "http://127.0.0.1:9/never"}))
    response = composite(
        org,
        sub("POST", "/sobjects/Account/", "acc", {"Name": "Ghost"}),
        sub("POST", "/sobjects/Opportunity/", "won", {**OPPORTUNITY, "StageName": "Closed Won"}),
        sub("POST", "/sobjects/Opportunity/", "bad", {"Name": "No stage"}),
        sub("POST", "/sobjects/Account/", "never", {"Name": "Never"}),
        allOrNone=True,
    )
    entries = response.json()["compositeResponse"]
    assert [e["httpStatusCode"] for e in entries] == [400, 400, 400, 400]
    assert [e["body"] for e in entries[:2] + entries[3:]] == [HALTED] * 3
    assert entries[2]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert org.dump("Account") == []
    assert org.dump("Opportunity") == []
    stats = org.ok(org.control.get("/stats"))
    assert stats["outbound_pending"] == 0  # a rolled-back win notifies nobody


def test_without_all_or_none_each_subrequest_stands_alone(org: SalesforceOrg) -> None:
    response = composite(
        org,
        sub("POST", "/sobjects/Account/", "ok", {"Name": "Kept"}),
        sub("POST", "/sobjects/Account/", "bad", {"Bogus__c": 1}),
        sub("PATCH", "/sobjects/Account/@{bad.id}", "dependent", {"Name": "x"}),
    )
    entries = response.json()["compositeResponse"]
    assert [e["httpStatusCode"] for e in entries] == [201, 400, 400]
    assert entries[1]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert entries[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert [row["Name"] for row in org.dump("Account")] == ["Kept"]


@pytest.mark.parametrize(
    "request_body",
    [
        {"compositeRequest": [sub("GET", "/limits", f"r{n}") for n in range(26)]},
        {"compositeRequest": [{**sub("GET", "/limits", "r"), "httpHeaders": {"Accept": "x"}}]},
        {"compositeRequest": [sub("GET", "/limits", "r"), sub("GET", "/limits", "r")]},
        {"compositeRequest": []},
        {
            "compositeRequest": [{**sub("POST", "/sobjects/Account/", "r", {"Name": "x"})}] * 1
            + [{"method": "GET", "url": "/limits"}]
        },
    ],
    ids=["26-subrequests", "inherited-header", "duplicate-ref", "empty", "no-reference-id"],
)
def test_malformed_composite_is_400_and_runs_nothing(
    org: SalesforceOrg, request_body: dict[str, Any]
) -> None:
    response = org.rest.post(f"{DATA}/composite", json=request_body)
    assert response.status_code == 400
    assert isinstance(response.json(), list)
    assert org.dump("Account") == []


def test_subrequest_outside_the_data_path_fails_alone(org: SalesforceOrg) -> None:
    response = composite(org, {"method": "GET", "url": "/limits", "referenceId": "r"})
    assert response.status_code == 200
    assert response.json()["compositeResponse"][0]["httpStatusCode"] == 400


def test_collections_create_reports_status_code_per_record(org: SalesforceOrg) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "One"},
        {"attributes": {"type": "Account"}, "Bogus__c": "x"},
        {"attributes": {"type": "Contact"}, "LastName": "Two"},
    ]
    response = org.rest.post(f"{DATA}/composite/sobjects", json={"records": records})
    assert response.status_code == 200
    results = response.json()
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_FIELD",
                "message": "No such column 'Bogus__c' on sobject of type Account",
                "fields": [],
            }
        ],
    }
    assert "errorCode" not in results[1]["errors"][0]
    assert len(org.dump("Account")) == len(org.dump("Contact")) == 1


def test_collections_all_or_none_rolls_back(org: SalesforceOrg) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "One"},
        {"attributes": {"type": "Opportunity"}, "Name": "Stage-less"},
    ]
    response = org.rest.post(
        f"{DATA}/composite/sobjects", json={"allOrNone": True, "records": records}
    )
    results = response.json()
    assert results[0] == {"id": None, "success": False, "errors": [ROLLED_BACK]}
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert org.dump("Account") == []


def test_collections_update_upsert_retrieve_delete(org: SalesforceOrg) -> None:
    first, second = org.create("Account", {"Name": "A"}), org.create("Account", {"Name": "B"})
    updates = [
        {"attributes": {"type": "Account"}, "Id": first, "Name": "A2"},
        {"attributes": {"type": "Account"}, "Name": "no id"},
    ]
    updated = org.ok(org.rest.patch(f"{DATA}/composite/sobjects", json={"records": updates}))
    assert updated[0] == {"id": first, "success": True, "errors": []}
    assert updated[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    upserts = [
        {"attributes": {"type": "Account"}, "NetSuite_Customer_Id__c": "N1", "Name": "New"},
        {"attributes": {"type": "Account"}, "NetSuite_Customer_Id__c": "N1", "Name": "Again"},
    ]
    url = f"{DATA}/composite/sobjects/Account/NetSuite_Customer_Id__c"
    upserted = org.ok(org.rest.patch(url, json={"records": upserts}))
    assert [(r["success"], r["created"]) for r in upserted] == [(True, True), (True, False)]
    retrieved = org.ok(
        org.rest.get(
            f"{DATA}/composite/sobjects/Account",
            params={"ids": f"{first},001000000000000AAA", "fields": "Name"},
        )
    )
    assert retrieved[0]["Name"] == "A2"
    assert retrieved[1] is None
    deleted = org.ok(
        org.rest.delete(f"{DATA}/composite/sobjects", params={"ids": f"{second},nonsense"})
    )
    assert [r["success"] for r in deleted] == [True, False]
    assert deleted[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_malformed_collections_are_400(org: SalesforceOrg) -> None:
    too_many = [{"attributes": {"type": "Account"}, "Name": str(n)} for n in range(201)]
    for body in ({"records": too_many}, {"records": "nope"}, [1, 2]):
        response = org.rest.post(f"{DATA}/composite/sobjects", json=body)
        assert response.status_code == 400
        assert isinstance(response.json(), list)
    bad_field = org.rest.patch(f"{DATA}/composite/sobjects/Account/Name", json={"records": []})
    assert bad_field.status_code == 400
    assert org.dump("Account") == []
