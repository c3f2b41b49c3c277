"""The emulator's SuiteQL engine: the supported subset and NetSuite's output shape."""

# ruff: noqa: S608 - composing SuiteQL text from test values is what these tests do

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealbridge.connectors.netsuite.emulator.suiteql_engine import execute_suiteql
from tests.unit.netsuite_emulator.suiteql_support import TABLES, ids, run


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("id = 2", ["2"]),
        ("id <> 2", ["1", "3", "4", "5"]),
        ("id != 2", ["1", "3", "4", "5"]),
        ("id < 3", ["1", "2"]),
        ("id > 3", ["4", "5"]),
        ("id <= 3", ["1", "2", "3"]),
        ("id >= 4", ["4", "5"]),
        ("companyname = 'acme'", []),
        ("companyname = 'Acme'", ["1"]),
        ("companyname > 'B'", ["2", "3", "4"]),
        ("companyname = 'O''Brien'", ["4"]),
        ("externalid IN ('SFACC-1', 'SFACC-4', 'nope')", ["1", "4"]),
        ("externalid NOT IN ('SFACC-1', 'SFACC-4')", ["2", "5"]),
        ("externalid NOT IN ('SFACC-1', NULL)", []),
        ("externalid IN ('SFACC-2', NULL)", ["2"]),
        ("id IN (1, 3)", ["1", "3"]),
        ("id IN ('1', '3')", ["1", "3"]),
        ("id IN (companyname, 2)", ["2"]),
        ("companyname IN (UPPER('acme'), 'Beta')", ["2"]),
        ("creditlimit = 500", ["4"]),
        ("creditlimit > 300", ["1", "4"]),
        ("creditlimit >= 250.5", ["1", "3", "4"]),
        ("balance = 10", ["1", "5"]),
        ("balance > -1.5", ["1", "2", "4", "5"]),
        ("companyname LIKE 'Ac%'", ["1"]),
        ("companyname LIKE '%cme%'", ["1", "3"]),
        ("companyname NOT LIKE '%cme%'", ["2", "4", "5"]),
        ("externalid LIKE 'SFACC_1'", ["1"]),
        ("externalid LIKE 'SFACC\\_%' ESCAPE '\\'", ["5"]),
        ("companyname LIKE '100!%%' ESCAPE '!'", ["5"]),
        ("companyname LIKE 'O''%'", ["4"]),
        ("email IS NULL", ["2", "5"]),
        ("email IS NOT NULL", ["1", "3", "4"]),
        ("email = NULL", []),
        ("email <> 'o@b.ie'", ["1", "3"]),
        ("NOT email = 'o@b.ie'", ["1", "3"]),
        ("balance BETWEEN 5 AND 10", ["1", "4", "5"]),
        ("balance NOT BETWEEN 5 AND 10", ["2"]),
        ("datecreated BETWEEN '2025-01-01' AND '2025-01-31'", ["1", "5"]),
        ("datecreated >= TO_DATE('2025-02-01', 'YYYY-MM-DD')", ["2", "4"]),
        ("datecreated < TO_DATE('01/01/2025', 'MM/DD/YYYY')", ["3"]),
        ("isinactive = 'T'", ["2", "5"]),
        ("isinactive = 'F'", ["1", "3", "4"]),
        ("isinactive <> 'T'", ["1", "3", "4"]),
        ("subsidiary = 1 AND isinactive = 'F'", ["1", "3"]),
        ("subsidiary = 3 OR balance = 0", ["2", "5"]),
        ("NOT (subsidiary = 1)", ["2", "4", "5"]),
        ("(subsidiary = 1 OR subsidiary = 3) AND NOT isinactive = 'T'", ["1", "3"]),
        ("UPPER(companyname) = 'ACME LABS'", ["3"]),
        ("LOWER(companyname) LIKE 'acme%'", ["1", "3"]),
        ("NVL(email, 'none') = 'none'", ["2", "5"]),
        ("BUILTIN.DF(subsidiary) = '2'", ["2", "4"]),
        ("ROWNUM <= 2", ["1", "2"]),
        ("ROWNUM <= 2 AND isinactive = 'F'", ["1", "3"]),
        ("ROWNUM = 1", ["1"]),
    ],
)
def test_where_selects_the_rows_oracle_would(condition: str, expected: list[str]) -> None:
    assert ids(f"SELECT id FROM customer WHERE {condition} ORDER BY id") == expected


