"""The Salesforce emulator's REST API over real HTTP, as a separate process, with raw httpx.

Pins the emulator to ``shared/contracts/salesforce.md``: versions (§1.1), query paging (§1.2,
§1.3), CRUD and upsert statuses (§1.5), Composite and Collections (§1.6), limit headers (§1.7),
error arrays (§1.8). One emulator serves the module; each test starts from an empty org (the
control API's reset) and loads what it needs. No test sleeps for timing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.salesforce_org import DATA, SalesforceOrg, api_usage, salesforce_process

LOCATOR = re.compile(r"^/services/data/v65\.0/query/01g[A-Za-z0-9]{15}-(\d+)$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")
OPPORTUNITY = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-06-30"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceOrg]:
    with salesforce_process(tmp_path_factory.mktemp("sf-http"), "--deals", "10") as org:
        yield org


@pytest.fixture
def org(emulator: SalesforceOrg) -> SalesforceOrg:
    emulator.reset()
    return emulator


def accounts(count: int, prefix: str = "Bulk") -> list[dict[str, Any]]:
    return [{"Name": f"{prefix} {n:05d}"} for n in range(count)]


def error_code(response: Any) -> str:
    body = response.json()
    assert isinstance(body, list), body
    code: str = body[0]["errorCode"]
    return code


# -- versions and headers (§1.1, §1.7) -----------------------------------------------------------


def test_versions_list_needs_no_session_and_has_no_limit_header(org: SalesforceOrg) -> None:
    for path in ("/services/data/", "/services/data"):
        response = org.anonymous.get(path)
        assert response.status_code == 200
        assert "sforce-limit-info" not in response.headers
        versions = {entry["version"]: entry for entry in response.json()}
        assert {f"{n}.0" for n in range(59, 67)} <= versions.keys()
        assert versions["65.0"] == {
            "label": "Winter '26",
            "url": "/services/data/v65.0",
            "version": "65.0",
        }


@pytest.mark.parametrize(("version", "status"), [("v99.0", 404), ("v25.0", 410), ("65.0", 404)])
def test_unknown_or_retired_versions_are_refused(
    org: SalesforceOrg, version: str, status: int
) -> None:
    response = org.rest.get(f"/services/data/{version}/limits")
    assert response.status_code == status
    assert isinstance(response.json(), list)


def test_every_rest_response_carries_limit_info_and_counts_calls(org: SalesforceOrg) -> None:
    first = org.rest.get(f"{DATA}/limits")
    second = org.query("SELECT Id FROM Account")
    bad = org.query("SELECT FROM")
    used = [api_usage(response) for response in (first, second, bad)]
    assert used == [used[0], used[0] + 1, used[0] + 2]
    assert first.json()["DailyApiRequests"]["Max"] == 100_000


def test_exhausted_allocation_is_403_until_reset(org: SalesforceOrg) -> None:
    org.faults(daily_api_limit=3)
    statuses = [org.rest.get(f"{DATA}/limits").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 403]
    refused = org.query("SELECT Id FROM Account")
    assert refused.json() == [
        {
            "message": "TotalRequests Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
            "fields": [],
        }
    ]
    assert refused.headers["sforce-limit-info"] == "api-usage=3/3"
    org.faults(daily_api_limit=10)
    assert org.rest.get(f"{DATA}/limits").json()["DailyApiRequests"] == {"Max": 10, "Remaining": 6}


# -- query and queryAll (§1.2, §1.3) ------------------------------------------------------------


def test_query_and_query_all_with_and_without_trailing_slash(org: SalesforceOrg) -> None:
    kept, gone = org.create("Account", {"Name": "Kept"}), org.create("Account", {"Name": "Gone"})
    assert org.rest.delete(f"{DATA}/sobjects/Account/{gone}").status_code == 204
    soql = "SELECT Id, IsDeleted FROM Account ORDER BY Name"
    for resource in ("query", "query/"):
        body = org.ok(org.query(soql, resource=resource))
        assert body == {
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "Account", "url": f"{DATA}/sobjects/Account/{kept}"},
                    "Id": kept,
                    "IsDeleted": False,
                }
            ],
        }
    for resource in ("queryAll", "queryAll/"):
        rows = org.ok(org.query(soql, resource=resource))["records"]
        assert [(row["Id"], row["IsDeleted"]) for row in rows] == [(gone, True), (kept, False)]


def test_large_result_pages_by_locator_in_batches(org: SalesforceOrg) -> None:
    org.load({"Account": accounts(2500)})
    first = org.ok(org.query("SELECT Id, Name FROM Account ORDER BY Name"))
    assert (first["totalSize"], first["done"], len(first["records"])) == (2500, False, 2000)
    assert LOCATOR.match(first["nextRecordsUrl"])[1] == "2000"  # type: ignore[index]
    second = org.ok(org.rest.get(first["nextRecordsUrl"]))
    assert (second["done"], len(second["records"]), "nextRecordsUrl" in second) == (
        True,
        500,
        False,
    )
    names = [row["Name"] for page in (first, second) for row in page["records"]]
    assert names == sorted(names)
    assert len(set(names)) == 2500


@pytest.mark.parametrize(("hint", "size"), [("batchSize=500", 500), ("batchSize=50", 200)])
def test_batch_size_hint_is_honoured_within_its_range(
    org: SalesforceOrg, hint: str, size: int
) -> None:
    org.load({"Account": accounts(1000)})
    pages = org.query_all_pages("SELECT Id FROM Account", **{"Sforce-Query-Options": hint})
    assert [len(page["records"]) for page in pages[:-1]] == [size] * (len(pages) - 1)
    assert sum(len(page["records"]) for page in pages) == 1000


def test_query_all_locators_also_use_the_query_path(org: SalesforceOrg) -> None:
    org.load({"Account": accounts(2100)})
    first = org.ok(org.query("SELECT Id FROM Account", resource="queryAll"))
    assert LOCATOR.match(first["nextRecordsUrl"])
    assert len(org.ok(org.rest.get(first["nextRecordsUrl"]))["records"]) == 100


def test_child_rows_count_toward_the_batch(org: SalesforceOrg) -> None:
    org.load({"Account": accounts(10)})
    ids = [row["Id"] for row in org.dump("Account")]
    org.load({"Contact": [{"LastName": f"C{n}", "AccountId": a} for a in ids for n in range(150)]})
    soql = "SELECT Id, (SELECT Id FROM Contacts) FROM Account"
    pages = org.query_all_pages(soql, **{"Sforce-Query-Options": "batchSize=500"})
    # 3 accounts x (1 + 150 contacts) = 453 rows fit in 500; a fourth would not.
    assert [len(page["records"]) for page in pages] == [3, 3, 3, 1]
    assert {row["Id"] for page in pages for row in page["records"]} == set(ids)


def test_long_child_list_is_cut_and_carries_its_own_locator(org: SalesforceOrg) -> None:
    account = org.create("Account", {"Name": "Big"})
    org.load({"Contact": [{"LastName": f"C{n:03d}", "AccountId": account} for n in range(450)]})
    soql = f"SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id = '{account}'"  # noqa: S608
    body = org.ok(org.query(soql, **{"Sforce-Query-Options": "batchSize=200"}))
    assert (body["totalSize"], body["done"]) == (1, True)
    child = body["records"][0]["Contacts"]
    seen = []
    while True:
        assert child["totalSize"] == 450
        seen += [row["Id"] for row in child["records"]]
        if child["done"]:
            break
        assert LOCATOR.match(child["nextRecordsUrl"])
        child = org.ok(org.rest.get(child["nextRecordsUrl"]))
    assert len(seen) == len(set(seen)) == 450


def test_children_are_null_when_empty(org: SalesforceOrg) -> None:
    org.create("Account", {"Name": "Lonely"})
    rows = org.ok(org.query("SELECT Name, (SELECT Id FROM Contacts) FROM Account"))["records"]
    assert rows[0]["Contacts"] is None


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT FROM Account", "MALFORMED_QUERY"),
        ("SELECT Bogus__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Nothing", "INVALID_TYPE"),
        ("SELECT Id FROM Account LIMIT 10 OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
        ("", "MALFORMED_QUERY"),
    ],
)
def test_bad_soql_is_400_with_its_code(org: SalesforceOrg, soql: str, code: str) -> None:
    response = org.query(soql)
    assert response.status_code == 400
    assert error_code(response) == code


def test_unknown_locator_is_refused(org: SalesforceOrg) -> None:
    response = org.rest.get(f"{DATA}/query/01gXXXXXXXXXXXXAAA-2000")
    assert (response.status_code, error_code(response)) == (400, "INVALID_QUERY_LOCATOR")


# -- sObject rows (§1.5) ------------------------------------------------------------------------


def test_crud_statuses(org: SalesforceOrg) -> None:
    created = org.rest.post(f"{DATA}/sobjects/Account/", json={"Name": "Acme"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    account = body["id"]
    assert len(account) == 18
    assert account.startswith("001")
    assert org.ok(org.rest.get(f"{DATA}/sobjects/Account/{account}?fields=Name,Id")) == {
        "attributes": {"type": "Account", "url": f"{DATA}/sobjects/Account/{account}"},
        "Name": "Acme",
        "Id": account,
    }
    updated = org.rest.patch(f"{DATA}/sobjects/Account/{account}", json={"Name": "Acme Corp"})
    assert (updated.status_code, updated.content) == (204, b"")
    assert org.ok(org.get("Account", account[:15]))["Name"] == "Acme Corp"  # 15-char id works
    assert org.rest.delete(f"{DATA}/sobjects/Account/{account}").status_code == 204
    for response in (
        org.get("Account", account),
        org.rest.patch(f"{DATA}/sobjects/Account/{account}", json={"Name": "x"}),
        org.rest.delete(f"{DATA}/sobjects/Account/{account}"),
    ):
        assert (response.status_code, error_code(response)) == (404, "ENTITY_IS_DELETED")
    missing = org.get("Account", "001000000000000AAA")
    assert (missing.status_code, error_code(missing)) == (404, "NOT_FOUND")


def test_org_sets_audit_fields_and_stage_flags(org: SalesforceOrg) -> None:
    won = org.create("Opportunity", {**OPPORTUNITY, "StageName": "Closed Won"})
    lost = org.create("Opportunity", {**OPPORTUNITY, "StageName": "Closed Lost"})
    flags = [
        (r["IsWon"], r["IsClosed"])
        for r in (org.ok(org.get("Opportunity", won)), org.ok(org.get("Opportunity", lost)))
    ]
    assert flags == [(True, True), (False, True)]
    record = org.ok(org.get("Opportunity", won))
    assert all(DATETIME.match(record[f]) for f in ("CreatedDate", "SystemModstamp"))
    org.rest.patch(f"{DATA}/sobjects/Opportunity/{won}", json={"StageName": "Prospecting"})
    assert org.ok(org.get("Opportunity", won))["IsWon"] is False


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({**OPPORTUNITY, "Bogus__c": 1}, "INVALID_FIELD", []),
        ({**OPPORTUNITY, "Id": "006000000000001AAA"}, "INVALID_FIELD", []),
        ({**OPPORTUNITY, "IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsWon"]),
        (
            {**OPPORTUNITY, "SystemModstamp": "2025-01-01T00:00:00Z"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["SystemModstamp"],
        ),
        ({"Name": "No stage"}, "REQUIRED_FIELD_MISSING", ["StageName", "CloseDate"]),
        (
            {**OPPORTUNITY, "SBQQ__Contracted__c": "yes"},
            "JSON_PARSER_ERROR",
            ["SBQQ__Contracted__c"],
        ),
        ({**OPPORTUNITY, "CloseDate": "2026-02-30"}, "JSON_PARSER_ERROR", ["CloseDate"]),
        ({**OPPORTUNITY, "Amount": "lots"}, "JSON_PARSER_ERROR", ["Amount"]),
        ({**OPPORTUNITY, "Name": "x" * 121}, "STRING_TOO_LONG", ["Name"]),
        ({**OPPORTUNITY, "AccountId": "not-an-id"}, "MALFORMED_ID", ["AccountId"]),
        (
            {**OPPORTUNITY, "AccountId": "001000000000099AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
    ],
)
def test_invalid_records_are_refused_and_change_nothing(
    org: SalesforceOrg, body: dict[str, Any], code: str, fields: list[str]
) -> None:
    response = org.rest.post(f"{DATA}/sobjects/Opportunity/", json=body)
    assert response.status_code == 400
    assert (response.json()[0]["errorCode"], response.json()[0]["fields"]) == (code, fields)
    assert org.count("SELECT Id FROM Opportunity") == 0


def test_malformed_json_and_duplicate_unique_values(org: SalesforceOrg) -> None:
    bad = org.rest.post(
        f"{DATA}/sobjects/Account/", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert (bad.status_code, error_code(bad)) == (400, "JSON_PARSER_ERROR")
    org.create("Account", {"Name": "A", "NetSuite_Customer_Id__c": "NS-1"})
    clash = org.rest.post(
        f"{DATA}/sobjects/Account/", json={"Name": "B", "NetSuite_Customer_Id__c": "ns-1"}
    )
    assert (clash.status_code, error_code(clash)) == (400, "DUPLICATE_VALUE")


def test_upsert_by_external_id_statuses(org: SalesforceOrg) -> None:
    url = f"{DATA}/sobjects/Account/NetSuite_Customer_Id__c/NS-7"
    created = org.rest.patch(url, json={"Name": "Seven"})
    assert created.status_code == 201
    account = created.json()["id"]
    assert created.json() == {"id": account, "success": True, "errors": [], "created": True}
    updated = org.rest.patch(url, json={"Name": "Seven B"})
    assert (updated.status_code, updated.json()) == (
        200,
        {"id": account, "success": True, "errors": [], "created": False},
    )
    assert org.ok(org.rest.get(url))["Name"] == "Seven B"
    only = org.rest.patch(url.replace("NS-7", "NS-8") + "?updateOnly=true", json={"Name": "x"})
    assert only.status_code == 404
    not_external = org.rest.patch(f"{DATA}/sobjects/Account/Name/Seven", json={"Phone": "1"})
    assert (not_external.status_code, error_code(not_external)) == (404, "NOT_FOUND")
    in_body = org.rest.patch(url, json={"NetSuite_Customer_Id__c": "NS-7"})
    assert in_body.status_code == 400


def test_upsert_with_several_matches_is_300_with_their_urls(org: SalesforceOrg) -> None:
    org.load({"Account": [{"Name": n, "NetSuite_Customer_Id__c": "DUP"} for n in ("A", "B")]})
    response = org.rest.patch(f"{DATA}/sobjects/Account/NetSuite_Customer_Id__c/DUP", json={})
    assert response.status_code == 300
    ids = sorted(row["Id"] for row in org.dump("Account"))
    assert sorted(response.json()) == [f"{DATA}/sobjects/Account/{i}" for i in ids]


def test_describe_global_describe_and_updated(org: SalesforceOrg) -> None:
    names = {e["name"] for e in org.ok(org.rest.get(f"{DATA}/sobjects/"))["sobjects"]}
    assert {"Account", "Opportunity", "SBQQ__Quote__c", "SBQQ__QuoteLine__c"} <= names
    fields = {
        f["name"]: f
        for f in org.ok(org.rest.get(f"{DATA}/sobjects/Opportunity/describe"))["fields"]
    }
    assert (fields["IsWon"]["createable"], fields["StageName"]["nillable"]) == (False, False)
    assert org.rest.get(f"{DATA}/sobjects/Nothing/describe").status_code == 404
    account = org.create("Account", {"Name": "Recent"})
    window = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
    updated = org.ok(org.rest.get(f"{DATA}/sobjects/Account/updated/", params=window))
    assert updated["ids"] == [account]
    assert DATETIME.match(updated["latestDateCovered"])


def test_unsupported_method_is_405(org: SalesforceOrg) -> None:
    response = org.rest.put(f"{DATA}/sobjects/Account/001000000000000AAA", json={})
    assert (response.status_code, error_code(response)) == (405, "METHOD_NOT_ALLOWED")


# -- faults ------------------------------------------------------------------------------------


def test_injected_faults(org: SalesforceOrg) -> None:
    org.faults(row_lock_rate=1.0)
    locked = org.rest.post(f"{DATA}/sobjects/Account/", json={"Name": "Locked"})
    assert (locked.status_code, error_code(locked)) == (400, "UNABLE_TO_LOCK_ROW")
    assert "unable to obtain exclusive access to this record" in locked.json()[0]["message"]
    assert org.query("SELECT Id FROM Account").status_code == 200  # reads never lock
    org.faults(row_lock_rate=0.0, error_rate=1.0)
    failed = org.query("SELECT Id FROM Account")
    assert (failed.status_code, error_code(failed)) == (500, "UNKNOWN_EXCEPTION")
    org.faults(error_rate=0.0, unavailable_rate=1.0)
    assert org.query("SELECT Id FROM Account").status_code == 503
    stats = org.ok(org.control.get("/stats"))
    assert stats["faults_injected"] == {"row_lock": 1, "error": 1, "unavailable": 1}
    assert org.dump("Account") == []


def test_restart_on_the_same_state_dir_keeps_records_and_credentials(tmp_path: Path) -> None:
    with salesforce_process(tmp_path, "--deals", "0") as first:
        account = first.create("Account", {"Name": "Durable"})
        before = first.info
    with salesforce_process(tmp_path, "--deals", "0") as second:
        assert second.ok(second.get("Account", account))["Name"] == "Durable"
        assert second.info["jwt"] == {
            **before["jwt"],
            **{k: second.info["jwt"][k] for k in ("audience", "token_url")},
        }
        assert (second.info["org_id"], second.info["state_dir"]) == (
            before["org_id"],
            str(tmp_path),
        )
