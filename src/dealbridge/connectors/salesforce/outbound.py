"""Salesforce Outbound Messages: read the SOAP ``notifications`` push, answer with an Ack.

Salesforce tells dealbridge about a won deal by POSTing a SOAP 1.1 envelope to a public URL
(``shared/contracts/salesforce.md`` §3.1), so the body is untrusted input from the internet.
Why each rule below exists:

- The size cap is checked before any parsing: the parser never sees a body it would have to refuse.
- Parsing goes only through defusedxml with DTDs, entities and external references forbidden: a
  SOAP message may not carry a DTD at all (SOAP 1.1 §3), and a DTD is what every expansion and
  file-disclosure attack needs. Processing instructions are also forbidden by SOAP 1.1 §3 and are
  refused as soon as the parser meets one; XInclude elements are refused although ElementTree never
  resolves them, so nothing downstream is tempted to.
- ``OrganizationId`` is checked against an allowlist (§3.1 Security: Salesforce's IP ranges do not
  identify the org). Ids compare on their 15-character prefix so 15- and 18-character forms match.
- Everything else a real Salesforce would never send (no ``notifications`` element, more than 100
  notifications, a notification without an id) is refused with a message naming what is wrong.

Every refusal is a ``WebhookError`` whose ``status`` is the HTTP status to answer with; the listener
sends ``build_soap_fault`` with it. Salesforce retries anything but a 200 Ack for 24 h (§3.1). The
envelopes dealbridge writes (Ack, fault, the message itself) live in ``envelopes`` and are
re-exported here.

Field typing rule (the message carries no per-field types): ``xsi:nil="true"`` is None; the
text ``true``/``false`` is a bool; the fields in ``NUMERIC_FIELDS`` are floats (non-numeric text
there is refused); everything else, dates and datetimes included, stays the string Salesforce sent,
so nothing is guessed from how text looks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.envelopes import (
    API_NAME,
    build_ack,
    build_outbound_message,
    build_soap_fault,
)
from dealbridge.errors import WebhookError

__all__ = [
    "ACK_CONTENT_TYPE",
    "DEFAULT_MAX_BYTES",
    "HOSTILE_XML_MESSAGE",
    "NUMERIC_FIELDS",
    "Notification",
    "OutboundMessage",
    "build_ack",
    "build_outbound_message",
    "build_soap_fault",
    "parse_outbound_message",
]

ACK_CONTENT_TYPE = models.SOAP_CONTENT_TYPE
DEFAULT_MAX_BYTES = 1_000_000
# Standard number fields an Outbound Message on Opportunity can carry (contracts §4).
NUMERIC_FIELDS = frozenset({"Amount", "Probability", "ExpectedRevenue", "TotalOpportunityQuantity"})
HOSTILE_XML_MESSAGE = "DTDs and entities are not allowed in Outbound Messages"

_XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_ENVELOPE = f"{{{models.SOAP_ENV_NS}}}Envelope"
_BODY = f"{{{models.SOAP_ENV_NS}}}Body"
_NIL = f"{{{models.XSI_NS}}}nil"
_XSI_TYPE = f"{{{models.XSI_NS}}}type"
_XSI_TYPE_VALUE = re.compile(r"^(?:[A-Za-z_][\w.-]*:)?([A-Za-z][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class Notification:
    """One record of an Outbound Message.

    Attributes:
        id: The Notification ``Id``; Salesforce reuses it on every retry, so it is the dedupe key.
        sobject_type: The type from ``xsi:type`` (``"sf:Opportunity"`` → ``"Opportunity"``).
        fields: The record's fields, typed by the module's rule; ``fields["Id"]`` as sent.
    """

    id: str
    sobject_type: str
    fields: dict[str, Any]

    @property
    def record_id(self) -> str:
        """The record's id in its 18-character form, the one dealbridge keys everything on."""
        return models.to_id18(str(self.fields["Id"]))

    @property
    def opportunity_id(self) -> str:
        """The 18-character Opportunity id; refuses a notification about another object."""
        if self.sobject_type != "Opportunity":
            raise WebhookError(
                f"notification {self.id} is about a {self.sobject_type}, not an Opportunity"
            )
        return self.record_id


@dataclass(frozen=True)
class OutboundMessage:
    """A parsed and validated ``notifications`` envelope (contracts §3.1).

    Attributes:
        organization_id: The sending org, as Salesforce wrote it (already on the allowlist).
        action_id: The Outbound Message definition that fired.
        session_id: None: Salesforce has sent it empty since Feb 2026 (§3.1), and it is unused.
        enterprise_url: The org's enterprise SOAP endpoint, when sent.
        partner_url: The org's partner SOAP endpoint, when sent.
        notifications: 1 to 100 notifications, in message order.
    """

    organization_id: str
    action_id: str
    session_id: str | None
    enterprise_url: str | None
    partner_url: str | None
    notifications: list[Notification]


