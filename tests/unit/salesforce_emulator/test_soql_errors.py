"""Invalid SOQL: the error code, the reason, and where Salesforce would point (§1.8)."""

# ruff: noqa: S608 - composing SOQL text from fixture values is what these tests do

from __future__ import annotations

import pickle

import pytest

from dealbridge.connectors.salesforce.emulator.soql_engine import SoqlError, execute_soql
from tests.unit.salesforce_emulator.soql_support import ORG, MemorySource, acc, run

MALFORMED, FIELD, TYPE = "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"
OPERATOR, RANGE = "INVALID_QUERY_FILTER_OPERATOR", "NUMBER_OUTSIDE_VALID_RANGE"
HOPS6 = ".".join(["SBQQ__RequiredBy__r"] * 6)

CASES: list[tuple[str, str, str, int | None]] = [
    # (statement, code, reason (the message's last line), column or None)
    ("SELECT Id, FROM Account", MALFORMED, "unexpected token: 'FROM'", 12),
    ("SELECT FROM Account", MALFORMED, "unexpected token: 'FROM'", 8),
    ("SELECT Id FROM", MALFORMED, "unexpected token: '<EOF>'", 15),
    ("SELECT Id FROM Account WHERE", MALFORMED, "unexpected token: '<EOF>'", 29),
    ("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Industry = 'c'", MALFORMED,
     "unexpected token: 'OR'", 56),
    ("SELECT Id FROM Account WHERE Name = 'a' OR Type = 'b' AND Industry = 'c'", MALFORMED,
     "unexpected token: 'AND'", 55),
    ("SELECT Id FROM Account WHERE Name = 'abc", MALFORMED,
     "line 1:37 no viable alternative at character '''", 37),
    ('SELECT Id FROM Account WHERE Name = "abc"', MALFORMED,
     "line 1:37 no viable alternative at character '\"'", 37),
    ("SELECT Id FROM Account WHERE Name = abc", MALFORMED, "unexpected token: 'abc'", 37),
    ("SELECT Id FROM Account WHERE Name == 'a'", MALFORMED, "unexpected token: '='", 36),
    ("SELECT Id FROM Account WHERE Name NOT LIKE 'a'", MALFORMED, "unexpected token: 'LIKE'", 39),
    ("SELECT Id FROM Account WHERE Name IN 'a'", MALFORMED, "unexpected token: ''a''", 38),
    ("SELECT Id FROM Account WHERE Name IN ()", MALFORMED, "unexpected token: ')'", 39),
    ("SELECT Id FROM Account WHERE (Name = 'a'", MALFORMED, "unexpected token: '<EOF>'", 41),
    ("SELECT Id FROM Account WHERE Name = 'a')", MALFORMED, "unexpected token: ')'", 40),
    ("SELECT Id FROM Account WHERE Name = 'a' AND", MALFORMED, "unexpected token: '<EOF>'", 44),
    ("SELECT Id FROM Account LIMIT 1.5", MALFORMED, "unexpected token: '1.5'", 30),
    ("SELECT Id FROM Account LIMIT -1", MALFORMED, "unexpected token: '-1'", 30),
    ("SELECT Id FROM Account ORDER BY", MALFORMED, "unexpected token: '<EOF>'", 32),
    ("SELECT Id FROM Account ORDER BY Name NULLS", MALFORMED, "unexpected token: '<EOF>'", 43),
    ("SELECT Id FROM Account OFFSET 5 LIMIT 1", MALFORMED, "unexpected token: 'LIMIT'", 33),
    ("DELETE FROM Account", MALFORMED, "unexpected token: 'DELETE'", 1),
    ("SELECT Id FROM Opportunity WHERE CloseDate = 2025-13-01", MALFORMED,
     "Invalid date: 2025-13-01", 46),
    ("SELECT Id FROM Account WHERE CreatedDate > 2025-06-30T25:00:00Z", MALFORMED,
     "Invalid datetime: 2025-06-30T25:00:00Z", 44),
    ("SELECT Id FROM Account WHERE CreatedDate > 2025-06-30T12:00:00", MALFORMED,
     "unexpected token: 'T12'", 54),
    (r"SELECT Id FROM Account WHERE Name = 'a\qb'", MALFORMED,
     r"Invalid string literal 'a\qb'. Illegal character sequence '\q' in string literal.", 37),
    (r"SELECT Id FROM Account WHERE Name = 'a\%b'", MALFORMED,
     r"Invalid string literal 'a\%b'. Illegal character sequence '\%' in string literal.", 37),
    (r"SELECT Id FROM Account WHERE Name = 'a\u00zz'", MALFORMED,
     r"Invalid string literal 'a\u00zz'. Illegal character sequence '\u' in string literal.", 37),
    (r"SELECT Id FROM Account WHERE Name LIKE 'a\xb%'", MALFORMED,
     r"Invalid string literal 'a\xb%'. Illegal character sequence '\x' in string literal.", 40),
    ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS", MALFORMED,
     "unexpected token: '<EOF>'", 55),
    ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:x", MALFORMED,
     "unexpected token: 'x'", 56),
    ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1.5", MALFORMED,
     "unexpected token: '1.5'", 56),
    ("SELECT Id FROM Account WHERE CreatedDate = TODAYS", MALFORMED,
     "unexpected token: 'TODAYS'", 44),
    ("SELECT COUNT(), Id FROM Account", MALFORMED, "unexpected token: 'COUNT'", 8),
    ("SELECT COUNT(Id), Name FROM Account", MALFORMED,
     "Field must be grouped or aggregated: Name", 19),
    ("SELECT Id, (SELECT COUNT() FROM Contacts) FROM Account", MALFORMED,
     "unexpected token: 'COUNT'", 13),
    ("SELECT Id, (SELECT Id FROM Contacts OFFSET 1) FROM Account", MALFORMED,
     "unexpected token: 'OFFSET'", 44),
    (f"SELECT Id FROM SBQQ__QuoteLine__c WHERE {HOPS6}.Id = null", MALFORMED,
     "SOQL statements cannot query more than 5 levels of relationships", 41),
    ("SELECT Id FROM Foo", TYPE,
     "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure "
     "to append the '__c' after the entity name. Please reference your WSDL or the describe call "
     "for the appropriate names.", 16),
    ("SELECT Id FROM Opportunities", TYPE, "sObject type 'Opportunities' is not supported.", 16),
    ("SELECT Id FROM SBQQ__Quote__r", TYPE, "sObject type 'SBQQ__Quote__r' is not supported.", 16),
    ("SELECT Id, (SELECT Id FROM Contact) FROM Account", TYPE,
     "Didn't understand relationship 'Contact' in FROM part of query call. If you are attempting "
     "to use a custom relationship, be sure to append the '__r' after the custom relationship "
     "name. Please reference your WSDL or the describe call for the appropriate names.", 28),
    ("SELECT Id, (SELECT Id FROM Bogus__r) FROM Opportunity", TYPE,
     "Didn't understand relationship 'Bogus__r' in FROM part of query call.", 28),
    ("SELECT Id, (SELECT Id FROM Opportunity.Contacts) FROM Account", TYPE,
     "Didn't understand relationship 'Opportunity.Contacts' in FROM part of query call.", 28),
    ("SELECT Bogus FROM Account", FIELD,
     "No such column 'Bogus' on entity 'Account'. If you are attempting to use a custom field, "
     "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
     "describe call for the appropriate names.", 8),
    ("SELECT Id, NetSuite_Customer_Id FROM Account", FIELD,
     "No such column 'NetSuite_Customer_Id' on entity 'Account'.", 12),
    ("SELECT Account.Bogus FROM Contact", FIELD, "No such column 'Bogus' on entity 'Account'.", 8),
    ("SELECT Bogus__r.Name FROM Contact", FIELD,
     "Didn't understand relationship 'Bogus__r' in field path. If you are attempting to use a "
     "custom relationship, be sure to append the '__r' after the custom relationship name. Please "
     "reference your WSDL or the describe call for the appropriate names.", 8),
    ("SELECT AccountId.Name FROM Contact", FIELD,
     "Didn't understand relationship 'AccountId' in field path.", 8),
    ("SELECT SBQQ__PrimaryQuote__c.Name FROM Opportunity", FIELD,
     "Didn't understand relationship 'SBQQ__PrimaryQuote__c' in field path.", 8),
    ("SELECT Id, SBQQ__Feature__r.Name FROM SBQQ__ProductOption__c", FIELD,
     "Didn't understand relationship 'SBQQ__Feature__r' in field path.", 12),
    ("SELECT Account FROM Contact", FIELD, "No such column 'Account' on entity 'Contact'.", 8),
    ("SELECT Contacts FROM Account", FIELD, "No such column 'Contacts' on entity 'Account'.", 8),
    ("SELECT Id FROM Account WHERE Bogus = 'x'", FIELD,
     "No such column 'Bogus' on entity 'Account'.", 30),
    ("SELECT Id FROM Account ORDER BY Bogus", FIELD,
     "No such column 'Bogus' on entity 'Account'.", 33),
    ("SELECT Id, (SELECT Bogus FROM Contacts) FROM Account", FIELD,
     "No such column 'Bogus' on entity 'Contact'.", 20),
    ("SELECT Id, Id FROM Account", FIELD, "duplicate field selected: Id", None),
    ("SELECT Name, name FROM Account", FIELD, "duplicate field selected: Name", None),
    ("SELECT Account.Name, account.NAME FROM Contact", FIELD,
     "duplicate field selected: Account.Name", None),
    ("SELECT Id FROM Opportunity WHERE CloseDate = '2025-06-30'", FIELD,
     "value of filter criterion for field 'CloseDate' must be of type date and should not be "
     "enclosed in quotes", 46),
    ("SELECT Id FROM Opportunity WHERE CloseDate = 2025-06-30T00:00:00Z", FIELD,
     "value of filter criterion for field 'CloseDate' must be of type date", 46),
    ("SELECT Id FROM Opportunity WHERE CreatedDate = 2025-06-30", FIELD,
     "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not "
     "be enclosed in quotes", 48),
    ("SELECT Id FROM Opportunity WHERE Amount = '100'", FIELD,
     "value of filter criterion for field 'Amount' must be of type currency", 43),
    ("SELECT Id FROM SBQQ__QuoteLine__c WHERE SBQQ__Quantity__c = TODAY", FIELD,
     "value of filter criterion for field 'SBQQ__Quantity__c' must be of type double", 61),
    ("SELECT Id FROM Opportunity WHERE IsWon = 'true'", FIELD,
     "value of filter criterion for field 'IsWon' must be of type boolean and should not be "
     "enclosed in quotes", 42),
    ("SELECT Id FROM Opportunity WHERE IsWon = 1", FIELD,
     "value of filter criterion for field 'IsWon' must be of type boolean", 42),
    ("SELECT Id FROM Opportunity WHERE Name = 5", FIELD,
     "value of filter criterion for field 'Name' must be of type string and should be enclosed "
     "in quotes", 41),
    ("SELECT Id FROM Opportunity WHERE Name = TODAY", FIELD,
     "value of filter criterion for field 'Name' must be of type string", 41),
    ("SELECT Id FROM Opportunity WHERE Name IN ('a', 5)", FIELD,
     "value of filter criterion for field 'Name' must be of type string", 48),
    ("SELECT Id FROM Opportunity WHERE AccountId = 5", FIELD,
     "value of filter criterion for field 'AccountId' must be of type id and should be enclosed "
     "in quotes", 46),
    ("SELECT Id FROM Opportunity WHERE NetSuite_Sync_Error__c = 'x'", FIELD,
     "field 'NetSuite_Sync_Error__c' can not be filtered in query call", 34),
    ("SELECT Id FROM Account WHERE Description LIKE '%x%'", FIELD,
     "field 'Description' can not be filtered in query call", 30),
    ("SELECT Id FROM Opportunity ORDER BY NetSuite_Sync_Error__c", FIELD,
     "field 'NetSuite_Sync_Error__c' can not be sorted in a query call", 37),
    ("SELECT Id FROM Account WHERE Id = 'abc'", OPERATOR, "invalid ID field: abc", 35),
    ("SELECT Id FROM Contact WHERE AccountId IN ('001000000000001', 'nope')", OPERATOR,
     "invalid ID field: nope", 63),
    ("SELECT Id FROM Account WHERE Id LIKE '001%'", OPERATOR, "invalid operator on id field", 30),
    ("SELECT Id FROM Opportunity WHERE Amount LIKE '1%'", OPERATOR,
     "invalid operator on currency field", 34),
]  # fmt: skip


