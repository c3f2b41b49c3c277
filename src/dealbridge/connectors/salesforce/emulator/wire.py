"""Salesforce's REST wire format at the emulator's edge: errors, JSON bodies, API versions.

Handlers raise :class:`SalesforceApiError` and return Python values; this module turns them into
what a REST client sees: error bodies are always JSON arrays (contracts §1.8), and an unknown or
retired API version is refused the way Salesforce refuses it (§1.1).
"""

from __future__ import annotations

import json
from typing import Any

from dealbridge.connectors.salesforce.models import DATA_PATH, NOT_FOUND, error_array

NEWEST_VERSION = 66  # §1.1: Spring '26 is the newest GA version this emulator offers
OLDEST_VERSION = 31  # §1.1: 21-30 retired Summer '25; 31-40 still served until Summer '28
RETIRED_VERSIONS = range(21, OLDEST_VERSION)  # → 410 GONE (§1.1, §1.8)
NOT_FOUND_MESSAGE = "The requested resource does not exist"  # §1.8
JSON_PARSER_ERROR = "JSON_PARSER_ERROR"
INVALID_INPUT = "INVALID_INPUT"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
_SEASONS = ("Winter", "Spring", "Summer")


class SalesforceApiError(Exception):
    """A REST error: one HTTP status and one ``errorCode`` (§1.8).

    Args:
        status: HTTP status (400, 401, 403, 404, …).
        code: Salesforce's ``errorCode`` (``statusCode`` in collections, §1.6).
        message: The human text Salesforce would send.
        fields: Field names the error is about, when there are any.
        headers: Extra response headers (e.g. ``Allow`` on 405).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, code, message, fields, headers)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields or [])
        self.headers = dict(headers or {})

    def body(self) -> list[dict[str, Any]]:
        """The REST body: a JSON array of one error (§1.8)."""
        return error_array(self.code, self.message, self.fields)

    def collection_error(self) -> dict[str, Any]:
        """One entry of a collections ``errors`` list: ``statusCode``, not ``errorCode`` (§1.6)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


def not_found(message: str = NOT_FOUND_MESSAGE) -> SalesforceApiError:
    """404 ``NOT_FOUND`` (§1.8)."""
    return SalesforceApiError(404, NOT_FOUND, message)


def bad_input(message: str, code: str = INVALID_INPUT) -> SalesforceApiError:
    """400 for a request whose shape is wrong (wording and code UNCONFIRMED per case)."""
    return SalesforceApiError(400, code, message)


def parse_json_body(raw: bytes) -> Any:
    """Decode a request body; Salesforce answers bad JSON with ``JSON_PARSER_ERROR``.

    Raises:
        SalesforceApiError: 400 ``JSON_PARSER_ERROR`` naming the line and column, as Salesforce's
            (Jackson) parser does.
    """
    if not raw.strip():
        raise bad_input(
            "The request body is empty; a JSON document is required.", JSON_PARSER_ERROR
        )
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        message = f"{exc.msg} at [line:{exc.lineno}, column:{exc.colno}]"
    except ValueError:  # not UTF-8
        message = "The request body is not UTF-8 text."
    raise bad_input(message, JSON_PARSER_ERROR)


def version_label(major: int) -> str:
    """The release name of an API version: 65 → ``Winter '26`` (§1.1).

    Three releases a year, Winter first; Winter '26 is v65.0, and the arithmetic holds back to
    v31.0 (Summer '14).
    """
    offset = major - 65
    year = 26 + offset // 3
    return f"{_SEASONS[offset % 3]} '{year:02d}"


def versions_body() -> list[dict[str, str]]:
    """``GET /services/data/``: every served version, oldest first (§1.1)."""
    return [
        {"label": version_label(major), "url": f"{DATA_PATH}/v{major}.0", "version": f"{major}.0"}
        for major in range(OLDEST_VERSION, NEWEST_VERSION + 1)
    ]


def parse_version(segment: str) -> str:
    """``v65.0`` → ``65.0``, refusing what this org does not serve.

    Raises:
        SalesforceApiError: 410 for a retired version (§1.1); 404 ``NOT_FOUND`` for anything
            else that is not a served version. The 410 body's ``errorCode`` is UNCONFIRMED.
    """
    if not (segment.startswith("v") and segment.endswith(".0") and segment[1:-2].isdigit()):
        raise not_found()
    major = int(segment[1:-2])
    if major in RETIRED_VERSIONS:
        raise SalesforceApiError(410, "GONE", f"API version {major}.0 has been retired.")
    if not OLDEST_VERSION <= major <= NEWEST_VERSION:
        raise not_found()
    return f"{major}.0"


def version_number(api_version: str) -> int:
    """``65.0`` → 65, for behaviour that changed between versions."""
    return int(api_version.split(".", 1)[0])