class _ProcessingInstructionError(Exception):
    """Raised from inside the parser so a processing instruction stops it at once."""


class _EnvelopeBuilder:
    """Parser target: builds the tree like ``TreeBuilder`` and refuses processing instructions.

    ``TreeBuilder`` alone drops processing instructions silently; SOAP 1.1 §3 forbids them.
    """

    def __init__(self) -> None:
        self._tree = TreeBuilder()

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        return self._tree.start(tag, attrs)

    def end(self, tag: str) -> Element:
        return self._tree.end(tag)

    def data(self, text: str) -> None:
        self._tree.data(text)

    def pi(self, target: str, text: str) -> None:
        raise _ProcessingInstructionError(target)

    def close(self) -> Element:
        return self._tree.close()


def parse_outbound_message(
    body: bytes, *, allowed_org_ids: Collection[str], max_bytes: int = DEFAULT_MAX_BYTES
) -> OutboundMessage:
    """Parse and validate an Outbound Message body.

    Args:
        body: The raw HTTP request body.
        allowed_org_ids: Org ids (15 or 18 characters) whose messages are accepted; a single
            string is read as a comma-separated list, so ``SalesforceSettings.org_id`` can be
            passed as is. Empty refuses everything.
        max_bytes: Largest body accepted; checked before parsing.

    Returns:
        The message, with every notification checked and its fields typed.

    Raises:
        WebhookError: With ``status`` 413 (too large), 403 (org not allowed) or 400 (anything
            else: hostile or malformed XML, not an Outbound Message, bad notification).
    """
    if len(body) > max_bytes:
        raise WebhookError(
            f"the Outbound Message is {len(body)} bytes; the limit is {max_bytes}", status=413
        )
    notifications = _notifications_element(_parse_xml(body))
    organization_id = _check_org(_scalar(notifications, "OrganizationId"), allowed_org_ids)
    return OutboundMessage(
        organization_id=organization_id,
        action_id=_required(notifications, "ActionId"),
        session_id=_scalar(notifications, "SessionId") or None,
        enterprise_url=_scalar(notifications, "EnterpriseUrl"),
        partner_url=_scalar(notifications, "PartnerUrl"),
        notifications=_read_notifications(notifications),
    )


