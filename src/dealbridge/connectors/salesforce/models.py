"""Wire facts of the Salesforce REST API shared by the client and the emulator.

Facts only, cited to ``shared/contracts/salesforce.md`` (§ numbers); the emulator may import only
this module of its connector.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_API_VERSION = "65.0"  # §1.1: Winter '26
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
DATA_PATH = "/services/data"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

QUERY_BATCH_MAX = 2000  # §1.2
QUERY_BATCH_MIN = 200  # §1.2: Sforce-Query-Options batchSize range
OFFSET_MAX = 2000  # §5
COMPOSITE_MAX = 25  # §1.6
COLLECTION_MAX = 200  # §1.6
OUTBOUND_MAX_NOTIFICATIONS = 100  # §3.1

LIMIT_INFO_HEADER = "Sforce-Limit-Info"  # §1.7
QUERY_OPTIONS_HEADER = "Sforce-Query-Options"

# §3.1 Outbound Messages
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"  # SOAP 1.1 over HTTP, both directions
OUTBOUND_MESSAGE_NAME = "Dealbridge_Closed_Won"  # the package's Outbound Message (salesforce/)
OUTBOUND_MESSAGE_PATH = "/hooks/salesforce/outbound-message/"  # + the secret token
# The fields the listener needs in every notification; the package's Outbound Message sends them.
OUTBOUND_MESSAGE_FIELDS = ("Id", "AccountId", "StageName", "IsWon", "SystemModstamp")
# Custom fields dealbridge writes back (DESIGN §1), per sObject; the package creates exactly these.
WRITE_BACK_FIELDS: dict[str, tuple[str, ...]] = {
    "Account": ("NetSuite_Customer_Id__c",),
    "Opportunity": (
        "NetSuite_Subscription_Ids__c",
        "NetSuite_Sync_Status__c",
        "NetSuite_Sync_Error__c",
        "NetSuite_Synced_At__c",
    ),
}
SYNC_STATUSES = ("Pending", "Synced", "Failed", "Not Supported")  # NetSuite_Sync_Status__c values

# §1.8 error codes
INVALID_SESSION_ID = "INVALID_SESSION_ID"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
UNABLE_TO_LOCK_ROW = "UNABLE_TO_LOCK_ROW"
MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
NOT_FOUND = "NOT_FOUND"
ENTITY_IS_DELETED = "ENTITY_IS_DELETED"
REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
PROCESSING_HALTED = "PROCESSING_HALTED"
ALL_OR_NONE_OPERATION_ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
DUPLICATE_VALUE = "DUPLICATE_VALUE"

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_ID_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID15 = re.compile(r"^[a-zA-Z0-9]{15}$")
_ID18 = re.compile(r"^[a-zA-Z0-9]{18}$")


def error_array(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """A REST error body: always a JSON array (§1.8; simple-salesforce reads ``[0]``)."""
    return [{"message": message, "errorCode": code, "fields": list(fields or [])}]


def limit_info(used: int, allocation: int) -> str:
    """The ``Sforce-Limit-Info`` value; must start with ``api-usage=`` (§1.7)."""
    return f"api-usage={used}/{allocation}"


def parse_limit_info(value: str) -> tuple[int, int] | None:
    """``(used, allocation)`` from a ``Sforce-Limit-Info`` header, or None."""
    match = _LIMIT_INFO.search(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def to_id18(record_id: str) -> str:
    """The case-safe 18-character form of a 15- or 18-character Salesforce id.

    Each of the three 5-character chunks contributes one suffix letter: bit ``i`` is set when
    character ``i`` of the chunk is an upper-case letter.
    """
    if _ID18.match(record_id):
        return record_id
    if not _ID15.match(record_id):
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    suffix = ""
    for start in (0, 5, 10):
        chunk = record_id[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _ID_SUFFIX_ALPHABET[bits]
    return record_id + suffix


def is_salesforce_id(value: str) -> bool:
    """Whether a string has the shape of a 15- or 18-character id."""
    return bool(_ID15.match(value) or _ID18.match(value))


def sobject_url(api_version: str, sobject: str, record_id: str) -> str:
    """The ``attributes.url`` of a record (§1.2)."""
    return f"{DATA_PATH}/v{api_version}/sobjects/{sobject}/{record_id}"


# Added with the client
SOQL_MAX_LENGTH = 100_000  # §1.4: characters in one SOQL statement
CLIENT_CREDENTIALS_GRANT = "client_credentials"  # §2
