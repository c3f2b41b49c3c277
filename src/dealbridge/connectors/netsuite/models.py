"""Wire facts of SuiteTalk REST shared by the client and the emulator.

Everything here is a fact about NetSuite, cited to ``shared/contracts/netsuite.md`` (§ numbers),
never behaviour of ours; the emulator may import only this module of its connector.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REST_PREFIX = "/services/rest"
RECORD_PATH = "/record/v1"
SUITEQL_PATH = "/query/v1/suiteql"
TOKEN_PATH = "/auth/oauth2/v1/token"  # noqa: S105 - a URL path, not a secret
GOVERNANCE_PATH = "/system/v1/governanceLimits"

PROPERTY_VALIDATION_HEADER = "X-NetSuite-PropertyNameValidation"
SUITEQL_MAX_PAGE = 1000  # §4
SUITEQL_MAX_ROWS = 100_000  # §4
COLLECTION_MAX_PAGE = 1000  # §2.3
TOKEN_LIFETIME_SECONDS = 3600  # §7.2
OAUTH2_MAX_ASSERTION_SECONDS = 3600  # §7.2: exp - iat must not exceed 60 min
OAUTH2_ALGORITHMS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# §5 error codes
CONCURRENCY_LIMIT_EXCEEDED = "CONCURRENCY_LIMIT_EXCEEDED"
INVALID_LOGIN = "INVALID_LOGIN"
INVALID_LOGIN_DETAIL = "Invalid login attempt."
INVALID_CONTENT = "INVALID_CONTENT"
INVALID_KEY_OR_REF = "INVALID_KEY_OR_REF"
USER_ERROR = "USER_ERROR"
NONEXISTENT_ID = "NONEXISTENT_ID"
UNEXPECTED_ERROR = "UNEXPECTED_ERROR"
INSUFFICIENT_PERMISSION = "INSUFFICIENT_PERMISSION"

# §9: external ids are unique within a record group, not just a type. Types not listed form
# their own group.
ENTITY_GROUP = frozenset(
    {"customer", "contact", "vendor", "employee", "partner", "lead", "prospect", "job"}
)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")


def record_group(record_type: str) -> str:
    """The namespace an external id of this record type must be unique in (§9)."""
    return "entity" if record_type in ENTITY_GROUP else record_type


def is_valid_external_id(value: str) -> bool:
    """Letters, digits, ``_`` and ``-`` only: ``|`` would be read as a multi-select (§2)."""
    return bool(_EXTERNAL_ID.match(value))


def realm_of(account: str) -> str:
    """TBA ``realm``: upper-case with an underscore, e.g. ``1234567_SB1`` (§1)."""
    return account.strip().upper().replace("-", "_")


def host_label_of(account: str) -> str:
    """Host label: lower-case with ``-``, e.g. ``1234567-sb1`` (§1)."""
    return account.strip().lower().replace("_", "-")


def default_base_url(account: str) -> str:
    """``https://<host label>.suitetalk.api.netsuite.com/services/rest`` (§1)."""
    return f"https://{host_label_of(account)}.suitetalk.api.netsuite.com{REST_PREFIX}"


def error_title(status: int) -> str:
    """The RFC 7807 ``title`` NetSuite sends for a status."""
    return _TITLES.get(status, "Error")


def error_body(
    status: int, code: str, detail: str, error_path: str | None = None
) -> dict[str, Any]:
    """An RFC 7807 body in NetSuite's shape (§5)."""
    item: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if error_path:
        item["o:errorPath"] = error_path
    return {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        "title": error_title(status),
        "status": status,
        "o:errorDetails": [item],
    }


class ErrorDetail(BaseModel):
    """One entry of ``o:errorDetails``."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    detail: str = ""
    error_code: str | None = Field(default=None, alias="o:errorCode")
    error_path: str | None = Field(default=None, alias="o:errorPath")
    error_url_path: str | None = Field(default=None, alias="o:urlPath")
    error_header: str | None = Field(default=None, alias="o:errorHeader")
    error_query_param: str | None = Field(default=None, alias="o:errorQueryParam")


class ErrorBody(BaseModel):
    """NetSuite's RFC 7807 error document (§5)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    type: str | None = None
    title: str | None = None
    status: int | None = None
    details: list[ErrorDetail] = Field(default_factory=list, alias="o:errorDetails")


class GovernanceLimits(BaseModel):
    """``GET system/v1/governanceLimits`` (Oracle help, article_0625010817)."""

    model_config = ConfigDict(extra="allow")

    accountConcurrencyLimit: int
    accountUnallocatedConcurrencyLimit: int | None = None
    integrationConcurrencyLimit: int | None = None
    integrationLimitType: str | None = None

    def effective_limit(self) -> int:
        """The number of requests this integration may have in flight."""
        if self.integrationLimitType == "integrationSpecific" and self.integrationConcurrencyLimit:
            return self.integrationConcurrencyLimit
        if self.accountUnallocatedConcurrencyLimit:
            return self.accountUnallocatedConcurrencyLimit
        return self.accountConcurrencyLimit


class Page(BaseModel):
    """A collection or SuiteQL page (§2.3, §4)."""

    model_config = ConfigDict(extra="allow")

    links: list[dict[str, Any]] = Field(default_factory=list)
    count: int = 0
    hasMore: bool = False
    offset: int = 0
    totalResults: int | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)
