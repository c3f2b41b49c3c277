"""Salesforce CPQ (managed package ``SBQQ``) objects of the emulated org (§4).

Quote, quote line and product option, with the fields the deal query of §4.1 and the mapping
read. Amounts that CPQ calculates (net totals, roll-ups) stay writable here so that the seed
generator can state them; the emulator does not run the CPQ price waterfall.
"""

from __future__ import annotations

from dealbridge.connectors.salesforce.emulator.schema_objects import (
    BILLING_FREQUENCIES,
    BILLING_TYPES,
    CHARGE_TYPES,
    SUBSCRIPTION_PRICING,
    SUBSCRIPTION_TYPES,
)
from dealbridge.connectors.salesforce.emulator.schema_types import (
    ChildRelationship,
    FieldDef,
    FieldType,
    SObjectDef,
    auto_name,
    boolean,
    currency_iso_code,
    date,
    lookup,
    make_object,
    number,
    picklist,
    text,
)

QUOTE_STATUSES = ("Draft", "In Review", "Approved", "Denied", "Presented", "Accepted", "Rejected")
QUOTE_TYPES = ("Quote", "Renewal", "Amendment", "Re-Quote")
OPTION_TYPES = ("Component", "Accessory", "Related Product")


def _money(name: str, label: str) -> FieldDef:
    return number(name, label, FieldType.CURRENCY, 18, 2)


def _subscription_fields() -> list[FieldDef]:
    """Subscription and billing settings a quote line copies from its product (§4)."""
    return [
        picklist("SBQQ__SubscriptionPricing__c", "Subscription Pricing", SUBSCRIPTION_PRICING),
        number("SBQQ__SubscriptionTerm__c", "Subscription Term", FieldType.INT, 5, 0),
        number("SBQQ__ProrateMultiplier__c", "Prorate Multiplier", FieldType.DOUBLE, 18, 4),
        picklist("SBQQ__SubscriptionType__c", "Subscription Type", SUBSCRIPTION_TYPES),
        date("SBQQ__StartDate__c", "Start Date"),
        date("SBQQ__EndDate__c", "End Date"),
        date("SBQQ__EffectiveStartDate__c", "Effective Start Date"),
        date("SBQQ__EffectiveEndDate__c", "Effective End Date"),
        picklist("SBQQ__ChargeType__c", "Charge Type", CHARGE_TYPES),
        picklist("SBQQ__BillingType__c", "Billing Type", BILLING_TYPES),
        picklist("SBQQ__BillingFrequency__c", "Billing Frequency", BILLING_FREQUENCIES),
    ]


QUOTE = make_object(
    "SBQQ__Quote__c",
    "Quote",
    "Quotes",
    "a0q",
    [
        auto_name("Q-{00000}", "Quote Number"),
        boolean("SBQQ__Primary__c", "Primary"),
        lookup("SBQQ__Account__c", "Account", "Account"),
        lookup("SBQQ__Opportunity2__c", "Opportunity", "Opportunity"),
        lookup("SBQQ__PrimaryContact__c", "Primary Contact", "Contact"),
        date("SBQQ__StartDate__c", "Start Date"),
        date("SBQQ__EndDate__c", "End Date"),
        number("SBQQ__SubscriptionTerm__c", "Subscription Term", FieldType.INT, 5, 0),
        # Inert by default: lines bill by their product's frequency (§4).
        picklist("SBQQ__BillingFrequency__c", "Billing Frequency", BILLING_FREQUENCIES),
        _money("SBQQ__NetAmount__c", "Net Amount"),
        _money("SBQQ__ListAmount__c", "List Amount"),
        _money("SBQQ__CustomerAmount__c", "Customer Amount"),
        picklist("SBQQ__Status__c", "Status", QUOTE_STATUSES, default="Draft"),
        picklist("SBQQ__Type__c", "Type", QUOTE_TYPES, default="Quote"),
        number("SBQQ__LineItemCount__c", "Line Items", FieldType.DOUBLE, 18, 0),
        text("SBQQ__BillingName__c", "Bill To Name"),
        text("SBQQ__BillingStreet__c", "Bill To Street"),
        text("SBQQ__BillingCity__c", "Bill To City", 40),
        text("SBQQ__BillingState__c", "Bill To State", 80),
        text("SBQQ__BillingPostalCode__c", "Bill To Postal Code", 20),
        text("SBQQ__BillingCountry__c", "Bill To Country", 80),
        currency_iso_code(),
    ],
)

