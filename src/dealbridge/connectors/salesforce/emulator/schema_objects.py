"""Standard sObjects of the emulated org, with the sync's custom write-back fields (§4).

Data, not logic: each object lists its fields in describe order (``Id`` and the audit fields
are added by ``make_object``). Picklist values are Salesforce's defaults for a new org.
"""

from __future__ import annotations

from dealbridge.connectors.salesforce.emulator.schema_types import (
    ChildRelationship,
    FieldDef,
    FieldType,
    SObjectDef,
    boolean,
    currency_iso_code,
    date,
    datetime_field,
    lookup,
    make_object,
    number,
    picklist,
    read_only_text,
    text,
    textarea,
    typed_text,
)

ACCOUNT_TYPES = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
    "Utilities", "Other",
)  # fmt: skip
# The default sales process; Closed Won / Closed Lost are the closed stages (§4: IsWon and
# IsClosed follow the stage's flags).
OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
CLOSED_STAGES = {"Closed Won": True, "Closed Lost": False}  # stage -> IsWon
OPPORTUNITY_TYPES = (
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
    "New Customer",
)
CONTACT_ROLES = (
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
)
SYNC_STATUSES = ("Pending", "Synced", "Failed")
CONTRACT_STATUSES = ("Draft", "In Approval Process", "Activated")
PRODUCT_FAMILIES = ("Software", "Services", "Hardware", "Support")
SUBSCRIPTION_TYPES = ("Renewable", "One-time", "Evergreen")
SUBSCRIPTION_PRICING = ("Fixed Price", "Percent Of Total")  # 2nd spelling UNCONFIRMED (§4)
CHARGE_TYPES = ("One-Time", "Recurring", "Usage")
BILLING_TYPES = ("Advance", "Arrears")
BILLING_FREQUENCIES = ("Monthly", "Quarterly", "Semiannual", "Annual", "Invoice Plan", "Usage")


def address(prefix: str) -> list[FieldDef]:
    """The components of a compound address (``BillingStreet`` … ``BillingCountry``)."""
    return [
        textarea(f"{prefix}Street", f"{prefix} Street"),
        text(f"{prefix}City", f"{prefix} City", 40),
        text(f"{prefix}State", f"{prefix} State/Province", 80),
        text(f"{prefix}PostalCode", f"{prefix} Zip/Postal Code", 20),
        text(f"{prefix}Country", f"{prefix} Country", 80),
    ]


def external_id(name: str, label: str) -> FieldDef:
    """A unique External ID text field: what the sync upserts by (§1.5)."""
    return text(name, label, 32, external_id=True, unique=True)


ACCOUNT = make_object(
    "Account",
    "Account",
    "Accounts",
    "001",
    [
        text("Name", "Account Name", required=True),
        lookup("ParentId", "Parent Account ID", "Account"),
        text("AccountNumber", "Account Number", 40),
        picklist("Type", "Account Type", ACCOUNT_TYPES),
        picklist("Industry", "Industry", INDUSTRIES),
        typed_text("Phone", "Account Phone", FieldType.PHONE, 40),
        typed_text("Website", "Website", FieldType.URL, 255),
        *address("Billing"),
        *address("Shipping"),
        textarea("Description", "Account Description", 32000),
        currency_iso_code(),
        external_id("NetSuite_Customer_Id__c", "NetSuite Customer Id"),
    ],
)

CONTACT = make_object(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    [
        lookup("AccountId", "Account ID", "Account"),
        text("LastName", "Last Name", 80, required=True),
        text("FirstName", "First Name", 40),
        # Compound of FirstName and LastName, computed by the org (see soql_values).
        read_only_text("Name", "Full Name", 121),
        text("Title", "Title", 128),
        typed_text("Email", "Email", FieldType.EMAIL, 80),
        typed_text("Phone", "Business Phone", FieldType.PHONE, 40),
        typed_text("MobilePhone", "Mobile Phone", FieldType.PHONE, 40),
        *address("Mailing"),
        currency_iso_code(),
        external_id("NetSuite_Contact_Id__c", "NetSuite Contact Id"),
    ],
)

OPPORTUNITY = make_object(
    "Opportunity",
    "Opportunity",
    "Opportunities",
    "006",
    [
        lookup("AccountId", "Account ID", "Account"),
        text("Name", "Name", 120, required=True),
        textarea("Description", "Description", 32000),
        picklist("StageName", "Stage", OPPORTUNITY_STAGES, required=True),
        number("Amount", "Amount", FieldType.CURRENCY, 16, 2),
        number("Probability", "Probability (%)", FieldType.PERCENT, 3, 0),
        date("CloseDate", "Close Date", required=True),
        picklist("Type", "Opportunity Type", OPPORTUNITY_TYPES),
        # Read-only, derived from the stage's flags (§4): the store sets them, clients cannot.
        boolean("IsClosed", "Closed", createable=False, updateable=False),
        boolean("IsWon", "Won", createable=False, updateable=False),
        lookup("Pricebook2Id", "Price Book ID", "Pricebook2"),
        currency_iso_code(),
        lookup("SBQQ__PrimaryQuote__c", "Primary Quote", "SBQQ__Quote__c"),
        boolean("SBQQ__Contracted__c", "Contracted"),
        boolean("SBQQ__Ordered__c", "Ordered"),
        boolean("SBQQ__Renewal__c", "Renewal"),
        lookup("SBQQ__AmendedContract__c", "Amended Contract", "Contract"),
        lookup("SBQQ__RenewedContract__c", "Renewed Contract", "Contract"),
        textarea("NetSuite_Subscription_Ids__c", "NetSuite Subscription Ids", 4000),
        picklist("NetSuite_Sync_Status__c", "NetSuite Sync Status", SYNC_STATUSES),
        textarea("NetSuite_Sync_Error__c", "NetSuite Sync Error", 32768),
        datetime_field("NetSuite_Synced_At__c", "NetSuite Synced At"),
    ],
)

