"""The emulator's SuiteQL errors: NetSuite's frame, and a precise reason after it."""

from __future__ import annotations

import pytest

from dealbridge.connectors.netsuite.emulator.suiteql_engine import execute_suiteql
from tests.unit.netsuite_emulator.suiteql_support import PREFIX, TABLES, problem, run


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "Syntax error at line 1, column 1: unexpected end of query."),
        ("DELETE FROM customer", "Syntax error at line 1, column 1: unexpected 'DELETE'."),
        ("SELECT id FROM customer WHERE", "Syntax error at line 1, column 30: unexpected end"),
        (
            "SELECT id FROM customer WHERE id = = 1",
            "Syntax error at line 1, column 36: unexpected '='",
        ),
        (
            "SELECT id\nFROM customer\nWHERE id IN ()",
            "Syntax error at line 3, column 14: unexpected ')'",
        ),
        ("SELECT id FROM customer ORDER id", "Syntax error at line 1, column 31: unexpected 'id'"),
        (
            "SELECT id FROM customer WHERE x = 'open",
            "Syntax error at line 1, column 35: unexpected '''",
        ),
    ],
)
def test_syntax_errors_name_line_column_and_token(query: str, reason: str) -> None:
    assert problem(query).startswith(f"{PREFIX}Search error occurred: {reason}")


def test_unknown_table_is_an_invalid_search_type() -> None:
    assert problem("SELECT id FROM bogus") == f"{PREFIX}Invalid search type: bogus."


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (
            "SELECT foo FROM customer",
            "Unknown identifier 'foo'. Available identifiers are: {customer=customer}.",
        ),
        (
            "SELECT id FROM customer c WHERE c.foo = 1",
            "Unknown identifier 'c.foo'. Available identifiers are: {c=customer}.",
        ),
        (
            "SELECT x.id FROM customer c",
            "Unknown identifier 'x.id'. Available identifiers are: {c=customer}.",
        ),
        (
            "SELECT id FROM customer ORDER BY nonesuch",
            "Unknown identifier 'nonesuch'. Available identifiers are: {customer=customer}.",
        ),
        (
            "SELECT c.id FROM contact c JOIN customer cu ON c.company = cu.bogus",
            "Unknown identifier 'cu.bogus'. Available identifiers are: {c=contact, cu=customer}.",
        ),
        ("SELECT id FROM contact c JOIN customer cu ON c.company = cu.id", "Column ambiguously"),
        ("SELECT SOUNDEX(companyname) FROM customer", "Unknown or unsupported function 'SOUNDEX'."),
        ("SELECT NVL(email) FROM customer", "Wrong number of arguments to 'NVL'."),
        ("SELECT id FROM customer WHERE COUNT(*) > 1", "Group function COUNT is not allowed here."),
        ("SELECT SUM(*) FROM customer", "'*' is allowed only in COUNT(*)"),
        ("SELECT MAX(MIN(id)) FROM customer", "Group functions cannot be nested."),
        (
            "SELECT companyname, COUNT(*) FROM customer GROUP BY subsidiary",
            "Not a GROUP BY expression: 'companyname'.",
        ),
        ("SELECT * FROM customer GROUP BY id", "'*' cannot be selected in a grouped query."),
        ("SELECT SUM(companyname) FROM customer", "Invalid number: 'Acme'."),
        ("SELECT id FROM customer ORDER BY 3", "ORDER BY position 3 is not a select-list column."),
        ("SELECT id FROM customer WHERE ROWNUM > 1", "ROWNUM is supported only"),
        ("SELECT c.id FROM contact c JOIN customer c ON c.company = c.id", "Duplicate table alias"),
        (
            "SELECT id FROM customer WHERE datecreated = TO_DATE('2025-13-01', 'YYYY-MM-DD')",
            "Invalid date '2025-13-01' for format 'YYYY-MM-DD'.",
        ),
        ("SELECT id FROM customer WHERE email LIKE 'a%' ESCAPE '!!'", "Invalid escape character"),
        (
            "SELECT customer.id FROM customer RIGHT JOIN contact ON customer.id = contact.company",
            "RIGHT joins are not supported by the emulator.",
        ),
    ],
)
def test_semantic_errors(query: str, reason: str) -> None:
    assert problem(query).startswith(f"{PREFIX}Search error occurred: {reason}")


def test_unknown_column_of_an_empty_table_is_caught_from_its_declared_columns() -> None:
    detail = problem("SELECT bogus FROM subscription", declared=True)
    assert "Unknown identifier 'bogus'" in detail
    assert run("SELECT id, name FROM subscription", declared=True) == []


def test_an_empty_table_with_no_declared_columns_accepts_any_column() -> None:
    assert run("SELECT bogus FROM subscription WHERE other = 1") == []


def test_declared_columns_are_known_even_when_no_row_carries_them() -> None:
    rows = execute_suiteql(
        "SELECT id, memo FROM customer WHERE memo IS NULL AND id = 1",
        TABLES.get,
        columns_for=lambda table: {"id", "memo"} if table == "customer" else None,
    )
    assert rows == [{"id": "1"}]