QUOTE_LINE = make_object(
    "SBQQ__QuoteLine__c",
    "Quote Line",
    "Quote Lines",
    "a0v",
    [
        auto_name("QL-{0000000}", "Line Name"),
        # Master-detail to the quote: required and not reparentable.
        lookup("SBQQ__Quote__c", "Quote", "SBQQ__Quote__c", required=True, updateable=False),
        lookup("SBQQ__Product__c", "Product", "Product2", required=True),
        text("SBQQ__ProductCode__c", "Product Code"),
        text("SBQQ__ProductName__c", "Product Name"),
        number("SBQQ__Number__c", "#", FieldType.DOUBLE, 5, 0),
        number("SBQQ__Quantity__c", "Quantity", FieldType.DOUBLE, 14, 2),
        _money("SBQQ__ListPrice__c", "List Unit Price"),
        _money("SBQQ__CustomerPrice__c", "Customer Unit Price"),
        _money("SBQQ__NetPrice__c", "Net Unit Price"),
        _money("SBQQ__NetTotal__c", "Net Total"),
        number("SBQQ__Discount__c", "Additional Disc. (%)", FieldType.PERCENT, 18, 2),
        _money("SBQQ__AdditionalDiscountAmount__c", "Additional Disc. (Amt)"),
        # Bundles: RequiredBy is the parent line (null = top level), Bundle flags the parent,
        # Bundled flags an included component (§4).
        lookup("SBQQ__RequiredBy__c", "Required By", "SBQQ__QuoteLine__c"),
        boolean("SBQQ__Bundle__c", "Bundle"),
        boolean("SBQQ__Bundled__c", "Bundled"),
        lookup("SBQQ__ProductOption__c", "Product Option", "SBQQ__ProductOption__c"),
        *_subscription_fields(),
        currency_iso_code(),
    ],
)

PRODUCT_OPTION = make_object(
    "SBQQ__ProductOption__c",
    "Product Option",
    "Product Options",
    "a0p",
    [
        auto_name("PO-{000000}", "Option Name"),
        lookup("SBQQ__ConfiguredSKU__c", "Configured SKU", "Product2", required=True),
        lookup("SBQQ__OptionalSKU__c", "Optional SKU", "Product2"),
        number("SBQQ__Number__c", "Number", FieldType.DOUBLE, 5, 0, required=True),
        number("SBQQ__Quantity__c", "Quantity", FieldType.DOUBLE, 14, 2),
        boolean("SBQQ__Bundled__c", "Bundled"),
        boolean("SBQQ__Required__c", "Required"),
        boolean("SBQQ__Selected__c", "Selected"),
        # A lookup to SBQQ__ProductFeature__c, which the emulator does not model.
        lookup("SBQQ__Feature__c", "Feature", "SBQQ__ProductFeature__c"),
        picklist("SBQQ__Type__c", "Type", OPTION_TYPES),
        currency_iso_code(),
    ],
)

CPQ_OBJECTS: tuple[SObjectDef, ...] = (QUOTE, QUOTE_LINE, PRODUCT_OPTION)

# (parent, relationship); SBQQ__Quotes2__r and SBQQ__LineItems__r are §4's. SBQQ__Options__r
# (bundle product → its options) follows CPQ's naming but is UNCONFIRMED.
CPQ_CHILDREN: tuple[tuple[str, ChildRelationship], ...] = (
    (
        "Opportunity",
        ChildRelationship("SBQQ__Quotes2__r", "SBQQ__Quote__c", "SBQQ__Opportunity2__c"),
    ),
    (
        "SBQQ__Quote__c",
        ChildRelationship("SBQQ__LineItems__r", "SBQQ__QuoteLine__c", "SBQQ__Quote__c"),
    ),
    (
        "Product2",
        ChildRelationship("SBQQ__Options__r", "SBQQ__ProductOption__c", "SBQQ__ConfiguredSKU__c"),
    ),
)