def _parse_xml(body: bytes) -> Element:
    """Parse with defusedxml, turning every parser failure into a 400 ``WebhookError``."""
    parser = DefusedXMLParser(
        target=_EnvelopeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        root: Element = parser.close()
    except DefusedXmlException as exc:
        raise WebhookError(f"{HOSTILE_XML_MESSAGE} ({_cut(exc, 200)})") from None
    except _ProcessingInstructionError as exc:
        raise WebhookError(
            f"processing instructions are not allowed in SOAP messages (found <?{_cut(exc)}?>)"
        ) from None
    except ParseError as exc:
        raise WebhookError(_malformed(exc)) from None
    except (LookupError, ValueError) as exc:  # unknown or multi-byte encoding declarations
        raise WebhookError(f"unsupported character encoding: {_cut(exc)}") from None
    _refuse_xinclude(root)
    return root


def _malformed(exc: ParseError) -> str:
    """The parser's complaint with its position (1-based column, as editors count)."""
    line, offset = getattr(exc, "position", (0, 0))
    code = getattr(exc, "code", None)
    reason = expat.ErrorString(code) if isinstance(code, int) else str(exc)
    return f"malformed XML at line {line}, column {offset + 1}: {reason}"


def _refuse_xinclude(root: Element) -> None:
    """Refuse XInclude elements: never resolved here, and never legitimate in a notification."""
    for element in root.iter():
        if element.tag.startswith(f"{{{_XINCLUDE_NS}}}"):
            raise WebhookError("XInclude is not allowed in Outbound Messages")


def _notifications_element(root: Element) -> Element:
    """The ``notifications`` element inside a SOAP 1.1 Envelope/Body, or a 400."""
    if root.tag != _ENVELOPE:
        raise WebhookError(f"not a SOAP 1.1 envelope: the root element is {_cut(root.tag)}")
    body = root.find(_BODY)
    found = None if body is None else body.find(_outbound("notifications"))
    if found is None:
        raise WebhookError(
            f"not an Outbound Message: no notifications element in namespace {models.OUTBOUND_NS}"
        )
    return found


def _check_org(organization_id: str | None, allowed_org_ids: Collection[str]) -> str:
    """Return the org id when it is on the allowlist; a 403 otherwise."""
    allowed = _org_prefixes(allowed_org_ids)
    if not allowed:
        raise WebhookError(
            "no Salesforce org is allowed to send Outbound Messages: "
            "set DEALBRIDGE_SALESFORCE__ORG_ID",
            status=403,
        )
    if not organization_id:
        raise WebhookError("the Outbound Message has no OrganizationId", status=403)
    if organization_id[:15] not in allowed or not models.is_salesforce_id(organization_id):
        raise WebhookError(f"OrganizationId {_cut(organization_id)} is not allowed", status=403)
    return organization_id


def _org_prefixes(allowed_org_ids: Collection[str]) -> frozenset[str]:
    """The 15-character prefixes of the well-formed allowlist entries."""
    entries = allowed_org_ids.split(",") if isinstance(allowed_org_ids, str) else allowed_org_ids
    cleaned = (entry.strip() for entry in entries)
    return frozenset(entry[:15] for entry in cleaned if models.is_salesforce_id(entry))


def _read_notifications(notifications: Element) -> list[Notification]:
    """Every ``Notification``, checked; 1 to ``OUTBOUND_MAX_NOTIFICATIONS`` of them (§3.1)."""
    elements = notifications.findall(_outbound("Notification"))
    if not elements:
        raise WebhookError("the Outbound Message contains no Notification")
    if len(elements) > models.OUTBOUND_MAX_NOTIFICATIONS:
        raise WebhookError(
            f"the Outbound Message contains {len(elements)} notifications; "
            f"Salesforce sends at most {models.OUTBOUND_MAX_NOTIFICATIONS}"
        )
    return [_read_notification(element, index) for index, element in enumerate(elements)]


def _read_notification(element: Element, index: int) -> Notification:
    """One ``Notification``: its ``Id`` and its ``sObject``; errors name it by index."""
    notification_id = _scalar(element, "Id", index)
    if not notification_id or not models.is_salesforce_id(notification_id):
        raise _bad(index, "has no valid Id")
    sobject = element.find(_outbound("sObject"))
    if sobject is None:
        raise _bad(index, "has no sObject")
    fields = _read_fields(sobject, index)
    record_id = fields.get("Id")
    if not isinstance(record_id, str) or not models.is_salesforce_id(record_id):
        raise _bad(index, "has an sObject without a valid sf:Id")
    return Notification(notification_id, _sobject_type(sobject, index), fields)


def _sobject_type(sobject: Element, index: int) -> str:
    """``"sf:Opportunity"`` → ``"Opportunity"``; the prefix's binding is not checked."""
    match = _XSI_TYPE_VALUE.match(sobject.get(_XSI_TYPE, ""))
    if match is None:
        raise _bad(index, "has an sObject without a valid xsi:type")
    return match.group(1)


def _read_fields(sobject: Element, index: int) -> dict[str, Any]:
    """The sObject's flat field elements, typed; each must be ``sf:<ApiName>`` and appear once."""
    fields: dict[str, Any] = {}
    for child in sobject:
        name = _field_name(child, index)
        if name in fields:
            raise _bad(index, f"repeats the field {name}")
        if len(child):
            raise _bad(index, f"has nested elements in the field {name}")
        fields[name] = _typed(name, child, index)
    return fields


def _field_name(child: Element, index: int) -> str:
    """The API name of a field element in the sObject namespace."""
    namespace, _, name = child.tag[1:].partition("}") if child.tag[:1] == "{" else ("", "", "")
    if namespace != models.SOBJECT_NS or not API_NAME.match(name):
        raise _bad(index, f"has an unexpected element {_cut(child.tag)} in its sObject")
    return name


def _typed(name: str, element: Element, index: int) -> Any:
    """A field's value by the module's typing rule (see the module docstring)."""
    if element.get(_NIL) in ("true", "1"):
        return None
    text = element.text or ""
    if name in NUMERIC_FIELDS:
        return _number(name, text, index)
    if text in ("true", "false"):
        return text == "true"
    return text


def _number(name: str, text: str, index: int) -> float | None:
    """A finite float, None for empty text; anything else is refused rather than kept as text."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise _bad(index, f"has a non-numeric {name}: {_cut(text)}") from None
    if not math.isfinite(value):
        raise _bad(index, f"has a non-finite {name}: {_cut(text)}")
    return value


def _scalar(parent: Element, name: str, index: int | None = None) -> str | None:
    """Text of a child that may appear at most once; None when absent or ``xsi:nil``."""
    found = parent.findall(_outbound(name))
    if len(found) > 1:
        where = "the Outbound Message" if index is None else f"notification {index}"
        raise WebhookError(f"{where} has {len(found)} {name} elements")
    if not found or found[0].get(_NIL) in ("true", "1"):
        return None
    return (found[0].text or "").strip()


def _required(parent: Element, name: str) -> str:
    """A scalar the message must carry."""
    value = _scalar(parent, name)
    if not value:
        raise WebhookError(f"the Outbound Message has no {name}")
    return value


def _outbound(name: str) -> str:
    return f"{{{models.OUTBOUND_NS}}}{name}"


def _bad(index: int, problem: str) -> WebhookError:
    return WebhookError(f"notification {index} {problem}", context={"notification_index": index})


def _cut(value: object, limit: int = 80) -> str:
    """A bounded excerpt of untrusted text for an error message."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
