"""The sample deal the demo writes: one CPQ bundle sold to one account, as NetSuite records.

Hand-built payloads in the shape the default flow (DESIGN §4) produces, so the demo shows the
NetSuite leg before the mapping engine exists. References to records written earlier in the
same run are placeholders (``Ref``) resolved to internal ids just before each write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "0015g00000DEMOAAAA"
CONTACT_ID = "0035g00000DEMOAAAA"
BUNDLE_PRODUCT_ID = "01t5g00000DEMOAAAA"
BUNDLE_LINE_ID = "a0v5g00000DEMOAAAA"
CUSTOMER_EID = f"SFACC-{ACCOUNT_ID}"
BILLING_ACCOUNT_EID = f"SFBA-{ACCOUNT_ID}-USD-MONTHLY"
PLAN_EID = f"SFPLAN-{BUNDLE_PRODUCT_ID}"
PRICE_BOOK_EID = f"SFPB-{BUNDLE_PRODUCT_ID}-USD"
SUBSCRIPTION_EID = f"SFSUB-{BUNDLE_LINE_ID}"

# (item code, monthly unit price, quantity) of the bundle's members.
MEMBERS: list[tuple[str, float, int]] = [
    ("PLAT-PRO", 2000.0, 1),
    ("SEAT-STD", 50.0, 25),
    ("SUPPORT-STD", 400.0, 1),
]


@dataclass(frozen=True)
class Ref:
    """A reference to a record written earlier in the same run, by its external id."""

    external_id: str


@dataclass(frozen=True)
class DemoWrite:
    """One upsert: record type, external id, and a body that may hold ``Ref`` placeholders."""

    record_type: str
    external_id: str
    body: dict[str, Any] = field(default_factory=dict)

    def resolve(self, written: dict[str, str]) -> dict[str, Any]:
        """The body with every ``Ref`` replaced by ``{"id": <internal id>}``."""
        resolved = _resolve(self.body, written)
        assert isinstance(resolved, dict)  # noqa: S101 - a dict in, a dict out
        return resolved


def _resolve(value: Any, written: dict[str, str]) -> Any:
    if isinstance(value, Ref):
        return {"id": written[value.external_id]}
    if isinstance(value, dict):
        return {key: _resolve(item, written) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, written) for item in value]
    return value


def _price_plan_eid(code: str) -> str:
    return f"SFPP-{BUNDLE_PRODUCT_ID}-{code}-USD"


def _entity_writes() -> list[DemoWrite]:
    return [
        DemoWrite("customer", CUSTOMER_EID, {
            "companyName": "Acme Analytics Inc.",
            "subsidiary": {"id": "1"},
            "currency": {"id": "1"},
            "email": "billing@acme-analytics.example",
        }),
        DemoWrite("contact", f"SFCON-{CONTACT_ID}", {
            "entityId": "Dana Whitfield",
            "firstName": "Dana",
            "lastName": "Whitfield",
            "email": "dana.whitfield@acme-analytics.example",
            "company": Ref(CUSTOMER_EID),
            "subsidiary": {"id": "1"},
        }),
        DemoWrite("billingAccount", BILLING_ACCOUNT_EID, {
            "name": "Acme Analytics Inc. USD Monthly",
            "customer": Ref(CUSTOMER_EID),
            "billingSchedule": {"id": "1"},
            "currency": {"id": "1"},
            "startDate": "2026-12-01",
        }),
    ]  # fmt: skip


def _catalogue_writes(items: dict[str, str]) -> list[DemoWrite]:
    plans = [
        DemoWrite("pricePlan", _price_plan_eid(code), {
            "currency": {"id": "1"},
            "pricePlanType": "2",
            "priceTiers": {"items": [
                {"fromVal": 0, "pricingOption": {"id": "-101"}, "value": price},  # per unit
            ]},
        })
        for code, price, _quantity in MEMBERS
    ]  # fmt: skip
    members = [
        {"lineNumber": n, "item": {"id": items[code]}, "isRequired": True,
         "subscriptionLineType": "2", "billingMode": "IN_ADVANCE", "renewalOption": "ALWAYS"}
        for n, (code, _price, _quantity) in enumerate(MEMBERS, start=1)
    ]  # fmt: skip
    intervals = [
        {"subscriptionPlanLineNumber": n, "pricePlan": Ref(_price_plan_eid(code)),
         "frequency": "MONTHLY", "repeatEvery": "1", "startOffsetUnit": "MONTH",
         "startOffsetValue": 1}
        for n, (code, _price, _quantity) in enumerate(MEMBERS, start=1)
    ]  # fmt: skip
    return [
        *plans,
        DemoWrite("subscriptionPlan", PLAN_EID, {
            "itemId": "Platform Professional Bundle",
            "initialTerm": {"id": "1"},
            "member": {"items": members},
        }),
        DemoWrite("priceBook", PRICE_BOOK_EID, {
            "name": "Platform Professional Bundle USD",
            "subscriptionPlan": Ref(PLAN_EID),
            "currency": {"id": "1"},
            "priceInterval": {"items": intervals},
        }),
    ]  # fmt: skip


def _subscription_writes() -> list[DemoWrite]:
    quantities = [
        {"subscriptionPlanLineNumber": n, "startOffsetValue": 1, "quantity": quantity}
        for n, (_code, _price, quantity) in enumerate(MEMBERS, start=1)
    ]
    return [
        DemoWrite("subscription", SUBSCRIPTION_EID, {
            "name": "Acme Analytics Inc. - Platform Professional Bundle",
            "customer": Ref(CUSTOMER_EID),
            "billingAccount": Ref(BILLING_ACCOUNT_EID),
            "subscriptionPlan": Ref(PLAN_EID),
            "priceBook": Ref(PRICE_BOOK_EID),
            "initialTerm": {"id": "1"},
            "startDate": "2026-12-01",
            "priceInterval": {"items": quantities},
        }),
        DemoWrite("customrecord_cpq_package", f"SFPKG-{BUNDLE_LINE_ID}", {
            "name": "Platform Professional Bundle",
            "custrecord_cpq_pkg_subscription": Ref(SUBSCRIPTION_EID),
            "custrecord_cpq_pkg_plan": Ref(PLAN_EID),
            "custrecord_cpq_pkg_quantity": 1,
            "custrecord_cpq_pkg_net_total": 40800.0,
            "custrecord_cpq_pkg_quote_line": BUNDLE_LINE_ID,
        }),
    ]  # fmt: skip


def sample_deal_writes(items: dict[str, str]) -> list[DemoWrite]:
    """Every write of the sample deal in dependency order; ``items`` maps item code → id."""
    return [*_entity_writes(), *_catalogue_writes(items), *_subscription_writes()]
