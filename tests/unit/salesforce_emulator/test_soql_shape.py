"""The REST JSON shape of results: the §4.1 deal query exactly, nesting, values, access path."""

# ruff: noqa: S608 - composing SOQL text from fixture values is what these tests do

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.connectors.salesforce.emulator.soql_engine import execute_soql
from tests.unit.salesforce_emulator.soql_support import (
    NOW,
    ORG,
    VERSION,
    MemorySource,
    acc,
    con,
    opp,
    prod,
    qli,
    quo,
    run,
    sfid,
    url,
)

# contracts/salesforce.md §4.1, verbatim but for line breaks
DEAL_QUERY = """SELECT Id, Name, StageName, IsWon, CloseDate, Amount, CurrencyIsoCode,
  SBQQ__Contracted__c, Account.Id, Account.Name, Account.BillingCity, Account.BillingCountry,
  SBQQ__PrimaryQuote__c, SBQQ__PrimaryQuote__r.SBQQ__StartDate__c,
  SBQQ__PrimaryQuote__r.SBQQ__EndDate__c, SBQQ__PrimaryQuote__r.SBQQ__SubscriptionTerm__c,
  SBQQ__PrimaryQuote__r.SBQQ__PrimaryContact__r.Email,
  (SELECT ContactId, Role, IsPrimary, Contact.Email FROM OpportunityContactRoles),
  (SELECT Id, (SELECT Id, SBQQ__Number__c, SBQQ__Product__r.ProductCode, SBQQ__Quantity__c,
       SBQQ__ListPrice__c, SBQQ__NetPrice__c, SBQQ__NetTotal__c, SBQQ__Discount__c,
       SBQQ__RequiredBy__c, SBQQ__SubscriptionPricing__c, SBQQ__SubscriptionTerm__c,
       SBQQ__StartDate__c, SBQQ__EndDate__c, SBQQ__ChargeType__c, SBQQ__BillingType__c,
       SBQQ__BillingFrequency__c FROM SBQQ__LineItems__r ORDER BY SBQQ__Number__c)
   FROM SBQQ__Quotes2__r WHERE SBQQ__Primary__c = true)
FROM Opportunity WHERE Id = '{id}'"""


def _line(n: int, code: str, number: float, values: dict[str, Any]) -> dict[str, Any]:
    """A quote line as the deal query renders it; unset fields are null."""
    fields: dict[str, Any] = {
        "SBQQ__Quantity__c": None,
        "SBQQ__ListPrice__c": None,
        "SBQQ__NetPrice__c": None,
        "SBQQ__NetTotal__c": None,
        "SBQQ__Discount__c": None,
        "SBQQ__RequiredBy__c": None,
        "SBQQ__SubscriptionPricing__c": None,
        "SBQQ__SubscriptionTerm__c": None,
        "SBQQ__StartDate__c": None,
        "SBQQ__EndDate__c": None,
        "SBQQ__ChargeType__c": None,
        "SBQQ__BillingType__c": None,
        "SBQQ__BillingFrequency__c": None,
        **values,
    }
    product = {
        "attributes": {"type": "Product2", "url": url("Product2", prod(n))},
        "ProductCode": code,
    }
    return {
        "attributes": {"type": "SBQQ__QuoteLine__c", "url": url("SBQQ__QuoteLine__c", qli(n))},
        "Id": qli(n),
        "SBQQ__Number__c": number,
        "SBQQ__Product__r": product,
        **fields,
    }


def _role(role_id: str, contact: str, role: str, primary: bool, email: str) -> dict[str, Any]:
    return {
        "attributes": {
            "type": "OpportunityContactRole",
            "url": url("OpportunityContactRole", role_id),
        },
        "ContactId": contact,
        "Role": role,
        "IsPrimary": primary,
        "Contact": {
            "attributes": {"type": "Contact", "url": url("Contact", contact)},
            "Email": email,
        },
    }


