"""A small in-memory CPQ org for the SOQL engine's tests, and helpers to read results.

Values are stored in a mix of Python and wire forms (dates as ``date`` and as text, numbers as
int and float) because the engine must accept whatever the emulator's store keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from dealbridge.connectors.salesforce.emulator.soql_engine import SoqlResult, execute_soql
from dealbridge.connectors.salesforce.models import to_id18

NOW = datetime(2025, 7, 15, 10, 30, tzinfo=UTC)  # a Tuesday
VERSION = "65.0"


def sfid(prefix: str, n: int) -> str:
    """A well-formed 18-character id with the object's key prefix."""
    return to_id18(f"{prefix}{n:012d}")


def _stamp(day: str) -> str:
    return f"{day}T09:00:00.000+0000"


def acc(n: int) -> str:
    return sfid("001", n)


def con(n: int) -> str:
    return sfid("003", n)


def opp(n: int) -> str:
    return sfid("006", n)


def quo(n: int) -> str:
    return sfid("a0q", n)


def qli(n: int) -> str:
    return sfid("a0v", n)


def prod(n: int) -> str:
    return sfid("01t", n)


def _base(record_id: str, created: str, **fields: Any) -> dict[str, Any]:
    return {
        "Id": record_id,
        "IsDeleted": False,
        "CreatedDate": _stamp(created),
        "LastModifiedDate": _stamp(created),
        "SystemModstamp": _stamp(created),
        **fields,
    }


ACCOUNTS = [
    _base(acc(1), "2025-01-10", Name="Acme Corp", Type="Customer - Direct", Industry="Technology",
          BillingCity="Springfield", BillingCountry="US", CurrencyIsoCode="USD",
          NetSuite_Customer_Id__c="NS-1", Website="https://acme.example"),
    _base(acc(2), "2025-06-28", Name="Globex", BillingCity="Paris", BillingCountry="France",
          CurrencyIsoCode="EUR"),
    _base(acc(3), "2025-07-15", Name="Initech", Industry="Finance", BillingCountry="US",
          CurrencyIsoCode="USD"),
    _base(acc(4), "2024-12-31", Name="O'Brien & Sons", BillingCity="Dublin",
          BillingCountry="Ireland", CurrencyIsoCode="EUR"),
    _base(acc(5), "2025-07-14", Name="100% Pure_Water", BillingCity="Springfield",
          BillingCountry="US", CurrencyIsoCode="USD"),
    {**_base(acc(6), "2025-02-01", Name="Deleted Co", CurrencyIsoCode="USD"), "IsDeleted": True},
]  # fmt: skip

CONTACTS = [
    _base(con(1), "2025-01-11", AccountId=acc(1), FirstName="Alice", LastName="Smith",
          Email="alice@acme.com", Title="CFO"),
    _base(con(2), "2025-01-12", AccountId=acc(1), FirstName="Bob", LastName="Jones",
          Email="b@acme.com"),
    _base(con(3), "2025-06-28", AccountId=acc(2), FirstName="Carol", LastName="White",
          Email="carol@globex.fr"),
    _base(con(4), "2025-07-01", LastName="Brown"),
]  # fmt: skip

OPPORTUNITIES = [
    _base(opp(1), "2025-05-01", Name="Acme - Platform", AccountId=acc(1), StageName="Closed Won",
          IsWon=True, IsClosed=True, CloseDate="2025-07-11", Amount=45000, CurrencyIsoCode="USD",
          SBQQ__Contracted__c=False, SBQQ__PrimaryQuote__c=quo(1),
          NetSuite_Sync_Status__c="Pending", Probability=100),
    _base(opp(2), "2025-05-02", Name="Globex - Renewal", AccountId=acc(2),
          StageName="Negotiation/Review", IsWon=False, IsClosed=False, CloseDate=date(2025, 8, 1),
          Amount=12000.5, CurrencyIsoCode="EUR", Probability=80),
    _base(opp(3), "2025-05-03", Name="Initech - Expansion", AccountId=acc(3),
          StageName="Closed Lost", IsWon=False, IsClosed=True, CloseDate="2025-06-15",
          CurrencyIsoCode="USD", Probability=0),
    _base(opp(4), "2025-07-15", Name="Acme - Services", AccountId=acc(1), StageName="Closed Won",
          IsWon=True, IsClosed=True, CloseDate="2025-07-15", Amount=5000.0, CurrencyIsoCode="USD",
          SBQQ__PrimaryQuote__c=quo(3)),
    _base(opp(5), "2025-07-15", Name="Orphan deal", StageName="Prospecting", IsWon=False,
          IsClosed=False, CloseDate="2025-07-16", Amount=100, CurrencyIsoCode="USD"),
]  # fmt: skip

