"""The vocabulary of the emulator's sObject schema: field types, fields, objects, and builders.

The definitions themselves are data (``schema_objects``, ``schema_cpq``); this module only says
what a field or an object is, so the REST app, the SOQL engine and ``describe`` read one model.
Field names keep Salesforce's spelling; every lookup by name is case-insensitive because the API
is (contracts/salesforce.md §1.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """The ``type`` of a field as the REST describe reports it."""

    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    REFERENCE = "reference"


TEXT_TYPES = frozenset(
    {
        FieldType.STRING,
        FieldType.TEXTAREA,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
        FieldType.PICKLIST,
    }
)
ID_TYPES = frozenset({FieldType.ID, FieldType.REFERENCE})
NUMBER_TYPES = frozenset({FieldType.INT, FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT})

# A text area longer than this is a "long text area": it can be selected but neither filtered
# nor sorted (describe says filterable/sortable false; SOQL answers INVALID_FIELD).
SHORT_TEXTAREA_MAX = 255


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject.

    Attributes:
        name: Canonical API name, e.g. ``SBQQ__NetPrice__c``.
        type: Describe type.
        label: UI label.
        length: Maximum characters of a text field; None for other types.
        nillable: Whether the field may be empty (false + createable + no default = required).
        createable: Whether a create may set it.
        updateable: Whether an update may set it.
        reference_to: Target sObject names of a lookup.
        relationship_name: The name used in dot paths (``Account``, ``SBQQ__Quote__r``).
        external_id: Marked External ID (usable in upsert URLs, §1.5).
        unique: Values must be unique (DUPLICATE_VALUE otherwise).
        picklist: Allowed values of a picklist, in display order.
        default: Value a create gets when the field is omitted.
        precision: Total digits of a number field.
        scale: Digits after the decimal point of a number field.
        auto_number: Display format of an auto-number field, e.g. ``Q-{00000}``; the store
            assigns the value on create.
    """

    name: str
    type: FieldType
    label: str
    length: int | None = None
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    external_id: bool = False
    unique: bool = False
    picklist: tuple[str, ...] = ()
    default: Any = None
    precision: int | None = None
    scale: int | None = None
    auto_number: str | None = None

    @property
    def custom(self) -> bool:
        """Custom fields (managed-package ones included) end in ``__c``."""
        return self.name.endswith("__c")

    @property
    def required(self) -> bool:
        """Whether a create without this field fails with REQUIRED_FIELD_MISSING."""
        return (
            not self.nillable
            and self.createable
            and self.default is None
            and self.type is not FieldType.BOOLEAN
        )

    @property
    def filterable(self) -> bool:
        """Long text areas cannot appear in WHERE."""
        long_text = self.type is FieldType.TEXTAREA and (self.length or 0) > SHORT_TEXTAREA_MAX
        return not long_text

    @property
    def sortable(self) -> bool:
        """Long text areas cannot appear in ORDER BY either."""
        return self.filterable


@dataclass(frozen=True)
class ChildRelationship:
    """A parent-to-child relationship usable as a subquery's FROM (§1.3).

    Attributes:
        name: Relationship name, e.g. ``OpportunityContactRoles`` or ``SBQQ__LineItems__r``.
        child_sobject: The child object's API name.
        field: The child's lookup field that points at the parent.
    """

    name: str
    child_sobject: str
    field: str


@dataclass(frozen=True)
class SObjectDef:
    """One sObject: its fields in describe order and the relationships that reach it."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: Mapping[str, FieldDef]
    child_relationships: tuple[ChildRelationship, ...]
    custom: bool
    _by_name: Mapping[str, FieldDef] = field(init=False, repr=False, compare=False)
    _by_relationship: Mapping[str, FieldDef] = field(init=False, repr=False, compare=False)
    _by_child: Mapping[str, ChildRelationship] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexes by lower-cased name, built once: SOQL resolves names per query, the REST app
        # per request, and both must accept any case.
        fields = self.fields.values()
        by_name = {f.name.lower(): f for f in fields}
        by_rel = {f.relationship_name.lower(): f for f in fields if f.relationship_name}
        by_child = {c.name.lower(): c for c in self.child_relationships}
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_relationship", by_rel)
        object.__setattr__(self, "_by_child", by_child)

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` in any case, or None."""
        return self._by_name.get(name.lower())

    def child(self, relationship_name: str) -> ChildRelationship | None:
        """The child relationship called ``relationship_name`` in any case, or None."""
        return self._by_child.get(relationship_name.lower())

    def parent_relationship(self, name: str) -> FieldDef | None:
        """The lookup field whose relationship is ``name`` (``Account`` → ``AccountId``)."""
        return self._by_relationship.get(name.lower())

    @property
    def name_field(self) -> FieldDef | None:
        """The record's ``Name`` field, when it has one."""
        return self.field("Name")


