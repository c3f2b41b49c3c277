"""The Outbound Message listener: ``POST /hooks/salesforce/outbound-message/{token}``.

Salesforce pushes a SOAP ``notifications`` envelope when an opportunity becomes Closed Won
(contracts/salesforce.md §3.1) and retries anything but an ``<Ack>true</Ack>`` for 24 hours. So
the one rule here: **the Ack goes out only after every deal of the message is durably queued**
(``enqueue_deal`` returns once the workflow row is in DBOS's database). A crash, a database error
or a timeout before that point answers nothing or a 500 SOAP fault, Salesforce sends the message
again, and the deterministic workflow id (``deal:<OpportunityId>:<SystemModstamp>``) turns every
repeat — and every reordered or doubled delivery — into a no-op.

Checks, cheapest first, each before the body is trusted (DESIGN §8):

1. The path token, compared in constant time with ``settings.webhook_token``. Wrong, missing or
   unconfigured all get the same 404 an unknown URL gets, so a prober learns nothing about which
   part was wrong. Refusals are counted (``HookCounters``) and logged without the token.
2. ``Content-Type: text/xml`` (SOAP 1.1), else 415.
3. The body, read as a stream and abandoned past ``webhook_max_bytes`` (413), so an oversized
   body is never buffered whole.
4. ``parse_outbound_message`` (defusedxml, the ``OrganizationId`` allowlist
   ``salesforce.org_id``): its ``WebhookError`` answers with its status and a SOAP fault.

Then each notification becomes a ``DealChange``: one whose ``IsWon`` is present and not true is
skipped (the package's Outbound Message fires only when IsWon becomes true; anything else is not
a won deal), one without ``IsWon`` is queued anyway (the workflow checks the flow's trigger on
the deal it reads). A notification without ``SystemModstamp`` (an Outbound Message configured
without that field) falls back to the workflow id
``deal:<OpportunityId>:notification:<NotificationId>``: Salesforce reuses the Notification Id on
every retry of the same notification, so retries still dedupe.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.responses import Response

from dealbridge.connectors.salesforce.models import (
    OUTBOUND_MESSAGE_PATH,
    is_salesforce_id,
    to_id18,
)
from dealbridge.connectors.salesforce.outbound import (
    ACK_CONTENT_TYPE,
    Notification,
    OutboundMessage,
    build_ack,
    build_soap_fault,
    parse_outbound_message,
)
from dealbridge.errors import DealbridgeError, WebhookError
from dealbridge.sync.stamps import salesforce_instant
from dealbridge.sync.triggers import enqueue_deal, start_on_queue, trigger_info
from dealbridge.web.context import web_context
from dealbridge.web.security.roles import allow_anonymous

TRIGGER = "outbound_message"
SOAP_MEDIA_TYPE = "text/xml"
ENQUEUE_FAILED = "dealbridge could not queue the deals; send the message again"
FALLBACK_ID = "deal:{opportunity}:notification:{notification}"
_log = structlog.get_logger("dealbridge.hooks")

router = APIRouter(tags=["hooks"], dependencies=[Depends(allow_anonymous)])


@dataclass(frozen=True)
class DealChange:
    """One won deal a notification announces, with what its workflow id is made of."""

    opportunity_id: str
    account_id: str | None
    system_modstamp: str | None
    notification_id: str

    @property
    def fallback_workflow_id(self) -> str:
        """The id used when the notification carries no ``SystemModstamp``."""
        return FALLBACK_ID.format(
            opportunity=self.opportunity_id, notification=to_id18(self.notification_id)
        )


Enqueue = Callable[[DealChange], Awaitable[str]]


@dataclass
class HookCounters:
    """What the listener did since the app started (one per app; read by tests and the console).

    Attributes:
        refused: Refusals by reason: ``token``, ``content_type``, ``too_large``, ``org``,
            ``message``.
        acked: Messages answered with an Ack.
        enqueued: Notifications queued (duplicates included: the engine makes them no-ops).
        skipped: Notifications about a deal that is not won.
        failed: Messages answered 500 because queueing failed.
    """

    refused: Counter[str] = field(default_factory=Counter)
    acked: int = 0
    enqueued: int = 0
    skipped: int = 0
    failed: int = 0


def hook_counters(app: FastAPI) -> HookCounters:
    """The counters of ``app``, created on first use."""
    counters = getattr(app.state, "hook_counters", None)
    if not isinstance(counters, HookCounters):
        counters = HookCounters()
        app.state.hook_counters = counters
    return counters


async def enqueue_change(change: DealChange) -> str:
    """Durably queue the deal's workflow; returns its id (the same for a repeat)."""
    if change.system_modstamp is not None:
        return await enqueue_deal(
            change.opportunity_id,
            account_id=change.account_id,
            system_modstamp=change.system_modstamp,
            trigger=TRIGGER,
            trigger_ref=change.notification_id,
        )
    workflow_id = change.fallback_workflow_id
    info = trigger_info(
        TRIGGER,
        account_id=change.account_id,
        system_modstamp=None,
        trigger_ref=change.notification_id,
    )
    await start_on_queue(workflow_id, change.opportunity_id, info)
    return workflow_id


def change_enqueuer() -> Enqueue:
    """FastAPI dependency: how changes are queued (tests override it)."""
    return enqueue_change