ROLES = [
    _base(sfid("00K", 1), "2025-05-01", OpportunityId=opp(1), ContactId=con(1),
          Role="Economic Buyer", IsPrimary=False),
    _base(sfid("00K", 2), "2025-05-01", OpportunityId=opp(1), ContactId=con(2),
          Role="Decision Maker", IsPrimary=True),
    _base(sfid("00K", 3), "2025-05-02", OpportunityId=opp(2), ContactId=con(3),
          Role="Decision Maker", IsPrimary=True),
    {**_base(sfid("00K", 4), "2025-05-02", OpportunityId=opp(1), ContactId=con(3),
             Role="Influencer"), "IsDeleted": True},
]  # fmt: skip

PRODUCTS = [
    _base(prod(1), "2024-01-01", Name="Platform", ProductCode="PLAT", Family="Software",
          IsActive=True, SBQQ__ChargeType__c="Recurring", SBQQ__BillingFrequency__c="Annual"),
    _base(prod(2), "2024-01-01", Name="Platform Seat", ProductCode="SEAT", Family="Software",
          IsActive=True, SBQQ__Component__c=True),
    _base(prod(3), "2024-01-01", Name="Onboarding", ProductCode="ONB", Family="Services",
          IsActive=True, SBQQ__ChargeType__c="One-Time"),
    _base(prod(4), "2024-01-01", Name="Support", ProductCode="SUP", Family="Support",
          IsActive=False),
]  # fmt: skip

QUOTES = [
    _base(quo(1), "2025-05-05", Name="Q-00058", SBQQ__Primary__c=True, SBQQ__Account__c=acc(1),
          SBQQ__Opportunity2__c=opp(1), SBQQ__PrimaryContact__c=con(2),
          SBQQ__StartDate__c="2025-08-01", SBQQ__EndDate__c="2026-07-31",
          SBQQ__SubscriptionTerm__c=12, SBQQ__NetAmount__c=45000, CurrencyIsoCode="USD"),
    _base(quo(2), "2025-05-04", Name="Q-00057", SBQQ__Primary__c=False, SBQQ__Account__c=acc(1),
          SBQQ__Opportunity2__c=opp(1), SBQQ__SubscriptionTerm__c=24, CurrencyIsoCode="USD"),
    _base(quo(3), "2025-07-15", Name="Q-00060", SBQQ__Primary__c=True, SBQQ__Account__c=acc(1),
          SBQQ__Opportunity2__c=opp(4), SBQQ__StartDate__c=date(2025, 8, 1),
          SBQQ__SubscriptionTerm__c=12, CurrencyIsoCode="USD"),
]  # fmt: skip