def make_object(
    name: str, label: str, label_plural: str, key_prefix: str, fields: list[FieldDef]
) -> SObjectDef:
    """An sObject with ``Id`` first and the audit fields every object has appended.

    Child relationships are attached later by the registry, once every object exists.
    """
    ordered = [id_field(), *fields, *system_fields()]
    return SObjectDef(
        name=name,
        label=label,
        label_plural=label_plural,
        key_prefix=key_prefix,
        fields={f.name: f for f in ordered},
        child_relationships=(),
        custom=name.endswith("__c"),
    )


def id_field() -> FieldDef:
    """``Id``: system-assigned, never written by a client (§1.5: sending it is INVALID_FIELD)."""
    return FieldDef(
        "Id",
        FieldType.ID,
        "Record ID",
        length=18,
        nillable=False,
        createable=False,
        updateable=False,
    )


def system_fields() -> tuple[FieldDef, ...]:
    """``IsDeleted`` and the audit timestamps: present on every object, set only by the org."""
    return (
        FieldDef(
            "IsDeleted",
            FieldType.BOOLEAN,
            "Deleted",
            nillable=False,
            createable=False,
            updateable=False,
            default=False,
        ),
        _stamp("CreatedDate", "Created Date"),
        _stamp("LastModifiedDate", "Last Modified Date"),
        _stamp("SystemModstamp", "System Modstamp"),
    )


def _stamp(name: str, label: str) -> FieldDef:
    return FieldDef(
        name, FieldType.DATETIME, label, nillable=False, createable=False, updateable=False
    )


def text(
    name: str, label: str, length: int = 255, *, required: bool = False, **extra: Any
) -> FieldDef:
    """A string field."""
    return FieldDef(name, FieldType.STRING, label, length=length, nillable=not required, **extra)


def read_only_text(
    name: str, label: str, length: int, *, auto_number: str | None = None
) -> FieldDef:
    """A text field only the org writes: a computed name or an auto-number."""
    return FieldDef(
        name,
        FieldType.STRING,
        label,
        length=length,
        nillable=False,
        createable=False,
        updateable=False,
        auto_number=auto_number,
    )


def textarea(name: str, label: str, length: int = 255) -> FieldDef:
    """A text area; longer than 255 characters makes it a long text area."""
    return FieldDef(name, FieldType.TEXTAREA, label, length=length)


def typed_text(name: str, label: str, kind: FieldType, length: int) -> FieldDef:
    """An email, phone or URL field."""
    return FieldDef(name, kind, label, length=length)


def picklist(
    name: str,
    label: str,
    values: tuple[str, ...],
    *,
    required: bool = False,
    default: str | None = None,
) -> FieldDef:
    """A single-select picklist (length 255, as Salesforce describes them)."""
    return FieldDef(
        name,
        FieldType.PICKLIST,
        label,
        length=255,
        nillable=not required,
        picklist=values,
        default=default,
    )


def boolean(name: str, label: str, *, default: bool = False, **extra: Any) -> FieldDef:
    """A checkbox: never null, false unless set."""
    return FieldDef(name, FieldType.BOOLEAN, label, nillable=False, default=default, **extra)


def number(
    name: str,
    label: str,
    kind: FieldType = FieldType.DOUBLE,
    precision: int = 18,
    scale: int = 2,
    *,
    required: bool = False,
    **extra: Any,
) -> FieldDef:
    """A numeric field (int, double, currency or percent)."""
    return FieldDef(
        name, kind, label, nillable=not required, precision=precision, scale=scale, **extra
    )


def date(name: str, label: str, *, required: bool = False, **extra: Any) -> FieldDef:
    """A date field (wire form ``YYYY-MM-DD``, §1.2)."""
    return FieldDef(name, FieldType.DATE, label, nillable=not required, **extra)


def datetime_field(name: str, label: str) -> FieldDef:
    """A dateTime field (wire form ``2013-05-20T20:49:32.000+0000``, §1.2)."""
    return FieldDef(name, FieldType.DATETIME, label)


def lookup(
    name: str,
    label: str,
    target: str,
    *,
    required: bool = False,
    updateable: bool = True,
    relationship: str | None = None,
) -> FieldDef:
    """A lookup; its relationship name drops ``Id`` (standard) or turns ``__c`` into ``__r``."""
    if relationship is None:
        relationship = name[:-3] + "__r" if name.endswith("__c") else name.removesuffix("Id")
    return FieldDef(
        name,
        FieldType.REFERENCE,
        label,
        length=18,
        nillable=not required,
        updateable=updateable,
        reference_to=(target,),
        relationship_name=relationship,
    )


def auto_name(display_format: str, label: str = "Name") -> FieldDef:
    """An auto-number ``Name`` (``Q-00058``): assigned by the org, never written by clients."""
    return read_only_text("Name", label, 80, auto_number=display_format)


def currency_iso_code() -> FieldDef:
    """``CurrencyIsoCode`` of a multi-currency org (§4), defaulting to the corporate currency."""
    return picklist(
        "CurrencyIsoCode", "Currency ISO Code", CURRENCIES, required=True, default="USD"
    )


CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "NZD", "SGD")
