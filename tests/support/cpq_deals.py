"""Small CPQ deal graphs in the ``DealGraph`` JSON shape, for mapping tests and golden files.

A deal is built from a few readable calls — ``account(...)``, ``contact(...)``, ``line(...)``,
``deal(...)`` — with the product catalogue of the seeded Salesforce org (codes, names, charge
types, billing frequencies and USD list prices as in ``seed_catalogue``) and ids that are
18 characters long and easy to read: ``0010000000000001AAA``-style, with a counter per object.
"""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]

# code: (name, charge type, billing frequency, USD list price per unit for 12 months)
CATALOGUE: dict[str, tuple[str, str, str | None, float]] = {
    "PLAT-ENT": ("Platform - Enterprise Edition", "Recurring", "Annual", 60000.0),
    "PLAT-PRO": ("Platform - Professional Edition", "Recurring", "Annual", 24000.0),
    "PLAT-STD": ("Platform - Standard Edition", "Recurring", "Monthly", 9000.0),
    "SEAT-STD": ("Standard User Seat", "Recurring", "Annual", 600.0),
    "SEAT-PRM": ("Premium User Seat", "Recurring", "Annual", 1200.0),
    "SEAT-VIEW": ("Viewer Seat", "Recurring", "Monthly", 120.0),
    "STORAGE-TB": ("Additional Storage (per TB)", "Recurring", "Monthly", 1200.0),
    "SUPPORT-STD": ("Standard Support", "Recurring", "Annual", 5000.0),
    "SUPPORT-PRM": ("Premium Support", "Recurring", "Annual", 12000.0),
    "SUPPORT-247": ("24x7 Mission-Critical Support", "Recurring", "Annual", 25000.0),
    "ONBOARD": ("Onboarding Package", "One-Time", None, 7500.0),
    "TRAINING": ("Remote Training Day", "One-Time", None, 2000.0),
    "DATA-MIGR": ("Data Migration Service", "One-Time", None, 10000.0),
    "HW-GATEWAY": ("On-premises Gateway Appliance", "One-Time", None, 3500.0),
    "ANALYTICS": ("Advanced Analytics Add-on", "Recurring", "Quarterly", 6000.0),
    "SSO": ("Single Sign-On (SAML)", "Recurring", "Annual", 3000.0),
    "AUDIT-LOG": ("Audit Log Retention", "Recurring", "Annual", 2400.0),
    "SANDBOX": ("Full Sandbox Environment", "Recurring", "Annual", 8000.0),
    "SANDBOX-DEV": ("Developer Sandbox", "Recurring", "Annual", 1500.0),
    "INTEG-SF": ("Salesforce Connector", "Recurring", "Annual", 4800.0),
    "WORKFLOW": ("Workflow Automation Add-on", "Recurring", "Monthly", 3600.0),
    "AI-ASSIST": ("AI Assistant Add-on", "Recurring", "Monthly", 7200.0),
    "HEALTHCHECK": ("Annual Health Check", "Recurring", "Annual", 4000.0),
    "PREMIUM-SLA": ("Premium SLA (99.95%)", "Recurring", "Annual", 5000.0),
    "API-CALLS": ("API Calls (per 1,000)", "Usage", "Monthly", 0.5),
    "LEGACY-ADDON": ("Legacy Add-on (discontinued)", "Recurring", "Annual", 1800.0),
}
_PRODUCT_NUMBERS = {code: number for number, code in enumerate(CATALOGUE, start=1)}


def sfid(prefix: str, number: int) -> str:
    """An 18-character Salesforce-shaped id: ``001`` + 12 digits + ``AAA``."""
    return f"{prefix}{number:012d}AAA"


def product(code: str) -> Row:
    """The ``SBQQ__Product__r`` of a catalogue product."""
    name, charge, frequency, _price = CATALOGUE[code]
    return {
        "Id": sfid("01t", _PRODUCT_NUMBERS[code]),
        "Name": name,
        "ProductCode": code,
        "Family": None,
        "SBQQ__ChargeType__c": charge,
        "SBQQ__BillingFrequency__c": frequency,
        "SBQQ__SubscriptionType__c": "One-time" if charge == "One-Time" else "Renewable",
    }


def account(number: int = 1, name: str = "Acme Analytics Inc.", **fields: Any) -> Row:
    """An account in the United States (override ``BillingCountry`` etc. by keyword)."""
    row: Row = {
        "Id": sfid("001", number),
        "Name": name,
        "BillingStreet": "100 Market Street",
        "BillingCity": "San Francisco",
        "BillingState": "CA",
        "BillingPostalCode": "94105",
        "BillingCountry": "United States",
        "ShippingStreet": "100 Market Street",
        "ShippingCity": "San Francisco",
        "ShippingState": "CA",
        "ShippingPostalCode": "94105",
        "ShippingCountry": "United States",
        "Phone": "+1 (415) 555-0100",
        "Website": "https://www.acme-analytics.example",
        "CurrencyIsoCode": "USD",
        "NetSuite_Customer_Id__c": None,
    }
    row.update(fields)
    return row


def contact(number: int, first: str, last: str, **fields: Any) -> Row:
    """A contact with an email made from the name."""
    row: Row = {
        "Id": sfid("003", number),
        "FirstName": first,
        "LastName": last,
        "Email": f"{first}.{last}@acme-analytics.example".lower(),
        "Phone": "+1 (415) 555-0101",
        "Title": "Head of Finance",
    }
    row.update(fields)
    return row