@router.post(OUTBOUND_MESSAGE_PATH + "{token}", include_in_schema=False)
async def outbound_message(
    token: str, request: Request, enqueue: Annotated[Enqueue, Depends(change_enqueuer)]
) -> Response:
    """Queue every won deal of an Outbound Message, then Ack (module docstring)."""
    settings = web_context(request).settings
    counters = hook_counters(request.app)
    if not token_matches(token, settings.webhook_token):
        return _refuse_token(request, counters)
    try:
        _check_content_type(request.headers.get("content-type"))
        body = await read_capped(request, settings.webhook_max_bytes)
        message = parse_outbound_message(
            body, allowed_org_ids=settings.salesforce.org_id, max_bytes=settings.webhook_max_bytes
        )
        changes, skipped = deal_changes(message)
    except WebhookError as error:
        return _refuse_message(request, counters, error)
    try:
        workflow_ids = [await enqueue(change) for change in changes]
    except Exception as exc:
        counters.failed += 1
        _log.exception("outbound_message_enqueue_failed", error=type(exc).__name__)
        return soap_fault(500, ENQUEUE_FAILED)
    counters.acked += 1
    counters.enqueued += len(workflow_ids)
    counters.skipped += skipped
    _log.info("outbound_message_acked", queued=len(workflow_ids), skipped=skipped)
    return Response(build_ack(), media_type=ACK_CONTENT_TYPE)


# -- checks -------------------------------------------------------------------------------------


def token_matches(given: str, configured: SecretStr | None) -> bool:
    """Constant-time comparison; an unset token matches nothing.

    Both sides are hashed first, so the comparison takes the same time whatever the lengths.
    """
    expected = configured.get_secret_value() if configured is not None else ""
    same = hmac.compare_digest(_digest(given), _digest(expected))
    return bool(expected) and same


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _check_content_type(header: str | None) -> None:
    media_type = (header or "").split(";", 1)[0].strip().lower()
    if media_type != SOAP_MEDIA_TYPE:
        raise WebhookError(
            f"an Outbound Message is SOAP 1.1: Content-Type must be {SOAP_MEDIA_TYPE}", status=415
        )


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The body, read chunk by chunk and abandoned as soon as it passes ``max_bytes``.

    Raises:
        WebhookError: 413 when the declared or the actual length is over the cap.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(int(declared), max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(len(body), max_bytes)
    return bytes(body)


def _too_large(size: int, max_bytes: int) -> WebhookError:
    return WebhookError(f"the Outbound Message is over {max_bytes} bytes ({size}+)", status=413)


# -- notifications → deal changes -----------------------------------------------------------------


def deal_changes(message: OutboundMessage) -> tuple[list[DealChange], int]:
    """The won deals of a message (in message order) and how many notifications were skipped.

    Every notification is checked before any deal is queued, so a malformed one refuses the
    whole message (400) rather than leaving half of it queued.

    Raises:
        WebhookError: 400 for a notification about another object or with malformed fields.
    """
    changes: list[DealChange] = []
    skipped = 0
    for index, notification in enumerate(message.notifications):
        change = deal_change(notification, index)
        if change is None:
            skipped += 1
        else:
            changes.append(change)
    return changes, skipped


def deal_change(notification: Notification, index: int) -> DealChange | None:
    """The deal change of one notification; None when its ``IsWon`` says it is not won."""
    fields = notification.fields
    opportunity_id = notification.opportunity_id
    if "IsWon" in fields and fields["IsWon"] is not True:
        return None
    return DealChange(
        opportunity_id=opportunity_id,
        account_id=_account_id(fields.get("AccountId"), index),
        system_modstamp=_stamp(fields.get("SystemModstamp"), index),
        notification_id=notification.id,
    )


def _account_id(value: Any, index: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not is_salesforce_id(value):
        raise WebhookError(f"notification {index} has a malformed AccountId")
    return to_id18(value)


def _stamp(value: Any, index: int) -> str | None:
    if value is None or value == "":
        return None
    try:
        return salesforce_instant(str(value))
    except DealbridgeError:
        raise WebhookError(f"notification {index} has a malformed SystemModstamp") from None


# -- answers --------------------------------------------------------------------------------------


def soap_fault(status: int, message: str) -> Response:
    """A SOAP 1.1 fault with ``status``; Salesforce retries the message later."""
    return Response(build_soap_fault(message), status_code=status, media_type=ACK_CONTENT_TYPE)


def _refuse_token(request: Request, counters: HookCounters) -> Response:
    """The answer FastAPI gives an unknown URL, so a wrong token looks like no endpoint."""
    counters.refused["token"] += 1
    _log.warning("outbound_message_refused", reason="token", client=_client(request))
    return JSONResponse({"detail": "Not Found"}, status_code=404)


def _refuse_message(request: Request, counters: HookCounters, error: WebhookError) -> Response:
    reason = {403: "org", 413: "too_large", 415: "content_type"}.get(error.status, "message")
    counters.refused[reason] += 1
    _log.warning(
        "outbound_message_refused",
        reason=reason,
        status=error.status,
        detail=error.message,
        client=_client(request),
    )
    return soap_fault(error.status, error.message)


def _client(request: Request) -> str | None:
    return request.client.host if request.client is not None else None
