"""The SFDX package under salesforce/ matches what the code expects of the org.

The package is deployed by an admin, so nothing else would notice if it drifted from the code: a
write-back field the code writes but the package never creates, or an Outbound Message that stops
sending a field the listener needs, would only fail in a customer's org.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import parse

from dealbridge.connectors.salesforce import models

ROOT = Path(__file__).resolve().parents[3] / "salesforce"
SOURCE = ROOT / "force-app" / "main" / "default"
MD = "{http://soap.sforce.com/2006/04/metadata}"
XML_FILES = sorted(ROOT.rglob("*.xml"))


def load(relative: str) -> Element:
    root: Element = parse(SOURCE / relative, forbid_dtd=True).getroot()
    return root


def texts(element: Element, path: str) -> list[str]:
    return [found.text or "" for found in element.findall(path.replace("md:", MD))]


def text(element: Element, path: str) -> str:
    found = texts(element, path)
    assert len(found) == 1, f"{path}: {found}"
    return found[0]


def write_back_pairs() -> set[tuple[str, str]]:
    return {(obj, field) for obj, fields in models.WRITE_BACK_FIELDS.items() for field in fields}


def test_the_package_has_metadata_files() -> None:
    assert len(XML_FILES) >= 8


@pytest.mark.parametrize("path", XML_FILES, ids=lambda path: path.name)
def test_every_xml_file_parses_in_the_metadata_namespace(path: Path) -> None:
    root = parse(path, forbid_dtd=True).getroot()
    assert root.tag.startswith(MD), root.tag


def test_sfdx_project_is_valid_json_with_the_pinned_api_version() -> None:
    project = json.loads((ROOT / "sfdx-project.json").read_text(encoding="utf-8"))

    assert project["sourceApiVersion"] == models.DEFAULT_API_VERSION
    assert [d["path"] for d in project["packageDirectories"]] == ["force-app"]
    assert (ROOT / "force-app").is_dir()


# --- custom fields --------------------------------------------------------------------------


def test_custom_field_files_exist_for_exactly_the_write_back_fields() -> None:
    files = {
        (path.parents[1].name, path.name.removesuffix(".field-meta.xml"))
        for path in SOURCE.glob("objects/*/fields/*.field-meta.xml")
    }
    assert files == write_back_pairs()


@pytest.mark.parametrize(("obj", "field"), sorted(write_back_pairs()))
def test_each_field_file_names_its_field(obj: str, field: str) -> None:
    root = load(f"objects/{obj}/fields/{field}.field-meta.xml")

    assert root.tag == f"{MD}CustomField"
    assert text(root, "md:fullName") == field
    assert text(root, "md:label")
    assert text(root, "md:type")


def test_the_customer_id_is_a_unique_external_id() -> None:
    root = load("objects/Account/fields/NetSuite_Customer_Id__c.field-meta.xml")
    assert (text(root, "md:type"), text(root, "md:length")) == ("Text", "32")
    assert (text(root, "md:externalId"), text(root, "md:unique")) == ("true", "true")


def test_the_sync_status_picklist_has_the_code_values() -> None:
    root = load("objects/Opportunity/fields/NetSuite_Sync_Status__c.field-meta.xml")
    values = texts(root, "md:valueSet/md:valueSetDefinition/md:value/md:fullName")

    assert text(root, "md:type") == "Picklist"
    assert tuple(values) == models.SYNC_STATUSES
    assert text(root, "md:valueSet/md:restricted") == "true"


@pytest.mark.parametrize("field", ["NetSuite_Sync_Error__c", "NetSuite_Subscription_Ids__c"])
def test_long_text_fields_are_long_text_areas(field: str) -> None:
    root = load(f"objects/Opportunity/fields/{field}.field-meta.xml")
    assert (text(root, "md:type"), text(root, "md:length")) == ("LongTextArea", "32768")
    assert int(text(root, "md:visibleLines")) > 0


def test_synced_at_is_a_datetime() -> None:
    root = load("objects/Opportunity/fields/NetSuite_Synced_At__c.field-meta.xml")
    assert text(root, "md:type") == "DateTime"


# --- Outbound Message and Flow --------------------------------------------------------------


def outbound_message() -> Element:
    root = load("workflows/Opportunity.workflow-meta.xml")
    messages = root.findall(f"{MD}outboundMessages")
    assert [text(m, "md:fullName") for m in messages] == [models.OUTBOUND_MESSAGE_NAME]
    return messages[0]


def test_the_outbound_message_sends_every_field_the_listener_needs() -> None:
    fields = set(texts(outbound_message(), "md:fields"))
    assert set(models.OUTBOUND_MESSAGE_FIELDS) <= fields


def test_the_outbound_message_points_at_the_listener_over_https() -> None:
    message = outbound_message()
    url = text(message, "md:endpointUrl")

    assert url.startswith("https://")
    assert models.OUTBOUND_MESSAGE_PATH + "REPLACE_WITH_TOKEN" in url
    assert text(message, "md:includeSessionId") == "false"
    assert text(message, "md:protected") == "false"
    assert text(message, "md:apiVersion") == models.DEFAULT_API_VERSION
    assert text(message, "md:integrationUser")


def test_the_flow_sends_the_outbound_message_when_iswon_becomes_true() -> None:
    flow = load(f"flows/{models.OUTBOUND_MESSAGE_NAME}.flow-meta.xml")
    start = flow.find(f"{MD}start")
    action = flow.find(f"{MD}actionCalls")
    assert start is not None
    assert action is not None

    assert text(flow, "md:processType") == "AutoLaunchedFlow"
    assert text(flow, "md:status") == "Active"
    assert text(flow, "md:apiVersion") == models.DEFAULT_API_VERSION
    assert text(start, "md:object") == "Opportunity"
    assert text(start, "md:recordTriggerType") == "CreateAndUpdate"
    assert text(start, "md:triggerType") == "RecordAfterSave"
    assert text(start, "md:doesRequireRecordChangedToMeetCriteria") == "true"
    assert texts(start, "md:filters/md:field") == ["IsWon"]
    assert text(start, "md:filters/md:operator") == "EqualTo"
    assert text(start, "md:filters/md:value/md:booleanValue") == "true"
    assert text(start, "md:connector/md:targetReference") == text(action, "md:name")
    assert text(action, "md:actionType") == "outboundMessage"
    assert text(action, "md:actionName") == f"Opportunity.{models.OUTBOUND_MESSAGE_NAME}"


# --- permission set -------------------------------------------------------------------------


def permission_set() -> Element:
    return load("permissionsets/Dealbridge_Integration.permissionset-meta.xml")


def field_permissions() -> dict[str, tuple[str, str]]:
    return {
        text(fp, "md:field"): (text(fp, "md:readable"), text(fp, "md:editable"))
        for fp in permission_set().findall(f"{MD}fieldPermissions")
    }


def object_permissions() -> dict[str, tuple[str, str]]:
    return {
        text(op, "md:object"): (text(op, "md:allowRead"), text(op, "md:allowEdit"))
        for op in permission_set().findall(f"{MD}objectPermissions")
    }


@pytest.mark.parametrize(("obj", "field"), sorted(write_back_pairs()))
def test_the_permission_set_grants_edit_on_each_write_back_field(obj: str, field: str) -> None:
    assert field_permissions()[f"{obj}.{field}"] == ("true", "true")


def test_the_permission_set_only_reads_everything_else() -> None:
    written = {f"{obj}.{field}" for obj, field in write_back_pairs()}
    others = {name: access for name, access in field_permissions().items() if name not in written}

    assert others
    assert set(others.values()) == {("true", "false")}


@pytest.mark.parametrize(
    ("obj", "edit"),
    [
        ("Account", "true"),
        ("Opportunity", "true"),
        ("Contact", "false"),
        ("Product2", "false"),
        ("SBQQ__Quote__c", "false"),
        ("SBQQ__QuoteLine__c", "false"),
        ("SBQQ__ProductOption__c", "false"),
    ],
)
def test_the_permission_set_grants_object_access(obj: str, edit: str) -> None:
    assert object_permissions()[obj] == ("true", edit)


def test_the_permission_set_enables_the_api() -> None:
    root = permission_set()
    enabled = {
        text(up, "md:name"): text(up, "md:enabled") for up in root.findall(f"{MD}userPermissions")
    }
    assert enabled == {"ApiEnabled": "true"}
