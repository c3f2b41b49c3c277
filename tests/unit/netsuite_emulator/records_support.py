"""Builders for the record-service tests: a fresh service and a small SuiteBilling catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.records import RecordService
from dealbridge.connectors.netsuite.emulator.store import RecordStore

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
USD, GBP = "1", "2"
MONTHLY_SCHEDULE = "1"
TERM_12_MONTHS = "1"
# Reference items (reference_data._CATALOGUE order): ONBOARD, PLAT-PRO, SEAT-STD, SUPPORT-STD…
ONBOARD, PLAT_PRO, SEAT_STD, SUPPORT_STD, SUPPORT_PRM, ANALYTICS = "12", "2", "4", "9", "10", "15"


def new_service() -> RecordService:
    """A service over a fresh in-memory store (reference data loaded)."""
    return RecordService(RecordStore(":memory:"))


def expect_problem(
    raised: pytest.ExceptionInfo[NetSuiteProblem], status: int, code: str, path: str | None
) -> NetSuiteProblem:
    """Assert the status, ``o:errorCode`` and ``o:errorPath`` of a refusal."""
    problem = raised.value
    assert (problem.status, problem.code, problem.error_path) == (status, code, path)
    return problem


def ref(record_id: str) -> dict[str, str]:
    """A reference as the client sends it (§2.1)."""
    return {"id": record_id}


def customer(svc: RecordService, name: str = "Acme Corp", **fields: Any) -> str:
    """A customer of subsidiary 1."""
    body = {"companyName": name, "subsidiary": ref("1"), **fields}
    return svc.create("customer", body, strict_fields=True)


def billing_account(svc: RecordService, customer_id: str, currency: str = USD) -> str:
    """A monthly billing account starting 2025-01-01."""
    body = {
        "customer": ref(customer_id),
        "billingSchedule": ref(MONTHLY_SCHEDULE),
        "currency": ref(currency),
        "name": "REST Billing Account",
        "startDate": "2025-01-01",
    }
    return svc.create("billingAccount", body, strict_fields=True)


def price_plan(svc: RecordService, *tiers: tuple[float, float], currency: str = USD) -> str:
    """A price plan with (fromVal, value) tiers."""
    items = [{"fromVal": f, "pricingOption": ref("-101"), "value": v} for f, v in tiers]
    body = {"currency": ref(currency), "pricePlanType": "4", "priceTiers": {"items": items}}
    return svc.create("pricePlan", body, strict_fields=True)


@dataclass
class Catalogue:
    """A four-line plan (case-1 shape) and its price book."""

    plan: str
    price_book: str
    price_plans: dict[int, str]


def catalogue(svc: RecordService, currency: str = USD) -> Catalogue:
    """Plan lines: 1 one-time setup, 2 licence, 3 seats (volume tiers), 4 optional support."""
    members = [
        {"lineNumber": 1, "item": ref(ONBOARD), "isRequired": True, "subscriptionLineType": "1"},
        {"lineNumber": 2, "item": ref(PLAT_PRO), "isRequired": True, "subscriptionLineType": "2"},
        {"lineNumber": 3, "item": ref(SEAT_STD), "isRequired": True, "subscriptionLineType": "2"},
        {
            "lineNumber": 4,
            "item": ref(SUPPORT_STD),
            "isRequired": False,
            "subscriptionLineType": "2",
        },
    ]
    plan = svc.create(
        "subscriptionPlan",
        {
            "itemId": "DEFEND Package",
            "initialTerm": ref(TERM_12_MONTHS),
            "member": {"items": members},
        },
        strict_fields=True,
    )
    plans = {
        1: price_plan(svc, (0, 100.0), currency=currency),
        2: price_plan(svc, (0, 1000.0), currency=currency),
        3: price_plan(svc, (0, 7.0), (20, 6.0), (50, 5.0), currency=currency),
        4: price_plan(svc, (0, 30.0), currency=currency),
    }
    intervals = [
        {
            "subscriptionPlanLineNumber": n,
            "pricePlan": ref(plans[n]),
            "frequency": "ONETIME" if n == 1 else "MONTHLY",
            "repeatEvery": "0" if n == 1 else "1",
            "startOffsetUnit": "MONTH",
            "startOffsetValue": 1,
        }
        for n in (1, 2, 3, 4)
    ]
    book = svc.create(
        "priceBook",
        {
            "subscriptionPlan": ref(plan),
            "currency": ref(currency),
            "name": "Standard Pricing",
            "priceInterval": {"items": intervals},
        },
        strict_fields=True,
    )
    return Catalogue(plan, book, plans)


def subscription_body(cust: str, account: str, cat: Catalogue, **fields: Any) -> dict[str, Any]:
    """The body of Oracle's case-2 draft subscription."""
    return {
        "customer": ref(cust),
        "billingAccount": ref(account),
        "subscriptionPlan": ref(cat.plan),
        "priceBook": ref(cat.price_book),
        "initialTerm": ref(TERM_12_MONTHS),
        **fields,
    }


def lines_by(doc: dict[str, Any], sublist: str, key: str) -> dict[Any, dict[str, Any]]:
    """A stored sublist indexed by one key field."""
    return {line[key]: line for line in doc[sublist]}
