"""Outbound Message parsing, validation, Ack and serializer (contracts/salesforce.md §3.1)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.outbound import (
    ACK_CONTENT_TYPE,
    Notification,
    OutboundMessage,
    build_ack,
    build_outbound_message,
    build_soap_fault,
    parse_outbound_message,
)
from dealbridge.errors import WebhookError

from .samples import CONTRACT_SAMPLE, ORG_ID, ORG_ID15, envelope, notification

ALLOWED = [ORG_ID]
ENV = f"{{{models.SOAP_ENV_NS}}}"
OUT = f"{{{models.OUTBOUND_NS}}}"


def parse(body: bytes, **kwargs: Any) -> OutboundMessage:
    kwargs.setdefault("allowed_org_ids", ALLOWED)
    return parse_outbound_message(body, **kwargs)


def refusal(body: bytes, status: int = 400, **kwargs: Any) -> str:
    """Parse expecting a refusal with ``status``; return its message."""
    with pytest.raises(WebhookError) as caught:
        parse(body, **kwargs)
    assert caught.value.status == status, caught.value.message
    return caught.value.message


def ids(count: int) -> list[str]:
    return [f"04l5w0000528{index:06d}" for index in range(count)]


def sample_notifications() -> list[Notification]:
    return [
        Notification(
            "04l5w00005286hAAAQ",
            "Opportunity",
            {
                "Id": "0065w000023STAmAAO",
                "AccountId": "0015w00002ABCdeAAA",
                "StageName": "Closed Won & Paid <fast>",
                "IsWon": True,
                "SystemModstamp": "2026-03-01T10:15:00.000Z",
                "Amount": 45000.0,
                "CloseDate": "2026-02-28",
                "SBQQ__PrimaryQuote__c": None,
            },
        ),
        Notification(
            "04l5w00005286hBAAQ",
            "Opportunity",
            {"Id": "0065w000023STAn", "IsWon": False, "Probability": 90.0},
        ),
    ]


# --- the contract sample -------------------------------------------------------------------


def test_contract_sample_parses_exactly() -> None:
    message = parse(CONTRACT_SAMPLE)

    assert message == OutboundMessage(
        organization_id="00D5w000004qGTOEA2",
        action_id="04k5w000000TSwMAAW",
        session_id=None,
        enterprise_url="https://acme.my.salesforce.com/services/Soap/c/65.0/00D5w000004qGTO",
        partner_url="https://acme.my.salesforce.com/services/Soap/u/65.0/00D5w000004qGTO",
        notifications=[
            Notification(
                id="04l5w00005286hAAAQ",
                sobject_type="Opportunity",
                fields={
                    "Id": "0065w000023STAmAAO",
                    "StageName": "Closed Won",
                    "IsWon": True,
                    "Amount": 45000.0,
                },
            )
        ],
    )
    assert message.notifications[0].opportunity_id == "0065w000023STAmAAO"


def test_a_session_id_when_sent_is_kept() -> None:
    body = CONTRACT_SAMPLE.replace(b'<SessionId xsi:nil="true"/>', b"<SessionId>00D!AR</SessionId>")
    assert parse(body).session_id == "00D!AR"


def test_an_empty_session_id_is_none() -> None:
    body = CONTRACT_SAMPLE.replace(b'<SessionId xsi:nil="true"/>', b"<SessionId></SessionId>")
    assert parse(body).session_id is None


# --- field typing ---------------------------------------------------------------------------


def test_fields_are_typed_by_the_documented_rule() -> None:
    fields = (
        "<sf:Id>0065w000023STAmAAO</sf:Id><sf:IsWon>true</sf:IsWon><sf:IsClosed>false</sf:IsClosed>"
        "<sf:Amount>1200.50</sf:Amount><sf:Probability>100</sf:Probability>"
        "<sf:CloseDate>2026-02-28</sf:CloseDate>"
        "<sf:SystemModstamp>2026-03-01T10:15:00.000Z</sf:SystemModstamp>"
        '<sf:SBQQ__PrimaryQuote__c xsi:nil="true"/><sf:Name>12345</sf:Name><sf:Description/>'
    )
    typed = parse(envelope(notification(fields))).notifications[0].fields

    assert typed == {
        "Id": "0065w000023STAmAAO",
        "IsWon": True,
        "IsClosed": False,
        "Amount": 1200.5,
        "Probability": 100.0,
        "CloseDate": "2026-02-28",
        "SystemModstamp": "2026-03-01T10:15:00.000Z",
        "SBQQ__PrimaryQuote__c": None,
        "Name": "12345",
        "Description": "",
    }


@pytest.mark.parametrize("amount", ["lots", "NaN", "INF", "-inf"])
def test_a_numeric_field_that_is_not_a_finite_number_is_refused(amount: str) -> None:
    fields = f"<sf:Id>0065w000023STAmAAO</sf:Id><sf:Amount>{amount}</sf:Amount>"
    message = refusal(envelope(notification(fields)))
    assert "notification 0" in message
    assert "Amount" in message


def test_an_empty_numeric_field_is_none() -> None:
    fields = "<sf:Id>0065w000023STAmAAO</sf:Id><sf:Amount></sf:Amount>"
    assert parse(envelope(notification(fields))).notifications[0].fields["Amount"] is None


# --- ids ------------------------------------------------------------------------------------


def test_a_15_character_record_id_is_kept_and_normalised_to_18() -> None:
    fields = "<sf:Id>0065w000023STAm</sf:Id>"
    parsed = parse(envelope(notification(fields))).notifications[0]

    assert parsed.fields["Id"] == "0065w000023STAm"
    assert parsed.opportunity_id == models.to_id18("0065w000023STAm")
    assert parsed.record_id == parsed.opportunity_id
    assert len(parsed.opportunity_id) == 18


def test_opportunity_id_of_another_object_is_refused() -> None:
    body = envelope(notification()).replace(b"sf:Opportunity", b"sf:Account")
    parsed = parse(body).notifications[0]

    assert parsed.sobject_type == "Account"
    with pytest.raises(WebhookError, match="not an Opportunity"):
        _ = parsed.opportunity_id


# --- the OrganizationId allowlist -----------------------------------------------------------


@pytest.mark.parametrize(
    "allowed", [[ORG_ID], [ORG_ID15], ORG_ID, f" 00D000000000001, {ORG_ID15} "]
)
def test_the_allowlist_matches_15_and_18_character_forms(allowed: Any) -> None:
    assert parse(CONTRACT_SAMPLE, allowed_org_ids=allowed).organization_id == ORG_ID


def test_a_message_with_a_15_character_org_id_matches_an_18_character_entry() -> None:
    message = parse(envelope(notification(), org_id=ORG_ID15), allowed_org_ids=[ORG_ID])
    assert message.organization_id == ORG_ID15


@pytest.mark.parametrize(
    "org_id",
    [
        "00D000000000001AAA",  # another org
        ORG_ID.lower(),  # 15-character ids are case-sensitive
        ORG_ID15 + "!!!",  # right prefix, not an id
        "",
    ],
)
def test_an_org_not_on_the_allowlist_is_forbidden(org_id: str) -> None:
    refusal(envelope(notification(), org_id=org_id), status=403)


def test_a_missing_org_id_is_forbidden() -> None:
    assert "no OrganizationId" in refusal(envelope(notification(), org_id=None), status=403)


@pytest.mark.parametrize("allowed", [[], "", ["", "  "], ["not-an-org-id"]])
def test_an_empty_allowlist_refuses_everything(allowed: Any) -> None:
    message = refusal(CONTRACT_SAMPLE, status=403, allowed_org_ids=allowed)
    assert "DEALBRIDGE_SALESFORCE__ORG_ID" in message


# --- size and count -------------------------------------------------------------------------


def test_a_body_over_the_cap_is_refused_with_413() -> None:
    message = refusal(CONTRACT_SAMPLE, status=413, max_bytes=len(CONTRACT_SAMPLE) - 1)
    assert str(len(CONTRACT_SAMPLE)) in message


def test_a_body_at_the_cap_is_accepted() -> None:
    assert parse(CONTRACT_SAMPLE, max_bytes=len(CONTRACT_SAMPLE)).notifications


def test_one_hundred_notifications_are_accepted() -> None:
    body = envelope("".join(notification(notification_id=i) for i in ids(100)))
    assert [n.id for n in parse(body).notifications] == ids(100)


def test_one_hundred_and_one_notifications_are_refused() -> None:
    body = envelope("".join(notification(notification_id=i) for i in ids(101)))
    assert "101 notifications" in refusal(body)


def test_no_notification_is_refused() -> None:
    assert "no Notification" in refusal(envelope(""))


# --- structure refusals ---------------------------------------------------------------------

SOAP12 = b"http://www.w3.org/2003/05/soap-envelope"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "malformed XML at line 1, column 1: no element found"),
        (b"<a><b></a>", "malformed XML at line 1, column 9: mismatched tag"),
        (b"\xff\xfe\x00garbage", "malformed XML"),
        (b"<notifications/>", "not a SOAP 1.1 envelope"),
        (CONTRACT_SAMPLE.replace(models.SOAP_ENV_NS.encode(), SOAP12), "not a SOAP 1.1 envelope"),
        (
            CONTRACT_SAMPLE.replace(models.OUTBOUND_NS.encode(), b"urn:other"),
            "no notifications element in namespace http://soap.sforce.com/2005/09/outbound",
        ),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>',
            "no notifications element",
        ),
        (envelope(notification(), action_id=None), "no ActionId"),
        (
            envelope(notification(), action_id="04k5w000000TSwMAAW</ActionId><ActionId>x"),
            "2 ActionId elements",
        ),
    ],
)
def test_messages_that_are_not_outbound_messages_are_refused(body: bytes, expected: str) -> None:
    assert expected in refusal(body)


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (notification(notification_id=""), "notification 1 has no valid Id"),
        (notification(notification_id="not-an-id"), "notification 1 has no valid Id"),
        (
            "<Notification><Id>04l5w00005286hBAAQ</Id></Notification>",
            "notification 1 has no sObject",
        ),
        (
            notification("<sf:IsWon>true</sf:IsWon>"),
            "notification 1 has an sObject without a valid sf:Id",
        ),
        (notification("<sf:Id>bad</sf:Id>"), "notification 1 has an sObject without a valid sf:Id"),
        (notification("<sf:Id/>"), "without a valid sf:Id"),
        (
            notification().replace('xsi:type="sf:Opportunity" ', ""),
            "notification 1 has an sObject without a valid xsi:type",
        ),
        (
            notification().replace("sf:Opportunity", "sf:Bad Type"),
            "without a valid xsi:type",
        ),
        (
            notification("<sf:Id>0065w000023STAmAAO</sf:Id><sf:Id>0065w000023STAmAAO</sf:Id>"),
            "notification 1 repeats the field Id",
        ),
        (
            notification(
                "<sf:Id>0065w000023STAmAAO</sf:Id><sf:Account><sf:Name>A</sf:Name></sf:Account>"
            ),
            "notification 1 has nested elements in the field Account",
        ),
        (
            notification('<sf:Id>0065w000023STAmAAO</sf:Id><x:Evil xmlns:x="urn:x">1</x:Evil>'),
            "notification 1 has an unexpected element {urn:x}Evil",
        ),
        (
            notification("<sf:Id>0065w000023STAmAAO</sf:Id><sf:Bad.Name>1</sf:Bad.Name>"),
            "unexpected element",
        ),
    ],
)
def test_a_bad_notification_is_refused_by_index(second: str, expected: str) -> None:
    body = envelope(notification() + second)
    with pytest.raises(WebhookError) as caught:
        parse(body)

    assert caught.value.status == 400
    assert expected in caught.value.message
    assert caught.value.context == {"notification_index": 1}


def test_an_unknown_org_is_refused_before_its_notifications_are_read() -> None:
    body = envelope(notification(notification_id="bad"), org_id="00D000000000001AAA")
    refusal(body, status=403)


def test_a_refusal_survives_a_pickle_round_trip() -> None:
    with pytest.raises(WebhookError) as caught:
        parse(CONTRACT_SAMPLE, allowed_org_ids=[])
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert (copy.status, copy.message) == (403, caught.value.message)


# --- round trip and serializer --------------------------------------------------------------


def test_build_then_parse_round_trips() -> None:
    notifications = sample_notifications()
    body = build_outbound_message(
        ORG_ID,
        "04k5w000000TSwMAAW",
        notifications,
        enterprise_url="https://acme.my.salesforce.com/services/Soap/c/65.0/00D5w000004qGTO",
        partner_url="https://acme.my.salesforce.com/services/Soap/u/65.0/00D5w000004qGTO",
    )
    message = parse(body)

    assert message.organization_id == ORG_ID
    assert message.action_id == "04k5w000000TSwMAAW"
    assert message.session_id is None
    assert message.notifications == notifications


def test_build_writes_the_contract_envelope() -> None:
    body = build_outbound_message(
        ORG_ID,
        "04k5w000000TSwMAAW",
        parse(CONTRACT_SAMPLE).notifications,
        enterprise_url="https://acme.my.salesforce.com/services/Soap/c/65.0/00D5w000004qGTO",
        partner_url="https://acme.my.salesforce.com/services/Soap/u/65.0/00D5w000004qGTO",
    )
    text = body.decode()

    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope ')
    assert '<SessionId xsi:nil="true"/>' in text
    assert (
        '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
    ) in text
    assert (
        "<sf:Id>0065w000023STAmAAO</sf:Id><sf:StageName>Closed Won</sf:StageName>"
        "<sf:IsWon>true</sf:IsWon><sf:Amount>45000.0</sf:Amount>"
    ) in text
    assert fromstring(body).tag == f"{ENV}Envelope"


def test_build_puts_the_id_first() -> None:
    item = Notification(
        "04l5w00005286hAAAQ", "Opportunity", {"IsWon": True, "Id": "0065w000023STAm"}
    )
    text = build_outbound_message(ORG_ID, "a", [item], enterprise_url="e", partner_url="p").decode()
    assert text.index("<sf:Id>") < text.index("<sf:IsWon>")


def one(fields: dict[str, Any]) -> list[Notification]:
    return [Notification("04l5w00005286hAAAQ", "Opportunity", fields)]


@pytest.mark.parametrize(
    "notifications",
    [
        [],
        one({"Id": "0065w000023STAm"}) * 101,
        one({"Bad Name": 1}),
        one({"Id": "0065w000023STAm", "Name": "bell\x07"}),
        one({"Id": "0065w000023STAm", "When": object()}),
        [Notification("04l5w00005286hAAAQ", "Not a type", {})],
    ],
)
def test_build_refuses_what_salesforce_would_never_send(notifications: list[Notification]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build_outbound_message(ORG_ID, "a", notifications, enterprise_url="e", partner_url="p")


# --- Ack and fault --------------------------------------------------------------------------


@pytest.mark.parametrize(("ok", "text"), [(True, "true"), (False, "false")])
def test_the_ack_is_a_notifications_response(ok: bool, text: str) -> None:
    root = fromstring(build_ack(ok))
    ack = root.find(f"{ENV}Body/{OUT}notificationsResponse/{OUT}Ack")

    assert ack is not None
    assert ack.text == text


def test_the_ack_content_type_is_soap_1_1() -> None:
    assert ACK_CONTENT_TYPE == "text/xml; charset=utf-8"


def test_the_fault_is_a_client_fault_with_the_escaped_message() -> None:
    root = fromstring(build_soap_fault("OrganizationId <x> & \x00 is not allowed"))
    fault = root.find(f"{ENV}Body/{ENV}Fault")

    assert fault is not None
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert fault.findtext("faultstring") == "OrganizationId <x> & ? is not allowed"


def test_the_fault_message_is_bounded() -> None:
    faultstring = fromstring(build_soap_fault("x" * 100_000)).findtext(
        f"{ENV}Body/{ENV}Fault/faultstring"
    )
    assert faultstring is not None
    assert len(faultstring) <= 1001
