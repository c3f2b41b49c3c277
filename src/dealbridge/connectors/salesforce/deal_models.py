"""Typed records of a won CPQ deal, as read from Salesforce (contracts/salesforce.md §4, §4.1).

Python names are snake_case; each field's alias is its Salesforce API name, so the models parse
query records directly and ``api_fields()`` derives the SELECT lists from them (one source of truth
for the queries, ``DEAL_FIELDS`` and the models).

Parsing is tolerant where Salesforce is loose: numbers arrive as ``10`` or ``10.0`` (kept as exact
``Decimal``, converted from the JSON text's shortest form), empty fields are ``null``, checkboxes
read as False when absent, and unknown keys (``attributes``, fields added later) are ignored.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _false_if_null(value: Any) -> Any:
    return False if value is None else value


Flag = Annotated[bool, BeforeValidator(_false_if_null)]
Number = Decimal | None


class SalesforceRecord(BaseModel):
    """Base: fields by API name or Python name, extra keys ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Contact(SalesforceRecord):
    """A Contact (§4), reached through a contact role or the quote's primary contact."""

    id: str | None = Field(None, alias="Id")
    first_name: str | None = Field(None, alias="FirstName")
    last_name: str | None = Field(None, alias="LastName")
    email: str | None = Field(None, alias="Email")
    phone: str | None = Field(None, alias="Phone")
    title: str | None = Field(None, alias="Title")


class ContactRole(SalesforceRecord):
    """An OpportunityContactRole (§4): one contact's role on the deal; one may be primary."""

    id: str | None = Field(None, alias="Id")
    contact_id: str | None = Field(None, alias="ContactId")
    role: str | None = Field(None, alias="Role")
    is_primary: Flag = Field(False, alias="IsPrimary")
    contact: Contact | None = Field(None, alias="Contact")


class Account(SalesforceRecord):
    """The customer (§4); ``NetSuite_Customer_Id__c`` is written back after the first sync."""

    id: str = Field(alias="Id")
    name: str | None = Field(None, alias="Name")
    billing_street: str | None = Field(None, alias="BillingStreet")
    billing_city: str | None = Field(None, alias="BillingCity")
    billing_state: str | None = Field(None, alias="BillingState")
    billing_postal_code: str | None = Field(None, alias="BillingPostalCode")
    billing_country: str | None = Field(None, alias="BillingCountry")
    shipping_street: str | None = Field(None, alias="ShippingStreet")
    shipping_city: str | None = Field(None, alias="ShippingCity")
    shipping_state: str | None = Field(None, alias="ShippingState")
    shipping_postal_code: str | None = Field(None, alias="ShippingPostalCode")
    shipping_country: str | None = Field(None, alias="ShippingCountry")
    phone: str | None = Field(None, alias="Phone")
    website: str | None = Field(None, alias="Website")
    currency_iso_code: str | None = Field(None, alias="CurrencyIsoCode")
    netsuite_customer_id: str | None = Field(None, alias="NetSuite_Customer_Id__c")


class Opportunity(SalesforceRecord):
    """The won deal (§4): stage flags, amounts and the CPQ links to quote and contracts."""

    id: str = Field(alias="Id")
    name: str | None = Field(None, alias="Name")
    stage_name: str | None = Field(None, alias="StageName")
    is_won: Flag = Field(False, alias="IsWon")
    close_date: date | None = Field(None, alias="CloseDate")
    amount: Number = Field(None, alias="Amount")
    currency_iso_code: str | None = Field(None, alias="CurrencyIsoCode")  # multi-currency orgs
    system_modstamp: datetime | None = Field(None, alias="SystemModstamp")
    account_id: str | None = Field(None, alias="AccountId")
    type: str | None = Field(None, alias="Type")
    primary_quote_id: str | None = Field(None, alias="SBQQ__PrimaryQuote__c")
    contracted: Flag = Field(False, alias="SBQQ__Contracted__c")
    renewal: Flag = Field(False, alias="SBQQ__Renewal__c")
    amended_contract_id: str | None = Field(None, alias="SBQQ__AmendedContract__c")
    renewed_contract_id: str | None = Field(None, alias="SBQQ__RenewedContract__c")


class Quote(SalesforceRecord):
    """The opportunity's primary CPQ quote (§4): term, dates and the net amount."""

    id: str = Field(alias="Id")
    name: str | None = Field(None, alias="Name")
    primary: Flag = Field(False, alias="SBQQ__Primary__c")
    start_date: date | None = Field(None, alias="SBQQ__StartDate__c")
    end_date: date | None = Field(None, alias="SBQQ__EndDate__c")
    subscription_term: Number = Field(None, alias="SBQQ__SubscriptionTerm__c")  # months
    billing_frequency: str | None = Field(None, alias="SBQQ__BillingFrequency__c")
    net_amount: Number = Field(None, alias="SBQQ__NetAmount__c")
    currency_iso_code: str | None = Field(None, alias="CurrencyIsoCode")
    primary_contact_id: str | None = Field(None, alias="SBQQ__PrimaryContact__c")
    primary_contact: Contact | None = Field(None, alias="SBQQ__PrimaryContact__r")


