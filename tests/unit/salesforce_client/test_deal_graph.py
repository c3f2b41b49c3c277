"""The deal graph (contracts §4, §4.1): two calls, typed models, stable JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from dealbridge.connectors.salesforce.deal_graph import (
    DEAL_FIELDS,
    DEAL_RELATIONSHIPS,
    fetch_deal_graph,
    lines_query,
    opportunity_query,
)
from dealbridge.connectors.salesforce.deal_models import DealGraph, Opportunity, QuoteLine
from dealbridge.errors import NotFoundError, UnexpectedResponseError, ValidationError
from tests.unit.salesforce_client.conftest import (
    ACC_ID,
    DATA,
    OPP_ID,
    QUOTE_ID,
    Harness,
    page,
)

pytestmark = pytest.mark.anyio


def attrs(sobject: str, record_id: str = "x") -> dict[str, str]:
    return {"type": sobject, "url": f"{DATA}/sobjects/{sobject}/{record_id}"}


def contact(record_id: str, email: str) -> dict[str, Any]:
    return {
        "attributes": attrs("Contact", record_id),
        "Id": record_id,
        "FirstName": "Barbara",
        "LastName": "Liskov",
        "Email": email,
        "Phone": None,
        "Title": "CFO",
    }


def opportunity_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attributes": attrs("Opportunity", OPP_ID),
        "Id": OPP_ID,
        "Name": "Acme - Platform",
        "StageName": "Closed Won",
        "IsWon": True,
        "CloseDate": "2025-07-11",
        "Amount": 45000.0,
        "CurrencyIsoCode": "USD",
        "SystemModstamp": "2025-07-11T09:30:00.000+0000",
        "AccountId": ACC_ID,
        "Type": "New Business",
        "SBQQ__PrimaryQuote__c": QUOTE_ID,
        "SBQQ__Contracted__c": False,
        "SBQQ__Renewal__c": None,
        "SBQQ__AmendedContract__c": None,
        "SBQQ__RenewedContract__c": None,
        "Account": {
            "attributes": attrs("Account", ACC_ID),
            "Id": ACC_ID,
            "Name": "Acme",
            "BillingCity": "Berlin",
            "BillingCountry": "Germany",
            "CurrencyIsoCode": "EUR",
            "NetSuite_Customer_Id__c": None,
        },
        "SBQQ__PrimaryQuote__r": {
            "attributes": attrs("SBQQ__Quote__c", QUOTE_ID),
            "Id": QUOTE_ID,
            "Name": "Q-00058",
            "SBQQ__Primary__c": True,
            "SBQQ__StartDate__c": "2025-08-01",
            "SBQQ__EndDate__c": "2026-07-31",
            "SBQQ__SubscriptionTerm__c": 12,
            "SBQQ__NetAmount__c": 45000.0,
            "SBQQ__PrimaryContact__c": "0035w00000ABCDEAAA",
            "SBQQ__PrimaryContact__r": contact("0035w00000ABCDEAAA", "b@acme.com"),
        },
        "OpportunityContactRoles": {
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "attributes": attrs("OpportunityContactRole"),
                    "Id": "00K5w00000ABCDEAAA",
                    "ContactId": "0035w00000ABCDEAAA",
                    "Role": "Decision Maker",
                    "IsPrimary": True,
                    "Contact": contact("0035w00000ABCDEAAA", "b@acme.com"),
                }
            ],
        },
    }
    row.update(overrides)
    return row


def line_row(record_id: str, number: float | None, **fields: Any) -> dict[str, Any]:
    return {
        "attributes": attrs("SBQQ__QuoteLine__c", record_id),
        "Id": record_id,
        "SBQQ__Quote__c": QUOTE_ID,
        "SBQQ__Number__c": number,
        **fields,
    }


LINES = [
    line_row(
        "a0v000000000002AAA",
        2,
        SBQQ__RequiredBy__c="a0v000000000001AAA",
        SBQQ__NetPrice__c=0.0,
        SBQQ__Bundled__c=True,
    ),
    line_row(
        "a0v000000000001AAA",
        1,
        SBQQ__Product__r={
            "attributes": attrs("Product2"),
            "Id": "01t5w000000ABCDAAA",
            "ProductCode": "PLAT",
            "SBQQ__ChargeType__c": "Recurring",
        },
        SBQQ__Quantity__c=10,
        SBQQ__NetPrice__c=300.1,
        SBQQ__NetTotal__c=3001.0,
        SBQQ__RequiredBy__c=None,
        SBQQ__Bundle__c=True,
        SBQQ__ChargeType__c="Recurring",
        SBQQ__BillingFrequency__c="Annual",
        SBQQ__SubscriptionTerm__c=12.0,
        SBQQ__EffectiveStartDate__c="2025-08-01",
    ),
]


def soql_of(request: httpx.Request) -> str:
    return parse_qs(request.url.query.decode())["q"][0]


def salesforce(opportunity: list[dict[str, Any]], lines: list[dict[str, Any]]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        if "FROM SBQQ__QuoteLine__c" in soql_of(request):
            return page(lines)
        return page(opportunity)

    return answer


async def test_the_graph_takes_two_calls_and_parses(harness: Harness) -> None:
    harness.fake.default = salesforce([opportunity_row()], LINES)
    async with harness.client as client:
        graph = await fetch_deal_graph(client, OPP_ID)
    assert len(harness.fake.requests) == 2

    opp = graph.opportunity
    assert opp.id == OPP_ID
    assert opp.is_won is True
    assert opp.close_date == date(2025, 7, 11)
    assert opp.amount == Decimal("45000.0")
    assert opp.system_modstamp == datetime(2025, 7, 11, 9, 30, tzinfo=UTC)
    assert opp.renewal is False  # a null checkbox reads as False
    assert graph.account.billing_city == "Berlin"
    assert graph.account.currency_iso_code == "EUR"
    [role] = graph.contact_roles
    assert role.is_primary
    assert role.contact is not None
    assert role.contact.email == "b@acme.com"
    assert graph.quote is not None
    assert graph.quote.subscription_term == Decimal(12)
    assert graph.quote.primary_contact is not None
    assert graph.quote.primary_contact.title == "CFO"

    assert [line.id for line in graph.lines] == ["a0v000000000001AAA", "a0v000000000002AAA"]
    top = graph.lines[0]
    assert top.net_price == Decimal("300.1")  # exact, not 300.10000000000002
    assert top.quantity == Decimal(10)
    assert top.product is not None
    assert top.product.product_code == "PLAT"
    assert top.effective_start_date == date(2025, 8, 1)
    assert [line.id for line in graph.children_of(top.id)] == ["a0v000000000002AAA"]
    assert [line.id for line in graph.children_of(None)] == [top.id]


async def test_the_queries_say_what_the_contract_says(harness: Harness) -> None:
    harness.fake.default = salesforce([opportunity_row()], LINES)
    async with harness.client as client:
        await fetch_deal_graph(client, OPP_ID)
    first, second = (soql_of(request) for request in harness.fake.requests)
    assert first.startswith("SELECT Id, Name, StageName, IsWon, CloseDate, Amount, CurrencyIsoCode")
    assert "Account.BillingCity" in first
    assert "SBQQ__PrimaryQuote__r.SBQQ__SubscriptionTerm__c" in first
    assert "SBQQ__PrimaryQuote__r.SBQQ__PrimaryContact__r.Email" in first
    assert "Contact.Email, Contact.Phone, Contact.Title FROM OpportunityContactRoles)" in first
    assert "SBQQ__LineItems__r" not in first  # the two-call variant
    assert first.endswith(f"FROM Opportunity WHERE Id = '{OPP_ID}'")
    assert second.endswith(
        f"FROM SBQQ__QuoteLine__c WHERE SBQQ__Quote__c = '{QUOTE_ID}' ORDER BY SBQQ__Number__c"
    )
    assert "SBQQ__Product__r.ProductCode" in second


async def test_a_deal_without_primary_quote_takes_one_call(harness: Harness) -> None:
    row = opportunity_row(SBQQ__PrimaryQuote__c=None, SBQQ__PrimaryQuote__r=None)
    harness.fake.default = salesforce([row], LINES)
    async with harness.client as client:
        graph = await fetch_deal_graph(client, OPP_ID)
    assert graph.quote is None
    assert graph.lines == []
    assert len(harness.fake.requests) == 1


async def test_no_contact_roles_is_null_and_reads_as_empty(harness: Harness) -> None:
    harness.fake.default = salesforce([opportunity_row(OpportunityContactRoles=None)], [])
    async with harness.client as client:
        graph = await fetch_deal_graph(client, OPP_ID)
    assert graph.contact_roles == []


async def test_more_than_2000_lines_page_at_top_level(harness: Harness) -> None:
    first_page = page(LINES[:1], next_url=f"{DATA}/query/01gLN-2000", total=2)
    harness.fake.queue(page([opportunity_row()]), first_page, page(LINES[1:], total=2))
    async with harness.client as client:
        graph = await fetch_deal_graph(client, OPP_ID)
    assert len(graph.lines) == 2
    assert len(harness.fake.requests) == 3


async def test_a_missing_opportunity_is_not_found(harness: Harness) -> None:
    harness.fake.default = page([])
    async with harness.client as client:
        with pytest.raises(NotFoundError, match=OPP_ID) as caught:
            await fetch_deal_graph(client, OPP_ID)
    assert caught.value.system == "salesforce"
    assert caught.value.context["opportunity_id"] == OPP_ID


async def test_a_malformed_id_never_reaches_salesforce(harness: Harness) -> None:
    async with harness.client as client:
        with pytest.raises(ValidationError):
            await fetch_deal_graph(client, "006' OR Id != '")
    assert harness.fake.requests == []


async def test_a_deal_without_account_is_a_validation_error(harness: Harness) -> None:
    harness.fake.default = salesforce([opportunity_row(Account=None, AccountId=None)], [])
    async with harness.client as client:
        with pytest.raises(ValidationError, match="no account") as caught:
            await fetch_deal_graph(client, OPP_ID)
    assert caught.value.field_path == "AccountId"


async def test_a_record_of_the_wrong_shape_is_unexpected(harness: Harness) -> None:
    harness.fake.default = salesforce([opportunity_row(CloseDate="not a date")], [])
    async with harness.client as client:
        with pytest.raises(UnexpectedResponseError, match="CloseDate"):
            await fetch_deal_graph(client, OPP_ID)


def test_single_currency_orgs_do_not_select_currency() -> None:
    assert "CurrencyIsoCode" in opportunity_query(OPP_ID)
    assert "CurrencyIsoCode" not in opportunity_query(OPP_ID, multi_currency=False)


def test_lines_query_quotes_the_id() -> None:
    assert lines_query("a0q' OR Id != '").count("\\'") == 2


async def test_json_round_trip_is_exact_and_stable(harness: Harness) -> None:
    harness.fake.default = salesforce([opportunity_row()], LINES)
    async with harness.client as client:
        graph = await fetch_deal_graph(client, OPP_ID)
    text = graph.to_json()
    again = DealGraph.from_json(text)
    assert again == graph
    assert again.to_json() == text
    assert '"SBQQ__NetPrice__c":"300.1"' in text  # API names as keys, exact decimals


def test_the_section_4_1_sample_shapes_parse() -> None:
    opportunity = Opportunity.model_validate(
        {
            "attributes": {"type": "Opportunity", "url": "/services/data/v65.0/sobjects/x"},
            "Id": "0065w000023STAmAAO",
            "StageName": "Closed Won",
            "IsWon": True,
            "CloseDate": "2025-07-11",
            "Amount": 45000.0,
            "CurrencyIsoCode": "USD",
        }
    )
    assert opportunity.name is None
    line = QuoteLine.model_validate(
        {
            "attributes": {"type": "SBQQ__QuoteLine__c", "url": "..."},
            "Id": "a0v...1",
            "SBQQ__Product__r": {"attributes": {}, "ProductCode": "PLAT"},
            "SBQQ__Quantity__c": 10.0,
            "SBQQ__NetPrice__c": 300.0,
            "SBQQ__NetTotal__c": 3000.0,
            "SBQQ__RequiredBy__c": None,
            "SBQQ__ChargeType__c": "Recurring",
            "SBQQ__BillingFrequency__c": "Annual",
        }
    )
    assert line.net_total == Decimal("3000.0")
    assert line.product is not None
    assert line.product.product_code == "PLAT"


def test_deal_fields_list_every_field_read() -> None:
    lines = set(DEAL_FIELDS["SBQQ__QuoteLine__c"])
    for name in [
        "SBQQ__Product__c",
        "SBQQ__ProductCode__c",
        "SBQQ__ProductName__c",
        "SBQQ__Number__c",
        "SBQQ__Quantity__c",
        "SBQQ__ListPrice__c",
        "SBQQ__CustomerPrice__c",
        "SBQQ__NetPrice__c",
        "SBQQ__NetTotal__c",
        "SBQQ__Discount__c",
        "SBQQ__AdditionalDiscountAmount__c",
        "SBQQ__RequiredBy__c",
        "SBQQ__Bundle__c",
        "SBQQ__Bundled__c",
        "SBQQ__ProductOption__c",
        "SBQQ__SubscriptionPricing__c",
        "SBQQ__SubscriptionTerm__c",
        "SBQQ__ProrateMultiplier__c",
        "SBQQ__SubscriptionType__c",
        "SBQQ__StartDate__c",
        "SBQQ__EndDate__c",
        "SBQQ__EffectiveStartDate__c",
        "SBQQ__EffectiveEndDate__c",
        "SBQQ__ChargeType__c",
        "SBQQ__BillingType__c",
        "SBQQ__BillingFrequency__c",
    ]:
        assert name in lines
    assert "SBQQ__Product__r" not in lines  # relationships are listed separately
    assert "NetSuite_Customer_Id__c" in DEAL_FIELDS["Account"]
    assert {"SBQQ__PrimaryQuote__c", "SystemModstamp", "IsWon"} <= set(DEAL_FIELDS["Opportunity"])
    assert {"ProductCode", "SBQQ__ChargeType__c"} <= set(DEAL_FIELDS["Product2"])
    assert "OpportunityContactRoles" in DEAL_RELATIONSHIPS["Opportunity"]