# Stored out of line-number order, so ORDER BY SBQQ__Number__c has work to do.
QUOTE_LINES = [
    _base(qli(3), "2025-05-05", SBQQ__Quote__c=quo(1), SBQQ__Product__c=prod(3),
          SBQQ__ProductCode__c="ONB", SBQQ__Number__c=3, SBQQ__Quantity__c=1,
          SBQQ__ListPrice__c=42000, SBQQ__NetPrice__c=42000, SBQQ__NetTotal__c=42000,
          SBQQ__ChargeType__c="One-Time"),
    _base(qli(1), "2025-05-05", SBQQ__Quote__c=quo(1), SBQQ__Product__c=prod(1),
          SBQQ__ProductCode__c="PLAT", SBQQ__Number__c=1, SBQQ__Quantity__c=10,
          SBQQ__ListPrice__c=350, SBQQ__NetPrice__c=300, SBQQ__NetTotal__c=3000,
          SBQQ__Discount__c=14.29, SBQQ__Bundle__c=True, SBQQ__SubscriptionPricing__c="Fixed Price",
          SBQQ__SubscriptionTerm__c=12, SBQQ__ChargeType__c="Recurring",
          SBQQ__BillingType__c="Advance", SBQQ__BillingFrequency__c="Annual"),
    _base(qli(2), "2025-05-05", SBQQ__Quote__c=quo(1), SBQQ__Product__c=prod(2),
          SBQQ__ProductCode__c="SEAT", SBQQ__Number__c=2, SBQQ__Quantity__c=10,
          SBQQ__ListPrice__c=0, SBQQ__NetPrice__c=0, SBQQ__NetTotal__c=0,
          SBQQ__RequiredBy__c=qli(1), SBQQ__Bundled__c=True, SBQQ__ChargeType__c="Recurring",
          SBQQ__BillingFrequency__c="Annual"),
    _base(qli(4), "2025-07-15", SBQQ__Quote__c=quo(3), SBQQ__Product__c=prod(4),
          SBQQ__ProductCode__c="SUP", SBQQ__Number__c=1, SBQQ__Quantity__c=1,
          SBQQ__NetPrice__c=5000, SBQQ__NetTotal__c=5000),
    _base(qli(5), "2025-05-04", SBQQ__Quote__c=quo(2), SBQQ__Product__c=prod(1),
          SBQQ__ProductCode__c="PLAT", SBQQ__Number__c=1, SBQQ__Quantity__c=5),
]  # fmt: skip

ORG: dict[str, list[dict[str, Any]]] = {
    "Account": ACCOUNTS,
    "Contact": CONTACTS,
    "Opportunity": OPPORTUNITIES,
    "OpportunityContactRole": ROLES,
    "Product2": PRODUCTS,
    "SBQQ__Quote__c": QUOTES,
    "SBQQ__QuoteLine__c": QUOTE_LINES,
}


class MemorySource:
    """A RecordSource over lists of dicts; counts calls so tests can see the access path."""

    def __init__(self, tables: Mapping[str, list[dict[str, Any]]]) -> None:
        self.tables = {name: list(rows) for name, rows in tables.items()}
        self.by_id = {row["Id"]: row for rows in self.tables.values() for row in rows}
        self.calls = {"records": 0, "get": 0, "children": 0}
        self._index: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}

    def records(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        self.calls["records"] += 1
        rows = self.tables.get(sobject, [])
        return rows if include_deleted else [r for r in rows if not r.get("IsDeleted")]

    def get(self, sobject: str, record_id: str) -> Mapping[str, Any] | None:
        self.calls["get"] += 1
        row = self.by_id.get(record_id)
        return row if row is not None and row["Id"].startswith(_PREFIXES[sobject]) else None

    def children(
        self, sobject: str, field: str, parent_id: str, *, include_deleted: bool
    ) -> Iterable[Mapping[str, Any]]:
        self.calls["children"] += 1
        index = self._index.get((sobject, field))
        if index is None:
            index = {}
            for row in self.tables.get(sobject, []):
                index.setdefault(str(row.get(field)), []).append(row)
            self._index[(sobject, field)] = index
        rows = index.get(parent_id, [])
        return rows if include_deleted else [r for r in rows if not r.get("IsDeleted")]


_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Product2": "01t",
    "SBQQ__Quote__c": "a0q",
    "SBQQ__QuoteLine__c": "a0v",
    "SBQQ__ProductOption__c": "a0p",
    "Contract": "800",
    "Pricebook2": "01s",
}


def run(
    soql: str, *, include_deleted: bool = False, source: MemorySource | None = None
) -> SoqlResult:
    """Execute against the fixture org at the fixed ``NOW``."""
    return execute_soql(
        soql, source or MemorySource(ORG), api_version=VERSION, include_deleted=include_deleted,
        now=NOW,
    )  # fmt: skip


def column(result: SoqlResult, key: str) -> list[Any]:
    """One top-level field of every record, in order."""
    return [record[key] for record in result.records]


def url(sobject: str, record_id: str) -> str:
    return f"/services/data/v{VERSION}/sobjects/{sobject}/{record_id}"