EXPECTED_DEAL = {
    "attributes": {"type": "Opportunity", "url": url("Opportunity", opp(1))},
    "Id": opp(1),
    "Name": "Acme - Platform",
    "StageName": "Closed Won",
    "IsWon": True,
    "CloseDate": "2025-07-11",
    "Amount": 45000.0,
    "CurrencyIsoCode": "USD",
    "SBQQ__Contracted__c": False,
    "Account": {
        "attributes": {"type": "Account", "url": url("Account", acc(1))},
        "Id": acc(1),
        "Name": "Acme Corp",
        "BillingCity": "Springfield",
        "BillingCountry": "US",
    },
    "SBQQ__PrimaryQuote__c": quo(1),
    "SBQQ__PrimaryQuote__r": {
        "attributes": {"type": "SBQQ__Quote__c", "url": url("SBQQ__Quote__c", quo(1))},
        "SBQQ__StartDate__c": "2025-08-01",
        "SBQQ__EndDate__c": "2026-07-31",
        "SBQQ__SubscriptionTerm__c": 12,
        "SBQQ__PrimaryContact__r": {
            "attributes": {"type": "Contact", "url": url("Contact", con(2))},
            "Email": "b@acme.com",
        },
    },
    "OpportunityContactRoles": {
        "totalSize": 2,
        "done": True,
        "records": [
            _role(sfid("00K", 1), con(1), "Economic Buyer", False, "alice@acme.com"),
            _role(sfid("00K", 2), con(2), "Decision Maker", True, "b@acme.com"),
        ],
    },
    "SBQQ__Quotes2__r": {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {"type": "SBQQ__Quote__c", "url": url("SBQQ__Quote__c", quo(1))},
                "Id": quo(1),
                "SBQQ__LineItems__r": {
                    "totalSize": 3,
                    "done": True,
                    "records": [
                        _line(1, "PLAT", 1.0, {
                            "SBQQ__Quantity__c": 10.0, "SBQQ__ListPrice__c": 350.0,
                            "SBQQ__NetPrice__c": 300.0, "SBQQ__NetTotal__c": 3000.0,
                            "SBQQ__Discount__c": 14.29,
                            "SBQQ__SubscriptionPricing__c": "Fixed Price",
                            "SBQQ__SubscriptionTerm__c": 12, "SBQQ__ChargeType__c": "Recurring",
                            "SBQQ__BillingType__c": "Advance",
                            "SBQQ__BillingFrequency__c": "Annual",
                        }),
                        _line(2, "SEAT", 2.0, {
                            "SBQQ__Quantity__c": 10.0, "SBQQ__ListPrice__c": 0.0,
                            "SBQQ__NetPrice__c": 0.0, "SBQQ__NetTotal__c": 0.0,
                            "SBQQ__RequiredBy__c": qli(1), "SBQQ__ChargeType__c": "Recurring",
                            "SBQQ__BillingFrequency__c": "Annual",
                        }),
                        _line(3, "ONB", 3.0, {
                            "SBQQ__Quantity__c": 1.0, "SBQQ__ListPrice__c": 42000.0,
                            "SBQQ__NetPrice__c": 42000.0, "SBQQ__NetTotal__c": 42000.0,
                            "SBQQ__ChargeType__c": "One-Time",
                        }),
                    ],
                },
            }
        ],
    },
}  # fmt: skip


def test_deal_query_answers_the_contract_shape_exactly() -> None:
    result = run(DEAL_QUERY.format(id=opp(1)))
    assert (result.total_size, result.sobject) == (1, "Opportunity")
    assert result.records == [EXPECTED_DEAL]
    assert list(result.records[0]) == list(EXPECTED_DEAL)  # key order is SELECT order


def test_deal_query_reads_by_id_and_index_never_by_scan() -> None:
    source = MemorySource(ORG)
    run(DEAL_QUERY.format(id=opp(1)), source=source)
    assert source.calls["records"] == 0
    assert source.calls["children"] == 3  # roles, quotes, lines of the one primary quote


