"""The one exception inside the emulator: an answer in NetSuite's error shape."""

from __future__ import annotations

from typing import Any

from dealbridge.connectors.netsuite.models import error_body


class NetSuiteProblem(Exception):
    """Raised anywhere in the emulator; the app turns it into an RFC 7807 response.

    Args:
        status: HTTP status.
        code: ``o:errorCode``.
        detail: The human text, worded like NetSuite's.
        error_path: ``o:errorPath``, a JSON path into the request body.
        headers: Extra response headers (e.g. ``WWW-Authenticate``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        error_path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, code, detail, error_path, headers)
        self.status = status
        self.code = code
        self.detail = detail
        self.error_path = error_path
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON document to send."""
        return error_body(self.status, self.code, self.detail, self.error_path)