@pytest.mark.parametrize(("soql", "code", "reason", "column"), CASES)
def test_invalid_statements(soql: str, code: str, reason: str, column: int | None) -> None:
    with pytest.raises(SoqlError) as caught:
        run(soql)
    error = caught.value
    assert error.error_code == code
    assert error.message.rsplit("\n", 1)[-1].startswith(reason)
    if column is not None:
        assert f"\nERROR at Row:1:Column:{column}\n" in error.message


@pytest.mark.parametrize(("offset", "fails"), [(2000, False), (2001, True), (5000, True)])
def test_offset_beyond_two_thousand_is_out_of_range(offset: int, fails: bool) -> None:
    soql = f"SELECT Id FROM Account OFFSET {offset}"
    if not fails:
        assert run(soql).records == []
        return
    with pytest.raises(SoqlError) as caught:
        run(soql)
    assert (caught.value.error_code, caught.value.message) == (
        RANGE,
        "Maximum SOQL offset allowed is 2000",
    )


def test_unknown_column_message_is_salesforce_verbatim() -> None:
    with pytest.raises(SoqlError) as caught:
        run("SELECT Bogus FROM Account")
    assert caught.value.message == (
        "\nSELECT Bogus FROM Account\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Bogus' on entity 'Account'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. Please reference your WSDL or "
        "the describe call for the appropriate names."
    )