def test_output_is_strings_with_booleans_as_t_f_and_nulls_omitted() -> None:
    rows = run("SELECT id, balance, isinactive, creditlimit, email FROM customer ORDER BY id")
    assert rows == [
        {
            "id": "1",
            "balance": "10",
            "isinactive": "F",
            "creditlimit": "1000",
            "email": "ap@acme.com",
        },
        {"id": "2", "balance": "0", "isinactive": "T"},
        {"id": "3", "isinactive": "F", "creditlimit": "250.5", "email": "info@acme.com"},
        {"id": "4", "balance": "7.25", "isinactive": "F", "creditlimit": "500", "email": "o@b.ie"},
        {"id": "5", "balance": "10", "isinactive": "T"},
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "SELECT ID AS CustomerId, CompanyName Name FROM Customer WHERE id = 1",
            [{"customerid": "1", "name": "Acme"}],
        ),
        ('SELECT id AS "MixedCase" FROM customer WHERE id = 1', [{"mixedcase": "1"}]),
        ('SELECT "CUSTOMER"."ID" FROM "CUSTOMER" WHERE "ID" = 4', [{"id": "4"}]),
        (
            "select id, companyname from customer where id = 1 order by id",
            [{"id": "1", "companyname": "Acme"}],
        ),
        ("SELECT * FROM contact WHERE id = 11", [{"id": "11", "company": "1", "firstname": "Bob"}]),
        (
            "SELECT c.* FROM contact c WHERE c.id = 13",
            [{"id": "13", "firstname": "Dee", "lastname": "Orphan"}],
        ),
        (
            "SELECT UPPER(firstname), LOWER(lastname), id FROM contact WHERE id = 10",
            [{"expr1": "ANN", "expr2": "lee", "id": "10"}],
        ),
        ("SELECT COUNT(*) FROM contact", [{"expr1": "5"}]),
        ("SELECT NVL(email, 'n/a') AS e FROM customer WHERE id = 2", [{"e": "n/a"}]),
        (
            "SELECT 'x' AS k, 42 AS n, 1.50 AS f, NULL AS z FROM customer WHERE id = 1",
            [{"k": "x", "n": "42", "f": "1.5"}],
        ),
        (
            "SELECT TO_DATE('2025-01-01', 'YYYY-MM-DD') AS d FROM customer WHERE id = 1",
            [{"d": "2025-01-01"}],
        ),
        ("SELECT BUILTIN.DF(subsidiary) AS s FROM customer WHERE id = 4", [{"s": "2"}]),
        ("SELECT id -- the key\nFROM customer WHERE id = 1;", [{"id": "1"}]),
        (
            "SELECT DISTINCT subsidiary FROM customer ORDER BY subsidiary",
            [{"subsidiary": "1"}, {"subsidiary": "2"}, {"subsidiary": "3"}],
        ),
        (
            "SELECT DISTINCT isinactive FROM customer WHERE id < 4 ORDER BY 1",
            [{"isinactive": "F"}, {"isinactive": "T"}],
        ),
        ("SELECT TOP 2 id FROM customer ORDER BY id DESC", [{"id": "5"}, {"id": "4"}]),
        ("SELECT id FROM customer ORDER BY id FETCH FIRST 2 ROWS ONLY", [{"id": "1"}, {"id": "2"}]),
        ("SELECT id FROM customer ORDER BY id FETCH NEXT 1 ROW ONLY", [{"id": "1"}]),
        ("SELECT id, name FROM subscription", []),
    ],
)
def test_select_list_names_and_values(query: str, expected: list[dict[str, str]]) -> None:
    assert run(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "SELECT c.id, cu.companyname FROM contact c JOIN customer cu ON c.company = cu.id "
            "ORDER BY c.id",
            [("10", "Acme"), ("11", "Acme"), ("12", "Beta"), ("14", "O'Brien")],
        ),
        (
            "SELECT c.id, cu.companyname FROM contact c INNER JOIN customer cu "
            "ON cu.id = c.company WHERE cu.isinactive = 'F' ORDER BY c.id",
            [("10", "Acme"), ("11", "Acme"), ("14", "O'Brien")],
        ),
        (
            "SELECT c.id, cu.companyname FROM contact c LEFT JOIN customer cu "
            "ON c.company = cu.id ORDER BY c.id",
            [("10", "Acme"), ("11", "Acme"), ("12", "Beta"), ("13", None), ("14", "O'Brien")],
        ),
        (
            "SELECT c.id, cu.companyname FROM contact AS c LEFT OUTER JOIN customer AS cu "
            "ON cu.id = c.company AND cu.subsidiary = '1' ORDER BY c.id",
            [("10", "Acme"), ("11", "Acme"), ("12", None), ("13", None), ("14", None)],
        ),
        (
            "SELECT contact.id, customer.companyname FROM contact JOIN customer "
            "ON contact.company = customer.id WHERE customer.isinactive = 'T'",
            [("12", "Beta")],
        ),
        (
            "SELECT c.id, cu.companyname FROM contact c JOIN customer cu "
            "ON cu.id < 2 AND c.id = 10",
            [("10", "Acme")],
        ),
    ],
)
def test_joins(query: str, expected: list[tuple[str, str | None]]) -> None:
    assert [(row["id"], row.get("companyname")) for row in run(query)] == expected


