"""The emulated record types: fields, sublists, refs, groups and SuiteQL names, as data.

A table of definitions, not code per type (vocabulary in ``schema_types``). Field names follow
the REST metadata catalog's camelCase (``shared/contracts/netsuite.md`` §1, §2.2); the types
are those of contracts §3, with a few plausible extra fields each.
"""

from __future__ import annotations

from dataclasses import replace

from dealbridge.connectors.netsuite.emulator.schema_types import (
    FieldDef,
    Kind,
    RecordDef,
    SublistDef,
    enum,
    flag,
    is_custom_record_type,
    ref,
    select,
    text,
)
from dealbridge.connectors.netsuite.emulator.schema_types import field as _f

FREQUENCIES = (
    "ONETIME", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUALLY",
    "ANNUALLY", "USAGE",
)  # fmt: skip
LINE_TYPES = ("1", "2", "3")  # one-time, recurring, usage (§2.1)
BILLING_MODES = ("IN_ADVANCE", "IN_ARREARS")
RENEWAL_OPTIONS = ("ALWAYS", "DIFFERENT_PLAN", "NEVER", "OPTIONAL")
OFFSET_UNITS = ("DAY", "WEEK", "MONTH", "YEAR")
PRORATE_BY = ("", "DAY", "MONTH", "YEAR")
REPEAT_EVERY = tuple(str(n) for n in range(13))
LINE_STATUSES = (
    "NOT_INCLUDED", "DRAFT", "PENDING_ACTIVATION", "ACTIVE", "SUSPENDED", "TERMINATED", "CLOSED",
)  # fmt: skip

_ADDRESS = _f(
    "addressBookAddress",
    Kind.SUBRECORD,
    subfields=(
        text("addressee", 150), text("attention", 150), text("addr1", 150), text("addr2", 150),
        text("addr3", 150), text("city", 50), text("state", 30), text("zip", 36),
        select("country"), text("addrPhone", 32),
    ),
)  # fmt: skip

_PRICE_INTERVAL = (
    _f("subscriptionPlanLineNumber", Kind.INT, required=True),
    ref("pricePlan", "pricePlan", required=True),
    enum("frequency", *FREQUENCIES, required=True),
    enum("repeatEvery", *REPEAT_EVERY, default="1"),
    enum("startOffsetUnit", *OFFSET_UNITS, default="MONTH"),
    _f("startOffsetValue", Kind.INT, default=1),
    enum("prorateBy", *PRORATE_BY),
)
INTERVAL_KEYS = ("subscriptionPlanLineNumber", "startOffsetValue")  # §10.3, our assumption
_LINE_OPTIONS = (
    enum("billingMode", *BILLING_MODES, default="IN_ADVANCE"),
    enum("renewalOption", *RENEWAL_OPTIONS, default="ALWAYS"),
    flag("prorateStartDate"),
    flag("prorateEndDate"),
)