def test_multi_line_statement_points_at_row_and_column() -> None:
    with pytest.raises(SoqlError) as caught:
        run("SELECT Id,\n  Bogus__c\nFROM Account")
    assert caught.value.message.startswith("\n  Bogus__c\n  ^\nERROR at Row:2:Column:3\n")


def test_long_line_is_quoted_around_the_fault() -> None:
    soql = (
        "SELECT Id, Name, BillingCity, BillingState, AccountNumber, Phone, Website, Industry, "
        "Typo__c FROM Account"
    )
    with pytest.raises(SoqlError) as caught:
        run(soql)
    quoted, caret = caught.value.message.split("\n")[1:3]
    assert len(quoted) < len(soql)
    assert quoted[caret.index("^") :].startswith("Typo__c")


def test_nested_subqueries_need_api_58() -> None:
    soql = (
        f"SELECT Id, (SELECT Id, (SELECT Id FROM SBQQ__LineItems__r) FROM SBQQ__Quotes2__r) "
        f"FROM Opportunity WHERE AccountId = '{acc(1)}'"
    )
    assert execute_soql(soql, MemorySource(ORG), api_version="58.0").total_size == 2
    with pytest.raises(SoqlError) as caught:
        execute_soql(soql, MemorySource(ORG), api_version="57.0")
    assert caught.value.error_code == MALFORMED
    assert "ERROR at Row:1:Column:25" in caught.value.message


def test_errors_survive_pickling() -> None:
    with pytest.raises(SoqlError) as caught:
        run("SELECT Bogus FROM Account")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert (copy.error_code, copy.message) == (caught.value.error_code, caught.value.message)