def test_two_joins_drop_rows_without_a_match_in_either() -> None:
    rows = run(
        "SELECT c.firstname, s.name FROM contact c JOIN customer cu ON c.company = cu.id "
        "JOIN subsidiary s ON cu.subsidiary = s.id ORDER BY c.id"
    )
    assert [(row["firstname"], row["name"]) for row in rows] == [
        ("Ann", "US"),
        ("Bob", "US"),
        ("Cy", "UK"),
        ("Eve", "UK"),
    ]


def test_star_over_a_join_keeps_the_first_tables_column_on_a_clash() -> None:
    rows = run("SELECT * FROM contact c JOIN subsidiary s ON c.company = s.id WHERE c.id = 12")
    assert rows == [{"id": "12", "company": "2", "firstname": "Cy", "lastname": "Ng", "name": "UK"}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT COUNT(*) AS n FROM customer", [{"n": "5"}]),
        ("SELECT COUNT(email) AS n FROM customer", [{"n": "3"}]),
        ("SELECT COUNT(DISTINCT subsidiary) AS n FROM customer", [{"n": "3"}]),
        ("SELECT SUM(balance) AS s FROM customer", [{"s": "27.25"}]),
        ("SELECT SUM(id) AS s FROM customer", [{"s": "15"}]),
        ("SELECT AVG(balance) AS a FROM customer", [{"a": "6.8125"}]),
        (
            "SELECT MIN(datecreated) AS lo, MAX(datecreated) AS hi FROM customer",
            [{"lo": "2024-12-31", "hi": "2025-03-01"}],
        ),
        ("SELECT MAX(companyname) AS m FROM customer", [{"m": "acme labs"}]),
        ("SELECT NVL(MAX(balance), 0) AS m FROM customer WHERE id = 3", [{"m": "0"}]),
        ("SELECT COUNT(*) AS n FROM subscription", [{"n": "0"}]),
        ("SELECT MAX(id) AS m FROM subscription", [{}]),
        ("SELECT customer, COUNT(*) AS n FROM subscription GROUP BY customer", []),
        (
            "SELECT subsidiary, COUNT(*) AS n FROM customer GROUP BY subsidiary "
            "ORDER BY subsidiary",
            [
                {"subsidiary": "1", "n": "2"},
                {"subsidiary": "2", "n": "2"},
                {"subsidiary": "3", "n": "1"},
            ],
        ),
        (
            "SELECT subsidiary, SUM(balance) AS total FROM customer GROUP BY subsidiary "
            "HAVING COUNT(*) > 1 ORDER BY subsidiary",
            [{"subsidiary": "1", "total": "10"}, {"subsidiary": "2", "total": "7.25"}],
        ),
        (
            "SELECT isinactive, COUNT(*) AS n FROM customer GROUP BY isinactive "
            "ORDER BY isinactive",
            [{"isinactive": "F", "n": "3"}, {"isinactive": "T", "n": "2"}],
        ),
        (
            "SELECT UPPER(companyname) AS u, COUNT(*) AS n FROM customer "
            "GROUP BY UPPER(companyname) ORDER BY u FETCH FIRST 2 ROWS ONLY",
            [{"u": "100% COTTON", "n": "1"}, {"u": "ACME", "n": "1"}],
        ),
        (
            "SELECT COUNT(*) FROM customer GROUP BY subsidiary ORDER BY COUNT(*) DESC, 1",
            [{"expr1": "2"}, {"expr1": "2"}, {"expr1": "1"}],
        ),
        (
            "SELECT cu.companyname, COUNT(*) AS n FROM contact c JOIN customer cu "
            "ON c.company = cu.id GROUP BY cu.companyname ORDER BY n DESC, cu.companyname",
            [
                {"companyname": "Acme", "n": "2"},
                {"companyname": "Beta", "n": "1"},
                {"companyname": "O'Brien", "n": "1"},
            ],
        ),
    ],
)
def test_aggregates_and_grouping(query: str, expected: list[dict[str, str]]) -> None:
    assert run(query) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("balance, id", ["2", "4", "1", "5", "3"]),
        ("balance DESC, id", ["3", "1", "5", "4", "2"]),
        ("balance ASC NULLS FIRST, id", ["3", "2", "4", "1", "5"]),
        ("balance DESC NULLS LAST, id", ["1", "5", "4", "2", "3"]),
        ("companyname", ["5", "1", "2", "4", "3"]),
        ("n DESC", ["3", "4", "2", "1", "5"]),
        ("3 DESC", ["5", "4", "3", "2", "1"]),
        ("subsidiary DESC, id ASC", ["5", "2", "4", "1", "3"]),
        ("UPPER(companyname)", ["5", "1", "3", "2", "4"]),
    ],
)
def test_order_by(order_by: str, expected: list[str]) -> None:
    query = f"SELECT id, companyname AS n, id AS again FROM customer ORDER BY {order_by}"
    assert ids(query) == expected