class Product(SalesforceRecord):
    """A quote line's Product2 (§4): the code that maps to a NetSuite item, charge settings."""

    id: str | None = Field(None, alias="Id")
    name: str | None = Field(None, alias="Name")
    product_code: str | None = Field(None, alias="ProductCode")
    family: str | None = Field(None, alias="Family")
    charge_type: str | None = Field(None, alias="SBQQ__ChargeType__c")
    billing_frequency: str | None = Field(None, alias="SBQQ__BillingFrequency__c")
    subscription_type: str | None = Field(None, alias="SBQQ__SubscriptionType__c")


class QuoteLine(SalesforceRecord):
    """A primary-quote line (§4): product, pricing, term, bundle structure, charge and billing.

    Bundles: ``required_by_id`` points at the parent *line* (None = top level); ``bundled`` marks
    an included component (price 0).
    """

    id: str = Field(alias="Id")
    quote_id: str | None = Field(None, alias="SBQQ__Quote__c")
    product_id: str | None = Field(None, alias="SBQQ__Product__c")
    product: Product | None = Field(None, alias="SBQQ__Product__r")
    product_code: str | None = Field(None, alias="SBQQ__ProductCode__c")
    product_name: str | None = Field(None, alias="SBQQ__ProductName__c")
    number: Number = Field(None, alias="SBQQ__Number__c")
    quantity: Number = Field(None, alias="SBQQ__Quantity__c")
    list_price: Number = Field(None, alias="SBQQ__ListPrice__c")
    customer_price: Number = Field(None, alias="SBQQ__CustomerPrice__c")
    net_price: Number = Field(None, alias="SBQQ__NetPrice__c")
    net_total: Number = Field(None, alias="SBQQ__NetTotal__c")
    discount: Number = Field(None, alias="SBQQ__Discount__c")  # percent
    additional_discount_amount: Number = Field(None, alias="SBQQ__AdditionalDiscountAmount__c")
    required_by_id: str | None = Field(None, alias="SBQQ__RequiredBy__c")
    bundle: Flag = Field(False, alias="SBQQ__Bundle__c")
    bundled: Flag = Field(False, alias="SBQQ__Bundled__c")
    product_option_id: str | None = Field(None, alias="SBQQ__ProductOption__c")
    subscription_pricing: str | None = Field(None, alias="SBQQ__SubscriptionPricing__c")
    subscription_term: Number = Field(None, alias="SBQQ__SubscriptionTerm__c")
    prorate_multiplier: Number = Field(None, alias="SBQQ__ProrateMultiplier__c")
    subscription_type: str | None = Field(None, alias="SBQQ__SubscriptionType__c")
    start_date: date | None = Field(None, alias="SBQQ__StartDate__c")
    end_date: date | None = Field(None, alias="SBQQ__EndDate__c")
    effective_start_date: date | None = Field(None, alias="SBQQ__EffectiveStartDate__c")
    effective_end_date: date | None = Field(None, alias="SBQQ__EffectiveEndDate__c")
    charge_type: str | None = Field(None, alias="SBQQ__ChargeType__c")
    billing_type: str | None = Field(None, alias="SBQQ__BillingType__c")
    billing_frequency: str | None = Field(None, alias="SBQQ__BillingFrequency__c")


class DealGraph(SalesforceRecord):
    """Everything the sync needs about one won deal, from at most two API calls."""

    opportunity: Opportunity
    account: Account
    contact_roles: list[ContactRole] = Field(default_factory=list)
    quote: Quote | None = None
    lines: list[QuoteLine] = Field(default_factory=list)

    def to_json(self) -> str:
        """Stable JSON (API names as keys, fixed key order) to store with a run."""
        return self.model_dump_json(by_alias=True)

    def stored_data(self) -> dict[str, Any]:
        """``json.loads(self.to_json())``, without writing and reading the text in between."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data

    @classmethod
    def from_json(cls, text: str | bytes) -> DealGraph:
        """The graph ``to_json`` wrote."""
        return cls.model_validate_json(text)

    def children_of(self, line_id: str | None) -> list[QuoteLine]:
        """The lines whose ``SBQQ__RequiredBy__c`` is ``line_id`` (None: the top-level lines)."""
        return [line for line in self.lines if line.required_by_id == line_id]


@functools.cache
def api_fields(model: type[SalesforceRecord], *, multi_currency: bool = True) -> tuple[str, ...]:
    """The API names of a model's own fields, in order (relationship objects left out).

    Cached: a model's fields are fixed once its class exists, and every deal's two queries name
    them all (issue 8).
    """
    names = []
    for info in model.model_fields.values():
        if _is_relationship(info.annotation) or info.alias is None:
            continue
        if info.alias == "CurrencyIsoCode" and not multi_currency:
            continue
        names.append(info.alias)
    return tuple(names)


def _is_relationship(annotation: Any) -> bool:
    candidates = [annotation, *get_args(annotation)]
    return any(isinstance(item, type) and issubclass(item, BaseModel) for item in candidates)
