"""Outbound Message bodies shared by the tests of this package."""

from __future__ import annotations

ORG_ID = "00D5w000004qGTOEA2"
ORG_ID15 = ORG_ID[:15]

# contracts/salesforce.md §3.1, verbatim.
CONTRACT_SAMPLE = b"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
 <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
  <OrganizationId>00D5w000004qGTOEA2</OrganizationId><ActionId>04k5w000000TSwMAAW</ActionId>\
<SessionId xsi:nil="true"/>
  <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/65.0/00D5w000004qGTO</EnterpriseUrl>
  <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/65.0/00D5w000004qGTO</PartnerUrl>
  <Notification><Id>04l5w00005286hAAAQ</Id><sObject xsi:type="sf:Opportunity" \
xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
   <sf:Id>0065w000023STAmAAO</sf:Id><sf:StageName>Closed Won</sf:StageName>\
<sf:IsWon>true</sf:IsWon><sf:Amount>45000.0</sf:Amount>
  </sObject></Notification>   <!-- up to 100 Notification elements [R24] -->
 </notifications></soapenv:Body></soapenv:Envelope>"""

NOTIFICATION = (
    '<Notification><Id>{id}</Id><sObject xsi:type="sf:Opportunity" '
    'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{fields}</sObject></Notification>'
)
DEFAULT_FIELDS = "<sf:Id>0065w000023STAmAAO</sf:Id><sf:IsWon>true</sf:IsWon>"


def envelope(
    inner: str,
    *,
    org_id: str | None = ORG_ID,
    action_id: str | None = "04k5w000000TSwMAAW",
    prolog: str = "",
) -> bytes:
    """A SOAP envelope around ``inner`` (the Notification elements), with the scalars given."""
    scalars = "" if org_id is None else f"<OrganizationId>{org_id}</OrganizationId>"
    scalars += "" if action_id is None else f"<ActionId>{action_id}</ActionId>"
    return (
        f"{prolog}"
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f'{scalars}<SessionId xsi:nil="true"/>{inner}'
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def notification(fields: str = DEFAULT_FIELDS, notification_id: str = "04l5w00005286hAAAQ") -> str:
    """One Notification element with the given sObject field elements."""
    return NOTIFICATION.format(id=notification_id, fields=fields)