# The table itself is laid out by hand, one record per block: the formatter would put every
# field on its own line and bury the shape of each record.
# fmt: off
# In dependency order: seeds load in this order, so a record's refs already exist.
_DEFINITIONS: tuple[RecordDef, ...] = (
    RecordDef(
        "currency",
        (text("name", 50, required=True), text("symbol", 5, required=True),
         text("displaySymbol", 5), flag("isBaseCurrency"), _f("exchangeRate", Kind.FLOAT),
         flag("isInactive")),
        read_only=True, name_fields=("name",),
    ),
    RecordDef(
        "subsidiary",
        (text("name", 83, required=True), select("country"), ref("currency", "currency"),
         ref("parent", "subsidiary"), flag("isInactive")),
        read_only=True, name_fields=("name",),
    ),
    RecordDef(
        "billingSchedule",
        (text("name", 100, required=True), enum("frequency", *FREQUENCIES), flag("isInactive")),
        read_only=True, name_fields=("name",),
    ),
    RecordDef(
        "subscriptionTerm",
        (text("name", 100, required=True), _f("subscriptionTermDuration", Kind.INT),
         select("subscriptionTermUnit", "DAYS", "WEEKS", "MONTHS", "YEARS"),
         enum("subscriptionTermType", "STANDARD", "EVERGREEN", default="STANDARD"),
         flag("isInactive")),
        name_fields=("name",),
    ),
    RecordDef(
        "item",
        (text("itemId", 60, required=True, label="Item Name/Number"), text("displayName", 60),
         text("description", 999), text("itemType", 30), flag("isInactive"),
         _f("basePrice", Kind.FLOAT)),
        read_only=True, name_fields=("itemId",),
    ),
    RecordDef(
        "customer",
        (text("entityId", 83), text("companyName", 83, required_unless="isPerson"),
         flag("isPerson"), text("firstName", 32, required_if="isPerson"),
         text("lastName", 32, required_if="isPerson"),
         ref("subsidiary", "subsidiary", required=True), text("email", 254), text("phone", 32),
         text("altPhone", 32), text("fax", 32), text("url", 200), ref("currency", "currency"),
         ref("parent", "customer"), text("accountNumber", 99), text("comments", 999),
         flag("isInactive"), _f("dateCreated", Kind.DATETIME, read_only=True)),
        (SublistDef("addressBook",
                    (flag("defaultBilling"), flag("defaultShipping"), flag("isResidential"),
                     text("label", 99), _ADDRESS)),),
        name_fields=("entityId", "companyName"),
        display_from=(("companyName",), ("firstName", "lastName")),
        dependents=(("subscription", "customer"), ("billingAccount", "customer"),
                    ("salesOrder", "entity")),
    ),
    RecordDef(
        "contact",
        (text("entityId", 83, required=True, label="Contact"), text("salutation", 15),
         text("firstName", 32), text("middleName", 32), text("lastName", 32), text("title", 99),
         text("email", 254), text("phone", 32), text("mobilePhone", 32),
         ref("company", "customer"), ref("subsidiary", "subsidiary"), text("comments", 999),
         flag("isInactive"), _f("dateCreated", Kind.DATETIME, read_only=True)),
        name_fields=("entityId",),
        display_from=(("firstName", "middleName", "lastName"),),
    ),
    RecordDef(
        "billingAccount",
        (text("name", 100, required=True), ref("customer", "customer", required=True),
         ref("billingSchedule", "billingSchedule", required=True),
         ref("currency", "currency", required=True),
         _f("startDate", Kind.DATE, required=True), ref("subsidiary", "subsidiary"),
         text("idNumber", 40), text("memo", 999), flag("customerDefault"), flag("isInactive"),
         _f("createdDate", Kind.DATETIME, read_only=True)),
        name_fields=("name",), dependents=(("subscription", "billingAccount"),),
    ),
    RecordDef(
        "subscriptionPlan",
        (text("itemId", 60, required=True, label="Name"), text("displayName", 60),
         text("description", 999), ref("initialTerm", "subscriptionTerm"),
         ref("defaultRenewalTerm", "subscriptionTerm"), flag("autoRenewal"), flag("isInactive"),
         _f("createdDate", Kind.DATETIME, read_only=True)),
        (SublistDef("member",
                    (_f("lineNumber", Kind.INT), ref("item", "item", required=True),
                     flag("isRequired"), enum("subscriptionLineType", *LINE_TYPES, required=True),
                     *_LINE_OPTIONS),
                    keys=("lineNumber",)),),
        name_fields=("itemId",),
        dependents=(("priceBook", "subscriptionPlan"), ("subscription", "subscriptionPlan")),
    ),
    RecordDef(
        "pricePlan",
        (ref("currency", "currency", required=True), enum("pricePlanType", "1", "2", "3", "4"),
         _f("createdDate", Kind.DATETIME, read_only=True)),
        (SublistDef("priceTiers",
                    (_f("fromVal", Kind.FLOAT, default=0.0),
                     select("pricingOption", "-101", "-102"),  # per unit, fixed amount
                     _f("value", Kind.FLOAT, required=True), _f("maxAmount", Kind.FLOAT))),),
    ),
    RecordDef(
        "priceBook",
        (text("name", 100, required=True),
         ref("subscriptionPlan", "subscriptionPlan", required=True),
         ref("currency", "currency", required=True), flag("isInactive"),
         _f("createdDate", Kind.DATETIME, read_only=True)),
        (SublistDef("priceInterval", _PRICE_INTERVAL, keys=INTERVAL_KEYS,
                    optional_keys=("startOffsetValue",)),),
        name_fields=("name",), dependents=(("subscription", "priceBook"),),
    ),
    RecordDef(
        "subscription",
        (text("name", 100), ref("customer", "customer", required=True),
         ref("billingAccount", "billingAccount", required=True),
         ref("subscriptionPlan", "subscriptionPlan", required=True),
         ref("priceBook", "priceBook", required=True),
         ref("initialTerm", "subscriptionTerm", required=True),
         _f("startDate", Kind.DATE, required=True), _f("endDate", Kind.DATE),
         ref("billingSchedule", "billingSchedule"), enum("billingFrequency", *FREQUENCIES),
         flag("autoRenewal"), ref("defaultRenewalTerm", "subscriptionTerm"),
         ref("defaultRenewalPlan", "subscriptionPlan"),
         ref("defaultRenewalPriceBook", "priceBook"),
         enum("defaultRenewalMethod", "CREATE_NEW_SUBSCRIPTION", "EXTEND_EXISTING_SUBSCRIPTION"),
         text("memo", 999), enum("status", read_only=True),
         ref("currency", "currency", read_only=True),
         ref("subsidiary", "subsidiary", read_only=True),
         _f("createdDate", Kind.DATETIME, read_only=True)),
        (SublistDef("subscriptionLine",
                    (_f("lineNumber", Kind.INT), ref("item", "item", required=True),
                     enum("subscriptionLineType", *LINE_TYPES, required=True),
                     flag("isIncluded", True), flag("isRequired", read_only=True),
                     *_LINE_OPTIONS, flag("includeInRenewal", True),
                     enum("subscriptionLineStatus", *LINE_STATUSES), _f("startDate", Kind.DATE),
                     _f("endDate", Kind.DATE)),
                    keys=("lineNumber",), table="subscriptionline", parent_column="subscription"),
         SublistDef("priceInterval",
                    (*_PRICE_INTERVAL, _f("quantity", Kind.FLOAT, default=1.0),
                     _f("discount", Kind.FLOAT, default=0.0),
                     _f("price", Kind.FLOAT, read_only=True), _f("startDate", Kind.DATE),
                     enum("status", read_only=True), ref("item", "item", read_only=True)),
                    keys=INTERVAL_KEYS, optional_keys=("startOffsetValue",),
                    table="subscriptionpriceinterval", parent_column="subscription")),
        name_fields=("name",),
    ),
    RecordDef(
        "salesOrder",
        (ref("entity", "customer", required=True, label="Customer"), text("tranId", 45),
         _f("tranDate", Kind.DATE), text("memo", 999), text("otherRefNum", 45),
         ref("currency", "currency"), ref("subsidiary", "subsidiary"),
         _f("createdDate", Kind.DATETIME, read_only=True)),
        (SublistDef("item",
                    (_f("line", Kind.INT), ref("item", "item", required=True),
                     _f("quantity", Kind.FLOAT), _f("rate", Kind.FLOAT), _f("amount", Kind.FLOAT),
                     text("description", 999)),
                    keys=("line",), table="transactionline", parent_column="transaction"),),
        name_fields=("tranId",),
    ),
)
# fmt: on

