"""The emulated org's schema: objects and fields of contracts §4, lookups, and describe."""

from __future__ import annotations

import pytest

from dealbridge.connectors.salesforce.emulator.schema import (
    FieldType,
    all_sobjects,
    describe,
    sobject,
)

KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Product2": "01t",
    "Contract": "800",
    "SBQQ__Quote__c": "a0q",
    "SBQQ__QuoteLine__c": "a0v",
    "SBQQ__ProductOption__c": "a0p",
}
SYSTEM_FIELDS = ("IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")

# The fields contracts §4 and the sync name, per object.
REQUIRED_FIELDS_BY_OBJECT = {
    "Account": "Name AccountNumber Type Industry Phone Website BillingStreet BillingCity "
    "BillingState BillingPostalCode BillingCountry ShippingStreet ShippingCity ShippingState "
    "ShippingPostalCode ShippingCountry CurrencyIsoCode NetSuite_Customer_Id__c",
    "Contact": "FirstName LastName Name Email Phone Title AccountId MailingStreet MailingCity "
    "MailingState MailingPostalCode MailingCountry CurrencyIsoCode",
    "Opportunity": "Name AccountId StageName IsWon IsClosed CloseDate Amount Probability Type "
    "CurrencyIsoCode Pricebook2Id SBQQ__PrimaryQuote__c SBQQ__Contracted__c SBQQ__Ordered__c "
    "SBQQ__Renewal__c SBQQ__AmendedContract__c SBQQ__RenewedContract__c "
    "NetSuite_Subscription_Ids__c NetSuite_Sync_Status__c NetSuite_Sync_Error__c "
    "NetSuite_Synced_At__c",
    "OpportunityContactRole": "OpportunityId ContactId Role IsPrimary",
    "Product2": "Name ProductCode Family IsActive Description SBQQ__SubscriptionType__c "
    "SBQQ__SubscriptionPricing__c SBQQ__SubscriptionTerm__c SBQQ__SubscriptionBase__c "
    "SBQQ__ChargeType__c SBQQ__BillingType__c SBQQ__BillingFrequency__c SBQQ__Component__c "
    "SBQQ__ConfigurationType__c",
    "SBQQ__Quote__c": "Name SBQQ__Primary__c SBQQ__Account__c SBQQ__Opportunity2__c "
    "SBQQ__PrimaryContact__c SBQQ__StartDate__c SBQQ__EndDate__c SBQQ__SubscriptionTerm__c "
    "SBQQ__BillingFrequency__c SBQQ__NetAmount__c SBQQ__ListAmount__c SBQQ__CustomerAmount__c "
    "SBQQ__Status__c SBQQ__Type__c SBQQ__LineItemCount__c CurrencyIsoCode",
    "SBQQ__QuoteLine__c": "SBQQ__Quote__c SBQQ__Product__c SBQQ__ProductCode__c "
    "SBQQ__ProductName__c SBQQ__Number__c SBQQ__Quantity__c SBQQ__ListPrice__c "
    "SBQQ__CustomerPrice__c SBQQ__NetPrice__c SBQQ__NetTotal__c SBQQ__Discount__c "
    "SBQQ__AdditionalDiscountAmount__c SBQQ__RequiredBy__c SBQQ__Bundle__c SBQQ__Bundled__c "
    "SBQQ__ProductOption__c SBQQ__SubscriptionPricing__c SBQQ__SubscriptionTerm__c "
    "SBQQ__ProrateMultiplier__c SBQQ__SubscriptionType__c SBQQ__StartDate__c SBQQ__EndDate__c "
    "SBQQ__EffectiveStartDate__c SBQQ__EffectiveEndDate__c SBQQ__ChargeType__c "
    "SBQQ__BillingType__c SBQQ__BillingFrequency__c CurrencyIsoCode",
    "SBQQ__ProductOption__c": "SBQQ__ConfiguredSKU__c SBQQ__OptionalSKU__c SBQQ__Number__c "
    "SBQQ__Quantity__c SBQQ__Bundled__c SBQQ__Required__c SBQQ__Selected__c SBQQ__Feature__c "
    "SBQQ__Type__c",
    "Contract": "AccountId StartDate EndDate ContractTerm Status",
}


@pytest.mark.parametrize(("name", "prefix"), KEY_PREFIXES.items())
def test_objects_exist_with_their_key_prefixes(name: str, prefix: str) -> None:
    defn = sobject(name)
    assert defn is not None
    assert (defn.name, defn.key_prefix, defn.custom) == (name, prefix, name.endswith("__c"))


