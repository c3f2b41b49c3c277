"""The records a fresh emulator starts with, and returns to on reset.

Plain data in request form (refs as ``{"id"}``), loaded through ``RecordService.load_seed`` in
schema order. Items are the product master a CPQ catalogue maps to by ``itemId`` = ProductCode
(DESIGN §4); one retired item is inactive so that mapping code meets one.
"""

from __future__ import annotations

from typing import Any

CURRENCIES: list[dict[str, Any]] = [
    {"id": 1, "name": "US Dollar", "symbol": "USD", "displaySymbol": "$", "isBaseCurrency": True,
     "exchangeRate": 1.0},
    {"id": 2, "name": "British Pound", "symbol": "GBP", "displaySymbol": "£",
     "exchangeRate": 1.27},
    {"id": 3, "name": "Euro", "symbol": "EUR", "displaySymbol": "€", "exchangeRate": 1.08},
    {"id": 4, "name": "Canadian Dollar", "symbol": "CAD", "displaySymbol": "$",
     "exchangeRate": 0.73},
    {"id": 5, "name": "Australian Dollar", "symbol": "AUD", "displaySymbol": "$",
     "exchangeRate": 0.66},
    {"id": 6, "name": "Japanese Yen", "symbol": "JPY", "displaySymbol": "¥",
     "exchangeRate": 0.0067},
]  # fmt: skip

SUBSIDIARIES: list[dict[str, Any]] = [
    {"id": 1, "name": "Parent Company", "country": {"id": "US"}, "currency": {"id": "1"}},
    {"id": 2, "name": "UK Ltd", "country": {"id": "GB"}, "currency": {"id": "2"},
     "parent": {"id": "1"}},
    {"id": 3, "name": "EU GmbH", "country": {"id": "DE"}, "currency": {"id": "3"},
     "parent": {"id": "1"}},
    {"id": 4, "name": "Canada Inc", "country": {"id": "CA"}, "currency": {"id": "4"},
     "parent": {"id": "1"}},
]  # fmt: skip

BILLING_SCHEDULES: list[dict[str, Any]] = [
    {"id": 1, "name": "Monthly", "frequency": "MONTHLY"},
    {"id": 2, "name": "Quarterly", "frequency": "QUARTERLY"},
    {"id": 3, "name": "Annual", "frequency": "ANNUALLY"},
    {"id": 4, "name": "Semi-Annual", "frequency": "SEMIANNUALLY"},
    {"id": 5, "name": "Upfront", "frequency": "ONETIME"},
]

SUBSCRIPTION_TERMS: list[dict[str, Any]] = [
    {"id": 1, "name": "12 Months", "subscriptionTermDuration": 12,
     "subscriptionTermUnit": {"id": "MONTHS"}},
    {"id": 2, "name": "24 Months", "subscriptionTermDuration": 24,
     "subscriptionTermUnit": {"id": "MONTHS"}},
    {"id": 3, "name": "36 Months", "subscriptionTermDuration": 36,
     "subscriptionTermUnit": {"id": "MONTHS"}},
    {"id": 4, "name": "1 Month", "subscriptionTermDuration": 1,
     "subscriptionTermUnit": {"id": "MONTHS"}},
    {"id": 5, "name": "Evergreen", "subscriptionTermType": "EVERGREEN"},
]  # fmt: skip

# (itemId, displayName, itemType, basePrice); ids follow the order, from 1.
_CATALOGUE: list[tuple[str, str, str, float]] = [
    ("PLAT-ENT", "Platform - Enterprise Edition", "Service", 60000.0),
    ("PLAT-PRO", "Platform - Professional Edition", "Service", 24000.0),
    ("PLAT-STD", "Platform - Standard Edition", "Service", 9000.0),
    ("SEAT-STD", "Standard User Seat", "Service", 600.0),
    ("SEAT-PRM", "Premium User Seat", "Service", 1200.0),
    ("SEAT-VIEW", "Viewer Seat", "Service", 120.0),
    ("API-CALLS", "API Calls (per 1,000)", "Service", 0.5),
    ("STORAGE-TB", "Additional Storage (per TB)", "Service", 1200.0),
    ("SUPPORT-STD", "Standard Support", "Service", 5000.0),
    ("SUPPORT-PRM", "Premium Support", "Service", 12000.0),
    ("SUPPORT-247", "24x7 Mission-Critical Support", "Service", 25000.0),
    ("ONBOARD", "Onboarding Package (one-time)", "Service", 7500.0),
    ("TRAINING", "Remote Training Day (one-time)", "Service", 2000.0),
    ("TRAINING-ONSITE", "On-site Training Day (one-time)", "Service", 3500.0),
    ("ANALYTICS", "Advanced Analytics Add-on", "Service", 6000.0),
    ("SSO", "Single Sign-On (SAML)", "Service", 3000.0),
    ("AUDIT-LOG", "Audit Log Retention", "Service", 2400.0),
    ("SANDBOX", "Full Sandbox Environment", "Service", 8000.0),
    ("SANDBOX-DEV", "Developer Sandbox", "Service", 1500.0),
    ("DATA-MIGR", "Data Migration Service (one-time)", "Service", 10000.0),
    ("INTEG-SF", "Salesforce Connector", "Service", 4800.0),
    ("INTEG-ERP", "ERP Connector", "Service", 6000.0),
    ("WORKFLOW", "Workflow Automation Add-on", "Service", 3600.0),
    ("AI-ASSIST", "AI Assistant Add-on", "Service", 7200.0),
    ("COMPUTE-HR", "Compute Hours (usage)", "Service", 0.12),
    ("EMAIL-SENDS", "Email Sends (per 10,000, usage)", "Service", 10.0),
    ("HEALTHCHECK", "Annual Health Check", "Service", 4000.0),
    ("CONSULT-HR", "Professional Services Hour", "Service", 250.0),
    ("PREMIUM-SLA", "Premium SLA (99.95%)", "Service", 5000.0),
    ("HW-GATEWAY", "On-premises Gateway Appliance", "NonInvtPart", 3500.0),
    ("SEAT-LEGACY", "Legacy User Seat (retired)", "Service", 500.0),
]
_RETIRED = frozenset({"SEAT-LEGACY"})

ITEMS: list[dict[str, Any]] = [
    {"id": number, "itemId": code, "displayName": name, "itemType": kind, "basePrice": price,
     "isInactive": code in _RETIRED}
    for number, (code, name, kind, price) in enumerate(_CATALOGUE, start=1)
]  # fmt: skip

REFERENCE_DATA: dict[str, list[dict[str, Any]]] = {
    "currency": CURRENCIES,
    "subsidiary": SUBSIDIARIES,
    "billingSchedule": BILLING_SCHEDULES,
    "subscriptionTerm": SUBSCRIPTION_TERMS,
    "item": ITEMS,
}