def test_deal_query_without_roles_or_contact_gives_nulls() -> None:
    record = run(DEAL_QUERY.format(id=opp(4))).records[0]
    assert record["OpportunityContactRoles"] is None  # no children -> null (§1.3, observed)
    assert record["SBQQ__PrimaryQuote__r"]["SBQQ__PrimaryContact__r"] is None
    assert record["SBQQ__PrimaryQuote__r"]["SBQQ__EndDate__c"] is None
    lines = record["SBQQ__Quotes2__r"]["records"][0]["SBQQ__LineItems__r"]
    assert [line["Id"] for line in lines["records"]] == [qli(4)]


def test_deal_query_over_five_thousand_opportunities_touches_only_the_deal() -> None:
    tables = {name: list(rows) for name, rows in ORG.items()}
    tables["Opportunity"] += [
        {"Id": sfid("006", 1000 + n), "Name": f"Bulk {n}", "StageName": "Prospecting",
         "CloseDate": "2025-09-01", "AccountId": acc(2), "IsDeleted": False}
        for n in range(5000)
    ]  # fmt: skip
    source = MemorySource(tables)
    result = execute_soql(DEAL_QUERY.format(id=opp(1)), source, api_version=VERSION, now=NOW)
    assert result.records == [EXPECTED_DEAL]
    assert source.calls["records"] == 0
    everything = execute_soql("SELECT Id, Name FROM Opportunity", source, api_version=VERSION)
    assert everything.total_size == 5005


def test_empty_lookup_renders_a_null_parent() -> None:
    result = run(f"SELECT Name, Account.Name FROM Opportunity WHERE Id = '{opp(5)}'")
    assert result.records[0]["Account"] is None


def test_a_lookup_holding_no_id_renders_a_null_parent() -> None:
    source = MemorySource({"Contact": [{"Id": con(9), "LastName": "X", "AccountId": "garbage"}]})
    result = execute_soql("SELECT Account.Name FROM Contact", source, api_version=VERSION)
    assert result.records[0]["Account"] is None


def test_parent_fields_merge_into_one_object_at_the_first_position() -> None:
    soql = (
        "SELECT Account.Name, Id, Account.Id, Account.BillingCity FROM Opportunity "
        f"WHERE Id = '{opp(2)}'"
    )
    record = run(soql).records[0]
    assert list(record) == ["attributes", "Account", "Id"]
    assert list(record["Account"]) == ["attributes", "Name", "Id", "BillingCity"]
    assert record["Account"]["BillingCity"] == "Paris"


def test_output_uses_canonical_names_whatever_the_case_written() -> None:
    soql = (
        "select id, NAME, account.name, sbqq__primaryquote__r.name from opportunity "
        f"where id = '{opp(1)}'"
    )
    record = run(soql).records[0]
    assert list(record) == ["attributes", "Id", "Name", "Account", "SBQQ__PrimaryQuote__r"]
    assert record["Account"]["Name"] == "Acme Corp"
    assert record["SBQQ__PrimaryQuote__r"]["Name"] == "Q-00058"


def test_value_types_follow_the_field_types() -> None:
    soql = (
        "SELECT Amount, Probability, CloseDate, CreatedDate, IsWon, SBQQ__Ordered__c, "
        f"SBQQ__PrimaryQuote__r.SBQQ__SubscriptionTerm__c FROM Opportunity WHERE Id = '{opp(2)}'"
    )
    record = run(soql).records[0]
    assert record["Amount"] == 12000.5
    assert isinstance(record["Probability"], float)
    assert record["CloseDate"] == "2025-08-01"  # stored as a date object
    assert record["CreatedDate"] == "2025-05-02T09:00:00.000+0000"
    assert record["IsWon"] is False
    assert record["SBQQ__Ordered__c"] is False  # never stored: checkboxes are never null
    assert record["SBQQ__PrimaryQuote__r"] is None
    term = run(f"SELECT SBQQ__SubscriptionTerm__c FROM SBQQ__Quote__c WHERE Id = '{quo(1)}'")
    assert term.records[0]["SBQQ__SubscriptionTerm__c"] == 12
    assert isinstance(term.records[0]["SBQQ__SubscriptionTerm__c"], int)


