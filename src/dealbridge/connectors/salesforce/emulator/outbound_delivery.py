"""One delivery attempt of Outbound Messages: the queued items, the batch, the POST, the log line.

A listener proves receipt only with HTTP 200 and ``<Ack>true</Ack>`` (contracts §3.1); a
timeout, a refused connection, any other status or body is a failure the sender retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from dealbridge.connectors.salesforce.emulator.outbound_clock import iso_utc
from dealbridge.connectors.salesforce.emulator.outbound_envelope import (
    CONTENT_TYPE,
    SOAP_ACTION,
    is_ack,
)

DROP_AFTER_SECONDS = 24 * 3600.0  # §3.1: dropped 24 h after it was queued
DROPPED = "dropped"
HEADERS = {"Content-Type": CONTENT_TYPE, "SOAPAction": SOAP_ACTION}


@dataclass(frozen=True)
class Notification:
    """One queued notification: an Outbound Message owes an endpoint news of one record."""

    notification_id: str
    action_id: str
    sobject: str
    record_id: str
    created_at: float  # emulated seconds


@dataclass
class DeliveryBatch:
    """Notifications sent in one SOAP message, and retried together while unacknowledged."""

    action_id: str
    notifications: list[Notification]
    attempts: int = 0
    due_at: float = 0.0

    @property
    def deadline(self) -> float:
        """When the batch is dropped: 24 h after its oldest notification was queued."""
        return min(n.created_at for n in self.notifications) + DROP_AFTER_SECONDS

    def log_entry(
        self,
        url: str,
        attempt: Attempt | None,
        now: float,
        next_at: float | None,
        *,
        delivered: bool = False,
        duplicate: bool = False,
    ) -> dict[str, Any]:
        """The delivery log's line for one POST, or for the drop when ``attempt`` is None."""
        error: str | None = "undelivered 24 h after it was queued"
        outcome = DROPPED
        if attempt is not None:
            outcome, error = ("delivered" if delivered else "retry"), attempt.error
        return {
            "endpoint": self.action_id,
            "url": url,
            "notification_ids": [n.notification_id for n in self.notifications],
            "opportunity_ids": [n.record_id for n in self.notifications],
            "attempt": self.attempts,
            "status": attempt.status if attempt else None,
            "error": error,
            "acked": bool(attempt and attempt.acked),
            "outcome": outcome,
            "duplicate": duplicate,
            "at": iso_utc(now),
            "next_retry_at": None if next_at is None else iso_utc(next_at),
        }


@dataclass(frozen=True)
class Attempt:
    """What one POST got back: an HTTP status or a transport error, and whether it was an Ack."""

    status: int | None
    error: str | None
    acked: bool = field(default=False)


async def post_envelope(client: httpx.AsyncClient, url: str, body: bytes) -> Attempt:
    """POST one SOAP message and judge the answer; never raises for network trouble."""
    try:
        response = await client.post(url, content=body, headers=HEADERS)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # timeouts, refusals, TLS, protocol
        detail = str(exc)
        return Attempt(None, type(exc).__name__ + (f": {detail}" if detail else ""))
    if response.status_code != httpx.codes.OK:
        return Attempt(response.status_code, f"HTTP {response.status_code}")
    if not is_ack(response.content):
        return Attempt(response.status_code, "no <Ack>true</Ack> in the response")
    return Attempt(response.status_code, None, acked=True)
