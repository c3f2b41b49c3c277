"""The SOAP 1.1 envelopes dealbridge writes for Outbound Messages (contracts/salesforce.md §3.1).

The Ack and the fault answer Salesforce; ``build_outbound_message`` writes the notification itself,
for tests and as the reference the emulator's sender mirrors (the emulator may not import this
module, so every namespace lives in ``models``). Written as text rather than with ElementTree so
the prefixes (``soapenv``, ``xsi``, ``sf``) are exactly Salesforce's, without touching
ElementTree's global prefix registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dealbridge.connectors.salesforce import models

if TYPE_CHECKING:
    from dealbridge.connectors.salesforce.outbound import Notification

API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # a Salesforce object or field API name
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FAULT_MAX_CHARS = 1000

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ENVELOPE_OPEN = (
    f'<soapenv:Envelope xmlns:soapenv="{models.SOAP_ENV_NS}" xmlns:xsi="{models.XSI_NS}">'
    "<soapenv:Body>"
)
_ENVELOPE_CLOSE = "</soapenv:Body></soapenv:Envelope>"


def build_ack(ok: bool = True) -> bytes:
    """The ``notificationsResponse`` Salesforce expects; ``<Ack>true</Ack>`` covers the message.

    Args:
        ok: False answers ``<Ack>false</Ack>``, which Salesforce treats as not delivered.
    """
    ack = "true" if ok else "false"
    response = (
        f'<notificationsResponse xmlns="{models.OUTBOUND_NS}"><Ack>{ack}</Ack>'
        "</notificationsResponse>"
    )
    return (_XML_DECLARATION + _ENVELOPE_OPEN + response + _ENVELOPE_CLOSE).encode()


def build_soap_fault(message: str) -> bytes:
    """A SOAP 1.1 Client fault for a refused message; Salesforce will retry it (§3.1).

    Args:
        message: Why the message was refused; cut to a bounded length and made XML-safe.
    """
    if len(message) > _FAULT_MAX_CHARS:
        message = message[:_FAULT_MAX_CHARS] + "…"
    text = _escape(_XML_ILLEGAL.sub("?", message))
    fault = (
        "<soapenv:Fault><faultcode>soapenv:Client</faultcode>"
        f"<faultstring>{text}</faultstring></soapenv:Fault>"
    )
    return (_XML_DECLARATION + _ENVELOPE_OPEN + fault + _ENVELOPE_CLOSE).encode()


def build_outbound_message(
    org_id: str,
    action_id: str,
    notifications: Iterable[Notification],
    *,
    enterprise_url: str,
    partner_url: str,
) -> bytes:
    """The ``notifications`` envelope exactly as contracts §3.1 shows it, ``SessionId`` empty.

    For tests and as the reference the emulator's sender mirrors. In each sObject ``sf:Id`` comes
    first, then the other fields in the order given.

    Raises:
        ValueError: No notification or more than 100, a field name that is not an API name, or
            text XML cannot carry.
    """
    items = list(notifications)
    if not 1 <= len(items) <= models.OUTBOUND_MAX_NOTIFICATIONS:
        raise ValueError(f"an Outbound Message carries 1 to 100 notifications, not {len(items)}")
    head = (
        f'\n <notifications xmlns="{models.OUTBOUND_NS}">\n'
        f"  <OrganizationId>{_escape(org_id)}</OrganizationId>"
        f"<ActionId>{_escape(action_id)}</ActionId>"
        '<SessionId xsi:nil="true"/>\n'
        f"  <EnterpriseUrl>{_escape(enterprise_url)}</EnterpriseUrl>\n"
        f"  <PartnerUrl>{_escape(partner_url)}</PartnerUrl>\n"
    )
    body = head + "".join(_notification_xml(item) for item in items) + " </notifications>"
    return (_XML_DECLARATION + _ENVELOPE_OPEN + body + _ENVELOPE_CLOSE).encode()


def _notification_xml(notification: Notification) -> str:
    """One ``Notification`` element, indented like the contract sample."""
    names = sorted(notification.fields, key=lambda name: name != "Id")
    fields = "".join(_field_xml(name, notification.fields[name]) for name in names)
    return (
        f"  <Notification><Id>{_escape(notification.id)}</Id>"
        f'<sObject xsi:type="sf:{_api_name(notification.sobject_type)}" '
        f'xmlns:sf="{models.SOBJECT_NS}">\n   {fields}\n  </sObject></Notification>\n'
    )


def _field_xml(name: str, value: Any) -> str:
    """``<sf:Name>value</sf:Name>``, or ``xsi:nil`` for None."""
    tag = f"sf:{_api_name(name)}"
    if value is None:
        return f'<{tag} xsi:nil="true"/>'
    return f"<{tag}>{_escape(_wire_text(value))}</{tag}>"


def _wire_text(value: Any) -> str:
    """How the SOAP API writes a value: ``true``/``false``, ``45000.0``, text as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return repr(value) if isinstance(value, float) else str(value)
    raise ValueError(f"cannot write a {type(value).__name__} into an Outbound Message")


def _api_name(name: str) -> str:
    if not API_NAME.match(name):
        raise ValueError(f"not a Salesforce API name: {name!r}")
    return name


def _escape(text: str) -> str:
    """Escape text content; refuse characters XML 1.0 cannot carry at all."""
    if _XML_ILLEGAL.search(text):
        raise ValueError("text contains characters XML 1.0 cannot carry")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