def test_records_carry_type_and_url_of_the_request_version() -> None:
    result = execute_soql(
        f"SELECT Id FROM Account WHERE Id = '{acc(2)}'", MemorySource(ORG), api_version="58.0"
    )
    record_url = f"/services/data/v58.0/sobjects/Account/{acc(2)}"
    assert result.records == [{"attributes": {"type": "Account", "url": record_url}, "Id": acc(2)}]


@pytest.mark.parametrize(
    ("subquery", "expected"),
    [
        ("(SELECT LastName FROM Contacts)", ["Smith", "Jones"]),
        ("(SELECT LastName FROM Account.Contacts)", ["Smith", "Jones"]),
        ("(SELECT LastName FROM contacts ORDER BY LastName)", ["Jones", "Smith"]),
        ("(SELECT LastName FROM Contacts WHERE Title = 'CFO')", ["Smith"]),
        ("(SELECT LastName FROM Contacts ORDER BY LastName DESC LIMIT 1)", ["Smith"]),
        ("(SELECT LastName FROM Contacts WHERE Email LIKE '%globex%')", None),
    ],
)
def test_child_subqueries_filter_sort_and_limit(subquery: str, expected: list[str] | None) -> None:
    record = run(f"SELECT Name, {subquery} FROM Account WHERE Id = '{acc(1)}'").records[0]
    contacts = record["Contacts"]
    if expected is None:
        assert contacts is None
    else:
        assert contacts["totalSize"] == len(expected)
        assert contacts["done"] is True
        assert [c["LastName"] for c in contacts["records"]] == expected


def test_subquery_offset_is_allowed_under_a_parent_limited_to_one() -> None:
    soql = "SELECT (SELECT LastName FROM Contacts ORDER BY LastName OFFSET 1) FROM Account LIMIT 1"
    assert run(soql).records[0]["Contacts"]["records"][0]["LastName"] == "Smith"


def test_query_all_shows_deleted_children() -> None:
    soql = (
        f"SELECT (SELECT Role FROM OpportunityContactRoles) FROM Opportunity WHERE Id = '{opp(1)}'"
    )
    live = run(soql).records[0]["OpportunityContactRoles"]
    everything = run(soql, include_deleted=True).records[0]["OpportunityContactRoles"]
    assert (live["totalSize"], everything["totalSize"]) == (2, 3)


def test_child_subqueries_per_parent_row() -> None:
    result = run("SELECT Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name")
    by_name = {r["Name"]: r["Contacts"] for r in result.records}
    assert by_name["Globex"]["records"][0]["LastName"] == "White"
    assert by_name["Initech"] is None


LINES_OF_QUOTE = (
    "SELECT Id, SBQQ__Number__c FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{id}'"
    " ORDER BY SBQQ__Number__c"
)


@pytest.mark.parametrize("quote_id", [quo(1), quo(1)[:15]])
def test_a_pinned_lookup_reads_through_the_reference_index_not_a_scan(quote_id: str) -> None:
    source = MemorySource(ORG)
    result = run(LINES_OF_QUOTE.format(id=quote_id), source=source)
    assert [row["Id"] for row in result.records] == [qli(1), qli(2), qli(3)]
    assert (source.calls["records"], source.calls["children"]) == (0, 1)


def test_a_pinned_lookup_still_applies_the_rest_of_the_where() -> None:
    source = MemorySource(ORG)
    soql = (
        f"SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{quo(1)}'"
        " AND SBQQ__ProductCode__c = 'SEAT'"
    )
    assert [row["Id"] for row in run(soql, source=source).records] == [qli(2)]
    assert source.calls["records"] == 0


def test_a_lookup_compared_otherwise_is_scanned() -> None:
    for soql in (
        f"SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c != '{quo(1)}'",
        f"SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{quo(1)}' OR Id = '{qli(4)}'",
        "SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__ProductCode__c = 'PLAT'",
    ):
        source = MemorySource(ORG)
        run(soql, source=source)
        assert source.calls["records"] == 1, soql
