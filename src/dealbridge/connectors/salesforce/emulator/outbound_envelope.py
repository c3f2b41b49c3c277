"""The SOAP 1.1 bytes of an Outbound Message, and the test of a listener's answer (contracts §3.1).

The envelope is laid out exactly as the contract's sample (namespace declarations where Salesforce
puts them: ``xmlns:sf`` on each ``sObject``), which ``xml.etree`` cannot do without global prefix
registration. So it is written by hand, and safely: element names come from a fixed skeleton or
from field names checked against ``FIELD_NAME`` when an endpoint is registered, and every value
passes through ``_text`` (XML-escaped, characters XML 1.0 cannot carry removed).

Values are written as the SOAP API types them: booleans ``true``/``false``, numbers as doubles
(``45000.0``), dateTimes in UTC with milliseconds and ``Z``, empty values as ``xsi:nil="true"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from dealbridge.connectors.salesforce.models import OUTBOUND_NS, SOAP_ENV_NS, SOBJECT_NS, XSI_NS

CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP_ACTION = '""'  # §3.1: Salesforce sends an empty SOAPAction
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
ACK_BODY_MAX = 1_000_000  # bytes of a listener's answer worth parsing

_INVALID_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_REST_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,6})?(Z|[+-]00:?00)$")


@dataclass(frozen=True)
class SoapNotification:
    """One ``Notification``: its id and the sObject's fields in the order they are written.

    Attributes:
        notification_id: The 18-character ``04l…`` id listeners deduplicate on.
        sobject: The sObject type, e.g. ``Opportunity`` (a checked identifier).
        fields: ``(field name, value)`` pairs; a None value is written as ``xsi:nil``.
    """

    notification_id: str
    sobject: str
    fields: Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class SoapHeader:
    """The ``notifications`` element's fixed children, the same for every message of an action."""

    organization_id: str
    action_id: str
    enterprise_url: str
    partner_url: str


def build_envelope(header: SoapHeader, notifications: Sequence[SoapNotification]) -> bytes:
    """The UTF-8 SOAP request body for one POST of up to 100 notifications."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns:xsi="{XSI_NS}">\n',
        " <soapenv:Body>\n",
        f'  <notifications xmlns="{OUTBOUND_NS}">\n',
        f"   <OrganizationId>{_text(header.organization_id)}</OrganizationId>\n",
        f"   <ActionId>{_text(header.action_id)}</ActionId>\n",
        # Empty since the week of 2026-02-23: IncludeSessionId is ignored (§3.1 [R27]).
        '   <SessionId xsi:nil="true"/>\n',
        f"   <EnterpriseUrl>{_text(header.enterprise_url)}</EnterpriseUrl>\n",
        f"   <PartnerUrl>{_text(header.partner_url)}</PartnerUrl>\n",
    ]
    parts += [_notification(notification) for notification in notifications]
    parts.append("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
    return "".join(parts).encode("utf-8")


def _notification(notification: SoapNotification) -> str:
    if not FIELD_NAME.match(notification.sobject):
        raise ValueError(f"not an sObject name: {notification.sobject!r}")
    parts = [
        "   <Notification>\n",
        f"    <Id>{_text(notification.notification_id)}</Id>\n",
        f'    <sObject xsi:type="sf:{notification.sobject}" xmlns:sf="{SOBJECT_NS}">\n',
    ]
    parts += [_field(name, value) for name, value in notification.fields]
    parts.append("    </sObject>\n   </Notification>\n")
    return "".join(parts)


def _field(name: str, value: Any) -> str:
    if not FIELD_NAME.match(name):
        raise ValueError(f"not a field name: {name!r}")
    text = soap_value(value)
    if text is None:
        return f'     <sf:{name} xsi:nil="true"/>\n'
    return f"     <sf:{name}>{_text(text)}</sf:{name}>\n"


def soap_value(value: Any) -> str | None:
    """A field value as the SOAP API writes it, or None for an empty (nil) value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return repr(float(value))  # xsd:double, e.g. 45000.0
    if isinstance(value, datetime):
        return _utc_millis(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    match = _REST_DATETIME.match(text)
    if match:  # the REST form "2013-05-20T20:49:32.000+0000" becomes "….000Z"
        return f"{match.group(1)}{(match.group(2) or '.000')[:4].ljust(4, '0')}Z"
    return text


def _utc_millis(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: str) -> str:
    """Escaped character data; a CR is kept as ``&#13;`` so parsers do not fold it into LF."""
    return escape(_INVALID_XML_CHARS.sub("", value), {"\r": "&#13;"})


def is_ack(body: bytes) -> bool:
    """Whether a listener's HTTP 200 body acknowledges the message (``<Ack>true</Ack>``, §3.1).

    Parsed with defusedxml: the answer comes from a network peer. Anything unparsable, hostile
    or without an ``Ack`` of ``true`` (in any namespace) is no acknowledgement.
    """
    if len(body) > ACK_BODY_MAX:
        return False
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError):
        return False
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.rpartition("}")[2] == "Ack":
            return (element.text or "").strip() == "true"
    return False