@pytest.mark.parametrize(("name", "fields"), REQUIRED_FIELDS_BY_OBJECT.items())
def test_objects_have_the_contract_fields(name: str, fields: str) -> None:
    defn = sobject(name)
    assert defn is not None
    missing = [f for f in fields.split() if defn.field(f) is None]
    assert missing == []


@pytest.mark.parametrize("defn", all_sobjects(), ids=lambda d: d.name)
def test_every_object_has_id_first_and_read_only_system_fields(defn: object) -> None:
    from dealbridge.connectors.salesforce.emulator.schema import SObjectDef

    assert isinstance(defn, SObjectDef)
    assert next(iter(defn.fields)) == "Id"
    for name in ("Id", *SYSTEM_FIELDS):
        fdef = defn.field(name)
        assert fdef is not None
        assert (fdef.createable, fdef.updateable, fdef.nillable) == (False, False, False)


def test_lookups_are_case_insensitive_and_canonical() -> None:
    quote = sobject("sbqq__QUOTE__c")
    opportunity = sobject("OPPORTUNITY")
    assert quote is not None
    assert opportunity is not None
    assert quote.name == "SBQQ__Quote__c"
    field = opportunity.field("sbqq__primaryquote__C")
    assert field is not None
    assert field.name == "SBQQ__PrimaryQuote__c"
    child = opportunity.child("opportunitycontactroles")
    assert child is not None
    assert child.name == "OpportunityContactRoles"
    assert sobject("Lead") is None
    assert opportunity.field("Bogus") is None
    assert opportunity.child("Contacts") is None


@pytest.mark.parametrize(
    ("owner", "relationship", "field", "target"),
    [
        ("Contact", "account", "AccountId", "Account"),
        ("Opportunity", "Account", "AccountId", "Account"),
        ("Opportunity", "SBQQ__PrimaryQuote__r", "SBQQ__PrimaryQuote__c", "SBQQ__Quote__c"),
        ("Opportunity", "SBQQ__AmendedContract__r", "SBQQ__AmendedContract__c", "Contract"),
        ("OpportunityContactRole", "Contact", "ContactId", "Contact"),
        ("SBQQ__Quote__c", "SBQQ__Account__r", "SBQQ__Account__c", "Account"),
        ("SBQQ__Quote__c", "SBQQ__Opportunity2__r", "SBQQ__Opportunity2__c", "Opportunity"),
        ("SBQQ__Quote__c", "SBQQ__PrimaryContact__r", "SBQQ__PrimaryContact__c", "Contact"),
        ("SBQQ__QuoteLine__c", "SBQQ__Quote__r", "SBQQ__Quote__c", "SBQQ__Quote__c"),
        ("SBQQ__QuoteLine__c", "SBQQ__Product__r", "SBQQ__Product__c", "Product2"),
        ("SBQQ__QuoteLine__c", "SBQQ__RequiredBy__r", "SBQQ__RequiredBy__c", "SBQQ__QuoteLine__c"),
        ("SBQQ__ProductOption__c", "SBQQ__OptionalSKU__r", "SBQQ__OptionalSKU__c", "Product2"),
        ("Contract", "Account", "AccountId", "Account"),
    ],
)
def test_parent_relationships(owner: str, relationship: str, field: str, target: str) -> None:
    defn = sobject(owner)
    assert defn is not None
    lookup = defn.parent_relationship(relationship)
    assert lookup is not None
    assert (lookup.name, lookup.type, lookup.reference_to) == (
        field,
        FieldType.REFERENCE,
        (target,),
    )


@pytest.mark.parametrize(
    ("parent", "name", "child", "field"),
    [
        ("Opportunity", "OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"),
        ("Opportunity", "SBQQ__Quotes2__r", "SBQQ__Quote__c", "SBQQ__Opportunity2__c"),
        ("SBQQ__Quote__c", "SBQQ__LineItems__r", "SBQQ__QuoteLine__c", "SBQQ__Quote__c"),
        ("Account", "Contacts", "Contact", "AccountId"),
        ("Account", "Opportunities", "Opportunity", "AccountId"),
    ],
)
def test_child_relationships(parent: str, name: str, child: str, field: str) -> None:
    defn = sobject(parent)
    assert defn is not None
    relationship = defn.child(name)
    assert relationship is not None
    assert (relationship.child_sobject, relationship.field) == (child, field)