def test_table_names_reach_rows_for_in_lower_case() -> None:
    asked: list[str] = []

    def rows_for(table: str) -> Sequence[Mapping[str, Any]] | None:
        asked.append(table)
        return TABLES.get(table)

    execute_suiteql("SELECT c.id FROM CUSTOMER c JOIN Contact k ON k.company = c.id", rows_for)
    assert asked == ["customer", "contact"]


def test_reconciliation_sized_in_list_over_ten_thousand_rows() -> None:
    table = [{"id": n, "externalid": f"SFACC-{n:05d}", "entityid": f"E{n}"} for n in range(10_000)]
    wanted = list(range(0, 10_000, 20))
    in_list = ", ".join(f"'SFACC-{n:05d}'" for n in wanted)
    rows = execute_suiteql(
        f"SELECT id, externalid FROM customer WHERE externalid IN ({in_list}) ORDER BY id",
        {"customer": table}.get,
    )
    assert len(wanted) == 500
    assert [row["id"] for row in rows] == [str(n) for n in wanted]


TEXT = st.text(alphabet="ab'%_", min_size=1, max_size=3)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@given(
    values=st.lists(st.one_of(st.none(), TEXT), max_size=30),
    wanted=st.lists(TEXT, min_size=1, max_size=8),
    negated=st.booleans(),
)
def test_in_list_of_text_equals_the_python_filter(
    values: list[str | None], wanted: list[str], negated: bool
) -> None:
    rows = [{"id": n, "code": value} for n, value in enumerate(values)]
    operator = "NOT IN" if negated else "IN"
    query = (
        f"SELECT id FROM t WHERE code {operator} ({', '.join(map(_quoted, wanted))}) ORDER BY id"
    )
    expected = [
        str(row["id"])
        for row in rows
        if row["code"] is not None and (row["code"] in set(wanted)) != negated
    ]
    assert [row["id"] for row in execute_suiteql(query, {"t": rows}.get)] == expected


@given(
    values=st.lists(st.one_of(st.none(), st.integers(-50, 50)), max_size=30),
    wanted=st.lists(st.integers(-50, 50), min_size=1, max_size=8),
)
def test_in_list_of_numbers_equals_the_python_filter(
    values: list[int | None], wanted: list[int]
) -> None:
    rows = [{"id": n, "amount": value} for n, value in enumerate(values)]
    query = f"SELECT id FROM t WHERE amount IN ({', '.join(map(str, wanted))}) ORDER BY id"
    expected = [str(row["id"]) for row in rows if row["amount"] in set(wanted)]
    assert [row["id"] for row in execute_suiteql(query, {"t": rows}.get)] == expected
