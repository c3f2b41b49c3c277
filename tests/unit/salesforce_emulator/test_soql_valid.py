"""Valid SOQL over the fixture org: which records come back, in which order.

Each case is (statement, field to read, expected values in order). ``NOW`` is Tuesday
2025-07-15 10:30 UTC, so date literals have fixed answers.
"""

# ruff: noqa: S608 - composing SOQL text from fixture values is what these tests do

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.salesforce_emulator.soql_support import (
    acc,
    column,
    opp,
    qli,
    quo,
    run,
)

ALL_ACCOUNTS = ["Acme Corp", "Globex", "Initech", "O'Brien & Sons", "100% Pure_Water"]
SORTED_ACCOUNTS = ["100% Pure_Water", "Acme Corp", "Globex", "Initech", "O'Brien & Sons"]
PLATFORM, RENEWAL, EXPANSION, SERVICES, ORPHAN = (
    "Acme - Platform",
    "Globex - Renewal",
    "Initech - Expansion",
    "Acme - Services",
    "Orphan deal",
)

ACCOUNT_CASES: list[tuple[str, list[str]]] = [
    ("SELECT Name FROM Account", ALL_ACCOUNTS),
    ("select name from account", ALL_ACCOUNTS),
    ("SeLeCt NAME fRoM ACCOUNT", ALL_ACCOUNTS),
    ("SELECT Name FROM Account ORDER BY Name", SORTED_ACCOUNTS),
    ("SELECT Name FROM Account ORDER BY Name DESC", SORTED_ACCOUNTS[::-1]),
    ("SELECT Name FROM Account ORDER BY Name LIMIT 2", SORTED_ACCOUNTS[:2]),
    ("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1", SORTED_ACCOUNTS[1:3]),
    ("SELECT Name FROM Account ORDER BY Name OFFSET 4", SORTED_ACCOUNTS[4:]),
    ("SELECT Name FROM Account ORDER BY Name OFFSET 2000", []),
    ("SELECT Name FROM Account LIMIT 0", []),
    ("SELECT Name FROM Account WHERE Name = 'Globex'", ["Globex"]),
    ("SELECT Name FROM Account WHERE Name = 'gLoBeX'", ["Globex"]),
    ("SELECT Name FROM Account WHERE Name != 'Globex'", [n for n in ALL_ACCOUNTS if n != "Globex"]),
    ("SELECT Name FROM Account WHERE Name <> 'Globex'", [n for n in ALL_ACCOUNTS if n != "Globex"]),
    ("SELECT Name FROM Account WHERE Industry = null",
     ["Globex", "O'Brien & Sons", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE Industry != null", ["Acme Corp", "Initech"]),
    ("SELECT Name FROM Account WHERE Industry != 'Finance'",
     ["Acme Corp", "Globex", "O'Brien & Sons", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE Industry IN ('Finance', 'Technology')",
     ["Acme Corp", "Initech"]),
    ("SELECT Name FROM Account WHERE Industry NOT IN ('Finance')",
     ["Acme Corp", "Globex", "O'Brien & Sons", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE Industry IN ('Finance', null)",
     ["Globex", "Initech", "O'Brien & Sons", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE Name LIKE 'acme%'", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%O%'", ["Acme Corp", "Globex", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE Name LIKE 'Globe_'", ["Globex"]),
    ("SELECT Name FROM Account WHERE Name LIKE 'Glob_'", []),
    (r"SELECT Name FROM Account WHERE Name LIKE '100\% Pure\_Water'", ["100% Pure_Water"]),
    (r"SELECT Name FROM Account WHERE Name LIKE '100\%%'", ["100% Pure_Water"]),
    (r"SELECT Name FROM Account WHERE Name LIKE '%\_%'", ["100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%'", ALL_ACCOUNTS),
    (r"SELECT Name FROM Account WHERE Name = 'O\'Brien & Sons'", ["O'Brien & Sons"]),
    (r"SELECT Name FROM Account WHERE Name = 'O\u0027Brien \u0026 Sons'", ["O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE BillingCity = 'Springfield' AND BillingCountry = 'US'",
     ["Acme Corp", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE BillingCity = 'Paris' OR BillingCity = 'Dublin'",
     ["Globex", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE (BillingCity = 'Paris' OR BillingCity = 'Dublin') "
     "AND CurrencyIsoCode = 'EUR'", ["Globex", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE NOT BillingCountry = 'US'", ["Globex", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE NOT (BillingCountry = 'US' OR BillingCountry = 'France')",
     ["O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE BillingCity = 'Springfield' "
     "AND (Industry = null OR Industry = 'Technology')", ["Acme Corp", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE Name > 'H'", ["Initech", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE Name <= 'acme corp'", ["Acme Corp", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate > 2025-06-30T00:00:00Z",
     ["Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate >= 2025-07-14T09:00:00.000Z",
     ["Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate < 2025-01-10T11:00:00+02:00", ["O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE CreatedDate <= 2025-01-10T11:00:00+02:00",
     ["Acme Corp", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE CreatedDate = TODAY", ["Initech"]),
    ("SELECT Name FROM Account WHERE CreatedDate = yesterday", ["100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:2", ["Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:30",
     ["Globex", "Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate < LAST_N_DAYS:30",
     ["Acme Corp", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE CreatedDate = THIS_MONTH", ["Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate = LAST_MONTH", ["Globex"]),
    ("SELECT Name FROM Account WHERE CreatedDate = THIS_YEAR",
     ["Acme Corp", "Globex", "Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate = LAST_YEAR", ["O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE CreatedDate > TODAY", []),
    ("SELECT Name FROM Account WHERE CreatedDate >= TODAY", ["Initech"]),
    ("SELECT Name FROM Account WHERE CreatedDate = N_DAYS_AGO:1", ["100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate = THIS_WEEK", ["Initech", "100% Pure_Water"]),
    ("SELECT Name FROM Account WHERE CreatedDate != THIS_WEEK",
     ["Acme Corp", "Globex", "O'Brien & Sons"]),
    ("SELECT Name FROM Account WHERE CreatedDate IN (TODAY, LAST_YEAR)",
     ["Initech", "O'Brien & Sons"]),
    ("SELECT Account.Name FROM Account WHERE Account.Name = 'Globex'", ["Globex"]),
]  # fmt: skip

OPPORTUNITY_CASES: list[tuple[str, list[str]]] = [
    ("SELECT Name FROM Opportunity WHERE IsWon = true", [PLATFORM, SERVICES]),
    ("SELECT Name FROM Opportunity WHERE IsWon = FALSE AND IsClosed = TRUE", [EXPANSION]),
    ("SELECT Name FROM Opportunity WHERE IsWon != true", [RENEWAL, EXPANSION, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE SBQQ__Contracted__c = false",
     [PLATFORM, RENEWAL, EXPANSION, SERVICES, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = 2025-07-11", [PLATFORM]),
    ("SELECT Name FROM Opportunity WHERE CloseDate > 2025-07-11", [RENEWAL, SERVICES, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = TODAY", [SERVICES]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = TOMORROW", [ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:30", [RENEWAL, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_MONTH", [RENEWAL]),
    ("SELECT Name FROM Opportunity WHERE CloseDate <= TODAY", [PLATFORM, EXPANSION, SERVICES]),
    ("SELECT Name FROM Opportunity WHERE CloseDate < THIS_MONTH", [EXPANSION]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_MONTHS:1", [EXPANSION]),
    ("SELECT Name FROM Opportunity WHERE Amount > 10000", [PLATFORM, RENEWAL]),
    ("SELECT Name FROM Opportunity WHERE Amount >= 12000.5", [PLATFORM, RENEWAL]),
    ("SELECT Name FROM Opportunity WHERE Amount < 5000", [ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE Amount = null", [EXPANSION]),
    ("SELECT Name FROM Opportunity WHERE Amount IN (100, 5000)", [SERVICES, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE Amount > -1 AND Amount < 101", [ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE Probability >= 80", [PLATFORM, RENEWAL]),
    ("SELECT Name FROM Opportunity WHERE Account.Name = 'Acme Corp'", [PLATFORM, SERVICES]),
    ("SELECT Name FROM Opportunity WHERE Account.BillingCountry != 'US'", [RENEWAL, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE AccountId = null", [ORPHAN]),
    (f"SELECT Name FROM Opportunity WHERE AccountId = '{acc(1)[:15]}'", [PLATFORM, SERVICES]),
    (f"SELECT Name FROM Opportunity WHERE AccountId IN ('{acc(1)}', '{acc(3)}')",
     [PLATFORM, EXPANSION, SERVICES]),
    (f"SELECT Name FROM Opportunity WHERE Id = '{opp(2)}'", [RENEWAL]),
    (f"SELECT Name FROM Opportunity WHERE Id = '{opp(2)[:15]}'", [RENEWAL]),
    (f"SELECT Name FROM Opportunity WHERE Id IN ('{opp(5)}', '{opp(1)}') ORDER BY Name",
     [PLATFORM, ORPHAN]),
    (f"SELECT Name FROM Opportunity WHERE Id = '{opp(1)}' AND IsWon = false", []),
    (f"SELECT Name FROM Opportunity WHERE Id = '{acc(1)}'", []),
    ("SELECT Name FROM Opportunity WHERE StageName IN ('Closed Won', 'Closed Lost') "
     "ORDER BY CloseDate DESC", [SERVICES, PLATFORM, EXPANSION]),
    ("SELECT Name FROM Opportunity ORDER BY Amount",
     [EXPANSION, ORPHAN, SERVICES, RENEWAL, PLATFORM]),
    ("SELECT Name FROM Opportunity ORDER BY Amount DESC",
     [EXPANSION, PLATFORM, RENEWAL, SERVICES, ORPHAN]),
    ("SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS LAST",
     [PLATFORM, RENEWAL, SERVICES, ORPHAN, EXPANSION]),
    ("SELECT Name FROM Opportunity ORDER BY Amount ASC NULLS LAST",
     [ORPHAN, SERVICES, RENEWAL, PLATFORM, EXPANSION]),
    ("SELECT Name FROM Opportunity ORDER BY Amount NULLS FIRST LIMIT 1", [EXPANSION]),
    ("SELECT Name FROM Opportunity ORDER BY Account.Name, Name",
     [ORPHAN, PLATFORM, SERVICES, RENEWAL, EXPANSION]),
    ("SELECT Name FROM Opportunity ORDER BY StageName, CloseDate DESC",
     [EXPANSION, SERVICES, PLATFORM, RENEWAL, ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE SBQQ__PrimaryQuote__r.SBQQ__SubscriptionTerm__c = 12",
     [PLATFORM, SERVICES]),
    ("SELECT Name FROM Opportunity WHERE "
     "SBQQ__PrimaryQuote__r.SBQQ__PrimaryContact__r.Email LIKE '%@ACME.com'", [PLATFORM]),
    ("SELECT Name FROM Opportunity WHERE Opportunity.Name = 'Orphan deal'", [ORPHAN]),
    ("SELECT Name FROM Opportunity WHERE NetSuite_Sync_Status__c = 'Pending'", [PLATFORM]),
]  # fmt: skip

OTHER_CASES: list[tuple[str, str, list[Any]]] = [
    ("SELECT Name FROM Contact", "Name", ["Alice Smith", "Bob Jones", "Carol White", "Brown"]),
    ("SELECT LastName FROM Contact WHERE Account.Industry = 'Technology'", "LastName",
     ["Smith", "Jones"]),
    ("SELECT LastName FROM Contact WHERE Email = null", "LastName", ["Brown"]),
    ("SELECT LastName FROM Contact WHERE Account.Name LIKE 'Glob%'", "LastName", ["White"]),
    ("SELECT LastName FROM Contact WHERE Name = 'bob jones'", "LastName", ["Jones"]),
    (f"SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{quo(1)}' "
     "ORDER BY SBQQ__Number__c", "Id", [qli(1), qli(2), qli(3)]),
    ("SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__RequiredBy__c != null", "Id", [qli(2)]),
    ("SELECT Id FROM SBQQ__QuoteLine__c WHERE "
     "SBQQ__RequiredBy__r.SBQQ__Product__r.ProductCode = 'PLAT'", "Id", [qli(2)]),
    ("SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__Bundled__c = true", "Id", [qli(2)]),
    ("SELECT Id FROM SBQQ__QuoteLine__c WHERE "
     "SBQQ__Quote__r.SBQQ__Opportunity2__r.Account.Name = 'Acme Corp' "
     "ORDER BY SBQQ__ProductCode__c", "Id", [qli(3), qli(1), qli(5), qli(2), qli(4)]),
    ("SELECT Name FROM SBQQ__Quote__c WHERE SBQQ__Primary__c = true ORDER BY Name DESC", "Name",
     ["Q-00060", "Q-00058"]),
    ("SELECT ProductCode FROM Product2 WHERE IsActive = true AND Family != 'Services'",
     "ProductCode", ["PLAT", "SEAT"]),
]  # fmt: skip


@pytest.mark.parametrize(("soql", "expected"), ACCOUNT_CASES)
def test_account_queries(soql: str, expected: list[str]) -> None:
    assert column(run(soql), "Name") == expected


@pytest.mark.parametrize(("soql", "expected"), OPPORTUNITY_CASES)
def test_opportunity_queries(soql: str, expected: list[str]) -> None:
    assert column(run(soql), "Name") == expected


@pytest.mark.parametrize(("soql", "key", "expected"), OTHER_CASES)
def test_other_objects(soql: str, key: str, expected: list[Any]) -> None:
    assert column(run(soql), key) == expected


@pytest.mark.parametrize(
    ("soql", "include_deleted", "expected"),
    [
        ("SELECT Name FROM Account WHERE IsDeleted = true", True, ["Deleted Co"]),
        ("SELECT Name FROM Account WHERE IsDeleted = true", False, []),
        ("SELECT Name FROM Account", True, [*ALL_ACCOUNTS, "Deleted Co"]),
        (f"SELECT Name FROM Account WHERE Id = '{acc(6)}'", False, []),
        (f"SELECT Name FROM Account WHERE Id = '{acc(6)}'", True, ["Deleted Co"]),
    ],
)
def test_query_all_sees_deleted_rows(soql: str, include_deleted: bool, expected: list[str]) -> None:
    assert column(run(soql, include_deleted=include_deleted), "Name") == expected


@pytest.mark.parametrize(
    ("soql", "total"),
    [
        ("SELECT COUNT() FROM Account", 5),
        ("select count() from Opportunity where IsWon = true", 2),
        ("SELECT COUNT() FROM Contact WHERE AccountId = null", 1),
        ("SELECT COUNT() FROM Opportunity LIMIT 3", 3),
    ],
)
def test_count_answers_total_size_only(soql: str, total: int) -> None:
    result = run(soql)
    assert (result.records, result.total_size) == ([], total)


def test_count_of_a_field_is_one_aggregate_row() -> None:
    result = run("SELECT COUNT(Id), COUNT(Amount) total FROM Opportunity")
    assert result.total_size == 1
    assert result.records == [{"attributes": {"type": "AggregateResult"}, "expr0": 5, "total": 4}]