OPPORTUNITY_CONTACT_ROLE = make_object(
    "OpportunityContactRole",
    "Opportunity Contact Role",
    "Opportunity Contact Role",
    "00K",
    [
        lookup("OpportunityId", "Opportunity ID", "Opportunity", required=True, updateable=False),
        lookup("ContactId", "Contact ID", "Contact", required=True),
        picklist("Role", "Role", CONTACT_ROLES),
        boolean("IsPrimary", "Primary"),
    ],
)

CONTRACT = make_object(
    "Contract",
    "Contract",
    "Contracts",
    "800",
    [
        lookup("AccountId", "Account ID", "Account", required=True),
        read_only_text("ContractNumber", "Contract Number", 30, auto_number="{00000000}"),
        date("StartDate", "Contract Start Date"),
        # Salesforce derives EndDate from StartDate + ContractTerm; writable here so a seed can
        # state it directly.
        date("EndDate", "Contract End Date"),
        number("ContractTerm", "Contract Term (months)", FieldType.INT, 9, 0),
        picklist("Status", "Status", CONTRACT_STATUSES, required=True, default="Draft"),
        currency_iso_code(),
    ],
)

PRICEBOOK2 = make_object(
    "Pricebook2",
    "Price Book",
    "Price Books",
    "01s",
    [
        text("Name", "Price Book Name", required=True),
        boolean("IsActive", "Active"),
        boolean("IsStandard", "Is Standard Price Book", createable=False, updateable=False),
        text("Description", "Description"),
    ],
)

PRODUCT2 = make_object(
    "Product2",
    "Product",
    "Products",
    "01t",
    [
        text("Name", "Product Name", required=True),
        text("ProductCode", "Product Code"),
        textarea("Description", "Product Description", 4000),
        picklist("Family", "Product Family", PRODUCT_FAMILIES),
        boolean("IsActive", "Active"),
        currency_iso_code(),
        picklist("SBQQ__SubscriptionType__c", "Subscription Type", SUBSCRIPTION_TYPES),
        picklist("SBQQ__SubscriptionPricing__c", "Subscription Pricing", SUBSCRIPTION_PRICING),
        # Months; an integer so that it reads ``12`` as in §4.1 (a Number(5,0) in CPQ).
        number("SBQQ__SubscriptionTerm__c", "Subscription Term", FieldType.INT, 5, 0),
        picklist(
            "SBQQ__SubscriptionBase__c", "Subscription Base", ("List", "Regular", "Customer", "Net")
        ),
        picklist("SBQQ__ChargeType__c", "Charge Type", CHARGE_TYPES),
        picklist("SBQQ__BillingType__c", "Billing Type", BILLING_TYPES),
        picklist("SBQQ__BillingFrequency__c", "Billing Frequency", BILLING_FREQUENCIES),
        boolean("SBQQ__Component__c", "Component"),
        picklist(
            "SBQQ__ConfigurationType__c", "Configuration Type", ("Allowed", "Required", "Disabled")
        ),
    ],
)

STANDARD_OBJECTS: tuple[SObjectDef, ...] = (
    ACCOUNT,
    CONTACT,
    OPPORTUNITY,
    OPPORTUNITY_CONTACT_ROLE,
    CONTRACT,
    PRICEBOOK2,
    PRODUCT2,
)

# (parent, relationship) for the standard objects; the names are Salesforce's (§4).
STANDARD_CHILDREN: tuple[tuple[str, ChildRelationship], ...] = (
    ("Account", ChildRelationship("ChildAccounts", "Account", "ParentId")),
    ("Account", ChildRelationship("Contacts", "Contact", "AccountId")),
    ("Account", ChildRelationship("Opportunities", "Opportunity", "AccountId")),
    ("Account", ChildRelationship("Contracts", "Contract", "AccountId")),
    (
        "Contact",
        ChildRelationship("OpportunityContactRoles", "OpportunityContactRole", "ContactId"),
    ),
    (
        "Opportunity",
        ChildRelationship("OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"),
    ),
    ("Pricebook2", ChildRelationship("Opportunities", "Opportunity", "Pricebook2Id")),
)
