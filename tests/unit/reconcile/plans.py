"""Small hand-made plans and expectations for the reconciliation unit tests."""

from __future__ import annotations

from typing import Any

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import Operation, PendingRef, RecordKey, SyncPlan
from dealbridge.sync.reconcile_expect import DealExpectation, Expectation, Variant
from dealbridge.sync.reconcile_fetch import WonDeal

CUSTOMER = RecordKey("customer", "SFACC-001A")
CONTACT = RecordKey("contact", "SFCON-003A")
PRICE_PLAN = RecordKey("pricePlan", "SFPP-01tA-USD-1000")
SUBSCRIPTION = RecordKey("subscription", "SFSUB-a0vA")
PREFIXES = {
    "customer": ("SFACC-",),
    "contact": ("SFCON-",),
    "pricePlan": ("SFPP-",),
    "subscription": ("SFSUB-",),
}


def operation(key: RecordKey, payload: dict[str, Any]) -> Operation:
    """The operation of the shipped flow's shape: the customer's address book is replaced."""
    replace = ("addressBook",) if key.record_type == "customer" else ()
    return Operation(name=key.record_type, key=key, payload=payload, replace=replace)


def deal(opportunity_id: str = "006A") -> WonDeal:
    return WonDeal(opportunity_id, "001A", "2025-05-01T10:00:00.000+0000", "2025-05-01")


def expectation(*variants: tuple[str, Operation]) -> Expectation:
    """An expectation holding these (opportunity, operation) variants, in order."""
    found = Expectation(prefixes=dict(PREFIXES))
    plans: dict[str, SyncPlan] = {}
    for opportunity_id, planned in variants:
        found.records.setdefault(planned.key, []).append(Variant(opportunity_id, planned))
        plan = plans.setdefault(opportunity_id, SyncPlan("f", 1, opportunity_id))
        plan.operations.append(planned)
    for opportunity_id, plan in plans.items():
        found.deals[opportunity_id] = DealExpectation(deal(opportunity_id), plan=plan)
    return found


def customer_payload(**fields: Any) -> dict[str, Any]:
    return {
        "companyName": "Acme",
        "subsidiary": {"id": "1"},
        "email": "ap@acme.example",
        "addressBook": {"items": [{"label": "Billing"}]},
        **fields,
    }


def subscription_payload(quantity: float, discount: float = 0) -> dict[str, Any]:
    """A 12-month subscription with one monthly interval on ``PRICE_PLAN``."""
    return {
        "customer": PendingRef(CUSTOMER),
        "startDate": "2025-06-01",
        "endDate": "2026-05-31",
        "priceInterval": {
            "items": [
                {
                    "subscriptionPlanLineNumber": 1,
                    "pricePlan": PendingRef(PRICE_PLAN),
                    "frequency": "MONTHLY",
                    "quantity": quantity,
                    "discount": discount,
                }
            ]
        },
    }


def price_plan_payload(value: float) -> dict[str, Any]:
    return {"priceTiers": {"items": [{"fromVal": 0, "value": value}]}}


def graph(net_amount: float, currency: str = "USD") -> DealGraph:
    return DealGraph.model_validate(
        {
            "opportunity": {"Id": "006A", "CurrencyIsoCode": currency},
            "account": {"Id": "001A"},
            "quote": {"Id": "a0qA", "SBQQ__NetAmount__c": net_amount},
        }
    )