def role(person: Row, role_name: str = "Decision Maker", *, primary: bool = False) -> Row:
    """An OpportunityContactRole of ``person``."""
    return {
        "Id": sfid("00K", int(person["Id"][3:15])),
        "ContactId": person["Id"],
        "Role": role_name,
        "IsPrimary": primary,
        "Contact": person,
    }


def line(
    number: int,
    code: str,
    *,
    quantity: float = 1.0,
    discount: float = 0.0,
    parent: Row | None = None,
    bundled: bool = False,
    fx: float = 1.0,
    term: int = 12,
    **fields: Any,
) -> Row:
    """A quote line priced as the seeded org prices it (list = price * fx; net = list * (1 - d))."""
    name, charge, frequency, price = CATALOGUE[code]
    recurring = charge != "One-Time"
    list_price = 0.0 if bundled else round(price * fx, 2)
    net_price = round(list_price * (100 - discount) / 100, 2)
    multiplier = term / 12 if recurring else 1.0
    row: Row = {
        "Id": sfid("a0v", number),
        "SBQQ__Quote__c": sfid("a0q", 1),
        "SBQQ__Product__c": product(code)["Id"],
        "SBQQ__Product__r": product(code),
        "SBQQ__ProductCode__c": code,
        "SBQQ__ProductName__c": name,
        "SBQQ__Number__c": number,
        "SBQQ__Quantity__c": quantity,
        "SBQQ__ListPrice__c": list_price,
        "SBQQ__CustomerPrice__c": net_price,
        "SBQQ__NetPrice__c": net_price,
        "SBQQ__NetTotal__c": round(net_price * quantity * multiplier, 2),
        "SBQQ__Discount__c": discount,
        "SBQQ__RequiredBy__c": parent["Id"] if parent else None,
        "SBQQ__Bundle__c": False,
        "SBQQ__Bundled__c": bundled,
        "SBQQ__ProrateMultiplier__c": multiplier,
        "SBQQ__SubscriptionTerm__c": term if recurring else None,
        "SBQQ__SubscriptionType__c": "Renewable" if recurring else "One-time",
        "SBQQ__SubscriptionPricing__c": "Fixed Price" if recurring else None,
        "SBQQ__ChargeType__c": charge,
        "SBQQ__BillingType__c": "Advance",
        "SBQQ__BillingFrequency__c": frequency,
        "SBQQ__StartDate__c": None,
        "SBQQ__EndDate__c": None,
    }
    row.update(fields)
    return row


def quote(
    start: str = "2026-01-01",
    end: str = "2026-12-31",
    *,
    term: int = 12,
    currency: str = "USD",
    primary_contact: Row | None = None,
    **fields: Any,
) -> Row:
    """The primary quote ``Q-00001``."""
    row: Row = {
        "Id": sfid("a0q", 1),
        "Name": "Q-00001",
        "SBQQ__Primary__c": True,
        "SBQQ__StartDate__c": start,
        "SBQQ__EndDate__c": end,
        "SBQQ__SubscriptionTerm__c": term,
        "SBQQ__BillingFrequency__c": None,
        "SBQQ__NetAmount__c": None,
        "CurrencyIsoCode": currency,
        "SBQQ__PrimaryContact__c": primary_contact["Id"] if primary_contact else None,
        "SBQQ__PrimaryContact__r": primary_contact,
    }
    row.update(fields)
    return row


def opportunity(number: int = 1, **fields: Any) -> Row:
    """A won opportunity of account 1."""
    row: Row = {
        "Id": sfid("006", number),
        "Name": "Acme Analytics - Platform",
        "StageName": "Closed Won",
        "IsWon": True,
        "CloseDate": "2025-12-15",
        "Amount": None,
        "CurrencyIsoCode": "USD",
        "SystemModstamp": "2025-12-15T10:00:00.000+0000",
        "AccountId": sfid("001", 1),
        "Type": "New Business",
        "SBQQ__PrimaryQuote__c": sfid("a0q", 1),
        "SBQQ__Contracted__c": False,
        "SBQQ__Renewal__c": False,
        "SBQQ__AmendedContract__c": None,
        "SBQQ__RenewedContract__c": None,
    }
    row.update(fields)
    return row


def default_contact(acct: Row) -> Row:
    """Dana Whitfield of that account: contact number = account number, email at its domain."""
    domain = str(acct.get("Website") or "https://www.example.com").removeprefix("https://www.")
    return contact(int(acct["Id"][3:15]), "Dana", "Whitfield", Email=f"dana.whitfield@{domain}")


def deal(
    lines: list[Row],
    *,
    the_account: Row | None = None,
    roles: list[Row] | None = None,
    the_quote: Row | None = None,
    the_opportunity: Row | None = None,
) -> Row:
    """A deal graph; the quote's net amount and the opportunity amount are the lines' sum."""
    acct = the_account or account()
    people = roles if roles is not None else [role(default_contact(acct), primary=True)]
    quote_row = dict(the_quote or quote())
    total = round(sum(row["SBQQ__NetTotal__c"] or 0 for row in lines), 2)
    quote_row.setdefault("SBQQ__NetAmount__c", total)
    if quote_row["SBQQ__NetAmount__c"] is None:
        quote_row["SBQQ__NetAmount__c"] = total
    opp = the_opportunity or opportunity(AccountId=acct["Id"], Amount=total)
    return {
        "opportunity": opp,
        "account": acct,
        "contact_roles": people,
        "quote": quote_row,
        "lines": lines,
    }