# Fields every record has: the external id (§9) and the modification stamp SuiteQL pollers use.
COMMON_FIELDS = (text("externalId", 255), _f("lastModifiedDate", Kind.DATETIME, read_only=True))

RECORD_TYPES: dict[str, RecordDef] = {
    d.name: replace(d, fields=(*d.fields, *COMMON_FIELDS)) for d in _DEFINITIONS
}
_BY_LOWER = {name.lower(): d for name, d in RECORD_TYPES.items()}


def custom_record_def(name: str) -> RecordDef:
    """A ``customrecord_…`` type: ``name`` and ``isInactive`` typed, every other field free."""
    fields = (text("name", 300), flag("isInactive"), *COMMON_FIELDS)
    return RecordDef(name, fields, free_fields=True, name_fields=("name",))


def lookup(record_type: str) -> RecordDef | None:
    """The definition of a record type, matched case-insensitively (§1: casing UNCONFIRMED)."""
    found = _BY_LOWER.get(record_type.lower())
    if found is not None:
        return found
    if is_custom_record_type(record_type.lower()):
        return custom_record_def(record_type.lower())
    return None


def created_field(definition: RecordDef) -> FieldDef | None:
    """The read-only creation stamp (``dateCreated`` on entities, ``createdDate`` elsewhere)."""
    for name in ("dateCreated", "createdDate"):
        found = definition.field(name)
        if found is not None:
            return found
    return None