def test_every_child_relationship_is_a_lookup_to_its_parent() -> None:
    for parent in all_sobjects():
        for relationship in parent.child_relationships:
            child = sobject(relationship.child_sobject)
            assert child is not None
            lookup = child.field(relationship.field)
            assert lookup is not None
            assert lookup.reference_to == (parent.name,)


def test_every_lookup_targets_a_known_object_except_the_unmodelled_feature() -> None:
    targets = {
        target
        for defn in all_sobjects()
        for fdef in defn.fields.values()
        for target in fdef.reference_to
    }
    assert {t for t in targets if sobject(t) is None} == {"SBQQ__ProductFeature__c"}


def test_field_rules_the_sync_relies_on() -> None:
    opportunity, account, quote = (
        sobject("Opportunity"),
        sobject("Account"),
        sobject("SBQQ__Quote__c"),
    )
    assert opportunity is not None
    assert account is not None
    assert quote is not None
    for derived in ("IsWon", "IsClosed"):
        fdef = opportunity.field(derived)
        assert fdef is not None
        assert (fdef.createable, fdef.updateable) == (False, False)
    required = {f.name for f in opportunity.fields.values() if f.required}
    assert required == {"Name", "StageName", "CloseDate"}
    ns_id = account.field("NetSuite_Customer_Id__c")
    assert ns_id is not None
    assert (ns_id.length, ns_id.external_id, ns_id.unique, ns_id.custom) == (32, True, True, True)
    status = opportunity.field("NetSuite_Sync_Status__c")
    assert status is not None
    assert status.picklist == ("Pending", "Synced", "Failed")
    error = opportunity.field("NetSuite_Sync_Error__c")
    assert error is not None
    assert (error.length, error.filterable) == (32768, False)
    name = quote.field("Name")
    assert name is not None
    assert (name.auto_number, name.createable) == ("Q-{00000}", False)
    stage = opportunity.field("StageName")
    assert stage is not None
    assert {"Closed Won", "Closed Lost"} <= set(stage.picklist)


def test_describe_has_the_rest_shape() -> None:
    defn = sobject("Opportunity")
    assert defn is not None
    body = describe(defn, "65.0")
    assert (body["name"], body["label"], body["labelPlural"], body["keyPrefix"]) == (
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
    )
    assert (body["custom"], body["createable"], body["queryable"]) == (False, True, True)
    assert [f["name"] for f in body["fields"]] == list(defn.fields)
    assert body["urls"]["sobject"] == "/services/data/v65.0/sobjects/Opportunity"
    assert body["urls"]["describe"] == "/services/data/v65.0/sobjects/Opportunity/describe"
    assert {
        "relationshipName": "SBQQ__Quotes2__r",
        "childSObject": "SBQQ__Quote__c",
        "field": "SBQQ__Opportunity2__c",
    }.items() <= next(
        c for c in body["childRelationships"] if c["relationshipName"] == "SBQQ__Quotes2__r"
    ).items()


def test_describe_fields_carry_types_references_and_picklists() -> None:
    defn = sobject("Opportunity")
    assert defn is not None
    fields = {f["name"]: f for f in describe(defn, "65.0")["fields"]}
    quote = fields["SBQQ__PrimaryQuote__c"]
    assert (quote["type"], quote["referenceTo"], quote["relationshipName"]) == (
        "reference",
        ["SBQQ__Quote__c"],
        "SBQQ__PrimaryQuote__r",
    )
    assert (quote["custom"], quote["soapType"], quote["length"]) == (True, "tns:ID", 18)
    stage = fields["StageName"]
    assert stage["type"] == "picklist"
    assert not stage["nillable"]
    assert {"value": "Closed Won", "label": "Closed Won", "active": True}.items() <= next(
        p for p in stage["picklistValues"] if p["value"] == "Closed Won"
    ).items()
    assert (fields["Amount"]["type"], fields["Amount"]["precision"], fields["Amount"]["scale"]) == (
        "currency",
        16,
        2,
    )
    assert (fields["IsWon"]["type"], fields["IsWon"]["createable"]) == ("boolean", False)
    assert fields["CloseDate"]["soapType"] == "xsd:date"
    assert fields["NetSuite_Synced_At__c"]["type"] == "datetime"
    assert fields["Name"]["nameField"] is True
    assert fields["NetSuite_Sync_Error__c"]["filterable"] is False
