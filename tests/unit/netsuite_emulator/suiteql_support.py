"""Tables and helpers shared by the SuiteQL engine tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.suiteql_engine import execute_suiteql

PREFIX = "Invalid search query. Detailed unprocessed description follows. "

_CUSTOMER_COLUMNS = (
    "id", "externalid", "companyname", "isinactive", "balance", "creditlimit", "email",
    "datecreated", "subsidiary",
)  # fmt: skip
CUSTOMERS: list[dict[str, Any]] = [
    dict(zip(_CUSTOMER_COLUMNS, values, strict=True))
    for values in (
        (1, "SFACC-1", "Acme", False, 10.0, 1000, "ap@acme.com", "2025-01-05", "1"),
        (2, "SFACC-2", "Beta", True, 0, None, None, "2025-02-10", "2"),
        (3, None, "acme labs", False, None, 250.5, "info@acme.com", "2024-12-31", "1"),
        (4, "SFACC-4", "O'Brien", False, 7.25, "500", "o@b.ie", "2025-03-01", "2"),
        (5, "SFACC_5", "100% Cotton", True, 10.0, None, None, "2025-01-20", "3"),
    )
]
# contact 14 refers to its company with a string: '=' between "4" and 4 is numeric.
CONTACTS: list[dict[str, Any]] = [
    {"id": 10, "company": 1, "firstname": "Ann", "lastname": "Lee"},
    {"id": 11, "company": 1, "firstname": "Bob", "lastname": None},
    {"id": 12, "company": 2, "firstname": "Cy", "lastname": "Ng"},
    {"id": 13, "company": None, "firstname": "Dee", "lastname": "Orphan"},
    {"id": 14, "company": "4", "firstname": "Eve", "lastname": "Ma"},
]
SUBSIDIARIES: list[dict[str, Any]] = [{"id": 1, "name": "US"}, {"id": 2, "name": "UK"}]
TABLES: dict[str, Sequence[Mapping[str, Any]]] = {
    "customer": CUSTOMERS,
    "contact": CONTACTS,
    "subsidiary": SUBSIDIARIES,
    "subscription": [],
}
SUBSCRIPTION_COLUMNS = {"id", "name", "customer"}


def declared_columns(table: str) -> set[str] | None:
    return SUBSCRIPTION_COLUMNS if table == "subscription" else None


def run(query: str, *, declared: bool = False) -> list[dict[str, str]]:
    return execute_suiteql(query, TABLES.get, columns_for=declared_columns if declared else None)


def ids(query: str) -> list[str]:
    return [row["id"] for row in run(query)]


def problem(query: str, *, declared: bool = False) -> str:
    """The detail of the 400 that ``query`` must fail with."""
    with pytest.raises(NetSuiteProblem) as caught:
        run(query, declared=declared)
    assert (caught.value.status, caught.value.code) == (400, "INVALID_PARAMETER")
    assert caught.value.detail.startswith(PREFIX)
    return caught.value.detail
