"""The emulated org's sObject schema: lookup by name and the REST ``describe`` document.

Definitions are data (``schema_objects`` for standard objects, ``schema_cpq`` for the CPQ
package); this module assembles them once, attaches each parent's child relationships, and
answers lookups case-insensitively as Salesforce does. ``describe`` renders the JSON of
``GET /sobjects/{name}/describe`` for the fields the sync and simple-salesforce read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dealbridge.connectors.salesforce.emulator.schema_cpq import CPQ_CHILDREN, CPQ_OBJECTS
from dealbridge.connectors.salesforce.emulator.schema_objects import (
    STANDARD_CHILDREN,
    STANDARD_OBJECTS,
)
from dealbridge.connectors.salesforce.emulator.schema_types import (
    ID_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    ChildRelationship,
    FieldDef,
    FieldType,
    SObjectDef,
)
from dealbridge.connectors.salesforce.models import DATA_PATH

__all__ = [
    "ChildRelationship",
    "FieldDef",
    "FieldType",
    "SObjectDef",
    "all_sobjects",
    "describe",
    "sobject",
]

_SOAP_TYPES = {
    FieldType.ID: "tns:ID",
    FieldType.REFERENCE: "tns:ID",
    FieldType.BOOLEAN: "xsd:boolean",
    FieldType.INT: "xsd:int",
    FieldType.DOUBLE: "xsd:double",
    FieldType.CURRENCY: "xsd:double",
    FieldType.PERCENT: "xsd:double",
    FieldType.DATE: "xsd:date",
    FieldType.DATETIME: "xsd:dateTime",
}
_MERGEABLE = frozenset({"Account", "Contact"})


def _assemble() -> dict[str, SObjectDef]:
    """Every object, keyed by lower-cased name, with its child relationships attached."""
    children: dict[str, list[ChildRelationship]] = {}
    for parent, relationship in (*STANDARD_CHILDREN, *CPQ_CHILDREN):
        children.setdefault(parent, []).append(relationship)
    registry: dict[str, SObjectDef] = {}
    for defn in (*STANDARD_OBJECTS, *CPQ_OBJECTS):
        attached = tuple(children.get(defn.name, ()))
        registry[defn.name.lower()] = dataclasses.replace(defn, child_relationships=attached)
    return registry


_REGISTRY = _assemble()


def sobject(name: str) -> SObjectDef | None:
    """The sObject called ``name`` in any case, or None when the org has no such object."""
    return _REGISTRY.get(name.lower())


def all_sobjects() -> list[SObjectDef]:
    """Every sObject of the org, standard objects first (the order of describeGlobal)."""
    return list(_REGISTRY.values())


def describe(defn: SObjectDef, api_version: str) -> dict[str, Any]:
    """The JSON body of ``GET /services/data/vNN.0/sobjects/{name}/describe``.

    Args:
        defn: The object to describe.
        api_version: ``"65.0"``-style version the URLs are built with.
    """
    return {
        **_object_flags(defn),
        "fields": [describe_field(f, defn) for f in defn.fields.values()],
        "childRelationships": [_describe_child(c) for c in defn.child_relationships],
        "recordTypeInfos": [],
        "urls": object_urls(defn.name, api_version),
    }


def _object_flags(defn: SObjectDef) -> dict[str, Any]:
    return {
        "name": defn.name,
        "label": defn.label,
        "labelPlural": defn.label_plural,
        "keyPrefix": defn.key_prefix,
        "custom": defn.custom,
        "customSetting": False,
        "activateable": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "undeletable": True,
        "mergeable": defn.name in _MERGEABLE,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "layoutable": True,
        "triggerable": True,
        "replicateable": True,
        "feedEnabled": False,
        "deprecatedAndHidden": False,
    }


def object_urls(name: str, api_version: str) -> dict[str, str]:
    """The ``urls`` block shared by describe and describeGlobal entries."""
    base = f"{DATA_PATH}/v{api_version}/sobjects/{name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
        "layouts": f"{base}/describe/layouts",
        "compactLayouts": f"{base}/describe/compactLayouts",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "quickActions": f"{base}/quickActions",
        "listviews": f"{base}/listviews",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
    }


def describe_field(fdef: FieldDef, owner: SObjectDef) -> dict[str, Any]:
    """One entry of ``fields`` in a describe: the keys clients actually read, typed as REST does."""
    return {
        "name": fdef.name,
        "label": fdef.label,
        "type": fdef.type.value,
        "soapType": _SOAP_TYPES.get(fdef.type, "xsd:string"),
        **_sizes(fdef),
        "nillable": fdef.nillable,
        "createable": fdef.createable,
        "updateable": fdef.updateable,
        "defaultedOnCreate": _defaulted(fdef),
        "defaultValue": fdef.default if fdef.type is not FieldType.BOOLEAN else None,
        "defaultValueFormula": None,
        "calculated": False,
        "autoNumber": fdef.auto_number is not None,
        "custom": fdef.custom,
        "externalId": fdef.external_id,
        "unique": fdef.unique,
        "idLookup": fdef.type is FieldType.ID or fdef.external_id,
        "nameField": fdef.name == "Name" and owner.name_field is fdef,
        "caseSensitive": False,
        "referenceTo": list(fdef.reference_to),
        "relationshipName": fdef.relationship_name,
        "relationshipOrder": None,
        "cascadeDelete": False,
        "polymorphicForeignKey": False,
        "restrictedPicklist": False,
        "picklistValues": _picklist_values(fdef),
        "dependentPicklist": False,
        "controllerName": None,
        "filterable": fdef.filterable,
        "sortable": fdef.sortable,
        "groupable": fdef.sortable and fdef.type not in NUMBER_TYPES - {FieldType.INT},
        "aggregatable": fdef.sortable,
        "htmlFormatted": False,
        "inlineHelpText": None,
        "permissionable": fdef.custom and fdef.nillable,
        "deprecatedAndHidden": False,
        "encrypted": False,
    }


def _sizes(fdef: FieldDef) -> dict[str, int]:
    """``length``/``byteLength``/``digits``/``precision``/``scale`` as describe fills them."""
    is_text = fdef.type in TEXT_TYPES or fdef.type in ID_TYPES
    length = (fdef.length or 0) if is_text else 0
    # Integers report ``digits``; the other numbers report precision and scale.
    is_int = fdef.type is FieldType.INT
    return {
        "length": length,
        "byteLength": length * 3,  # UTF-8 worst case, as Salesforce reports it
        "digits": 9 if is_int else 0,
        "precision": 0 if is_int else (fdef.precision or 0),
        "scale": 0 if is_int else (fdef.scale or 0),
    }


def _defaulted(fdef: FieldDef) -> bool:
    """True when the org fills the field on create whatever the client sends."""
    return fdef.default is not None or not fdef.createable or fdef.type is FieldType.BOOLEAN


def _picklist_values(fdef: FieldDef) -> list[dict[str, Any]]:
    return [
        {
            "active": True,
            "defaultValue": value == fdef.default,
            "label": value,
            "validFor": None,
            "value": value,
        }
        for value in fdef.picklist
    ]


def _describe_child(relationship: ChildRelationship) -> dict[str, Any]:
    return {
        "relationshipName": relationship.name,
        "childSObject": relationship.child_sobject,
        "field": relationship.field,
        "cascadeDelete": False,
        "deprecatedAndHidden": False,
        "restrictedDelete": False,
        "junctionIdListNames": [],
        "junctionReferenceTo": [],
    }
