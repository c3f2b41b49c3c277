"""Record collections: paging rules and the ``q`` filter (contracts §2.3)."""

from __future__ import annotations

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.records import RecordService
from tests.unit.netsuite_emulator.records_support import expect_problem, new_service, ref

# name, email, isInactive, currency, dateCreated is set by the service; startDate via billing
_CUSTOMERS = [
    ("Barbara Ltd", "barbara@example.test", False, "1"),
    ("Barnaby & Sons", "barnaby@example.test", True, "2"),
    ("Cobalt Inc", None, False, "1"),
    ("Delta GmbH", "ops@delta.example", False, "3"),
]


@pytest.fixture
def svc() -> RecordService:
    service = new_service()
    for name, email, inactive, currency in _CUSTOMERS:
        body = {
            "companyName": name,
            "subsidiary": ref("1"),
            "isInactive": inactive,
            "currency": ref(currency),
            **({"email": email} if email else {}),
        }
        service.create("customer", body, strict_fields=True)
    return service


def _names(svc: RecordService, q: str) -> list[str]:
    ids, total = svc.list_ids("customer", q=q, limit=1000, offset=0)
    assert total == len(ids)
    return [svc.get("customer", i, base_url="http://x")["companyName"] for i in ids]


def test_pages_follow_id_order_with_the_total(svc: RecordService) -> None:
    assert svc.list_ids("customer", q=None, limit=3, offset=0) == (["1", "2", "3"], 4)
    assert svc.list_ids("customer", q=None, limit=3, offset=3) == (["4"], 4)
    assert svc.list_ids("customer", q="  ", limit=2, offset=4) == ([], 4)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1001, 0), (3, 2), (2, -2)])
def test_bad_limit_or_offset_is_invalid_parameter(
    svc: RecordService, limit: int, offset: int
) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.list_ids("customer", q=None, limit=limit, offset=offset)
    expect_problem(raised, 400, "INVALID_PARAMETER", None)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('companyName IS "barbara ltd"', ["Barbara Ltd"]),
        ('companyName IS_NOT "Barbara Ltd"', ["Barnaby & Sons", "Cobalt Inc", "Delta GmbH"]),
        ("email START_WITH barbara", ["Barbara Ltd"]),
        ('companyName CONTAIN "a"', ["Barbara Ltd", "Barnaby & Sons", "Cobalt Inc", "Delta GmbH"]),
        ('email END_WITH ".example"', ["Delta GmbH"]),
        ('email CONTAIN_NOT "example.test"', ["Cobalt Inc", "Delta GmbH"]),
        ("email EMPTY", ["Cobalt Inc"]),
        ("email EMPTY_NOT", ["Barbara Ltd", "Barnaby & Sons", "Delta GmbH"]),
        ("isInactive IS true", ["Barnaby & Sons"]),
        ("isInactive IS_NOT TRUE", ["Barbara Ltd", "Cobalt Inc", "Delta GmbH"]),
        ("id EQUAL 3", ["Cobalt Inc"]),
        ("id NOT_EQUAL 3", ["Barbara Ltd", "Barnaby & Sons", "Delta GmbH"]),
        ("id GREATER 3", ["Delta GmbH"]),
        ("id LESS 2", ["Barbara Ltd"]),
        ("id GREATER_OR_EQUAL 3", ["Cobalt Inc", "Delta GmbH"]),
        ("id LESS_OR_EQUAL 2", ["Barbara Ltd", "Barnaby & Sons"]),
        ("id BETWEEN [2, 3]", ["Barnaby & Sons", "Cobalt Inc"]),
        ("id ANY_OF [1, 4]", ["Barbara Ltd", "Delta GmbH"]),
        ("currency ANY_OF [2, 3]", ["Barnaby & Sons", "Delta GmbH"]),
        ("currency EQUAL 1", ["Barbara Ltd", "Cobalt Inc"]),
        ('companyName ANY_OF ["cobalt inc", "delta gmbh"]', ["Cobalt Inc", "Delta GmbH"]),
        ('companyName START_WITH "Bar" AND isInactive IS false', ["Barbara Ltd"]),
        ('companyName IS "Cobalt Inc" OR id EQUAL 1 AND isInactive IS true', ["Cobalt Inc"]),
        (
            '(companyName IS "Cobalt Inc" OR id EQUAL 1) AND isInactive IS false',
            ["Barbara Ltd", "Cobalt Inc"],
        ),
        ('companyName IS "Barnaby \\"&\\" Sons"', []),
        (
            "externalId EMPTY and custentity_x EMPTY",
            ["Barbara Ltd", "Barnaby & Sons", "Cobalt Inc", "Delta GmbH"],
        ),
    ],
)
def test_q_filters_with_every_operator(svc: RecordService, q: str, expected: list[str]) -> None:
    assert _names(svc, q) == expected


def test_dates_compare_by_day_in_either_format() -> None:
    service = new_service()
    customer = service.create("customer", {"companyName": "C", "subsidiary": 1}, strict_fields=True)
    for day in ("2025-01-01", "2025-02-01", "2025-03-01"):
        body = {
            "customer": ref(customer),
            "billingSchedule": ref("1"),
            "currency": ref("1"),
            "name": day,
            "startDate": day,
        }
        service.create("billingAccount", body, strict_fields=True)

    def names(q: str) -> list[str]:
        ids, _ = service.list_ids("billingAccount", q=q, limit=10, offset=0)
        return [service.get("billingAccount", i, base_url="http://x")["name"] for i in ids]

    assert names('startDate ON "2/1/2025"') == ["2025-02-01"]
    assert names("startDate AFTER 2025-01-01") == ["2025-02-01", "2025-03-01"]
    assert names('startDate BEFORE "2025-02-01"') == ["2025-01-01"]
    assert names('startDate ON_OR_AFTER "2025-02-01"') == ["2025-02-01", "2025-03-01"]
    assert names('startDate BETWEEN ["1/15/2025", "2025-03-01"]') == ["2025-02-01", "2025-03-01"]
    assert len(names('lastModifiedDate AFTER "1/1/2000"')) == 3


@pytest.mark.parametrize(
    ("q", "wording"),
    [
        ('colour IS "red"', "unknown field colour"),
        ('companyName LIKE "x"', "operator LIKE does not apply"),
        ("isInactive GREATER 1", "operator GREATER does not apply"),
        ('companyName IS "open', "unterminated string"),
        ('(companyName IS "x"', "missing ')'"),
        ("id BETWEEN 1", "two values in brackets"),
        ("id BETWEEN [1, 2, 3]", "2 values expected"),
        ("id ANY_OF [1, 2", "missing ']'"),
        ("id EQUAL one", "'one' is not a number"),
        ('dateCreated ON "yesterday"', "is not a date"),
        ("isInactive IS maybe", "is not true or false"),
        ('companyName IS "x" junk', "unexpected 'junk'"),
        ("companyName IS", "a value expected"),
        ("companyName IS )", "a value expected"),
        ("companyName", "an operator expected"),
    ],
)
def test_a_bad_q_is_invalid_parameter(svc: RecordService, q: str, wording: str) -> None:
    with pytest.raises(NetSuiteProblem) as raised:
        svc.list_ids("customer", q=q, limit=10, offset=0)
    assert wording in expect_problem(raised, 400, "INVALID_PARAMETER", None).detail
