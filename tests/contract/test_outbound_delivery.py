"""Outbound Messages end to end: the client closes a deal, the emulator pushes SOAP, we Ack.

A small HTTP receiver runs in a thread on 127.0.0.1 and reads every POST with dealbridge's own
``parse_outbound_message`` (the org allowlist holding only the emulator's org) and answers
``build_ack()`` — or 500 while it is told to refuse. Deals are closed through the real
``SalesforceClient`` over HTTP (sObject PATCH, Composite, Collections). The emulator runs its
retry clock 1000 times faster than real time, so its 15 s, 30 s… backoff passes in milliseconds;
the tests poll the delivery log with deadlines and never sleep. § refers to
``shared/contracts/salesforce.md`` §3.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dealbridge.connectors.salesforce.outbound import (
    ACK_CONTENT_TYPE,
    Notification,
    OutboundMessage,
    build_ack,
    build_soap_fault,
    parse_outbound_message,
)
from dealbridge.connectors.salesforce.results import SubRequest
from dealbridge.errors import RemoteRejectedError, WebhookError
from tests.support.salesforce import (
    ClientRun,
    Info,
    Row,
    SalesforceHooks,
    make_client,
    running_salesforce,
    wait_until,
)

pytestmark = pytest.mark.anyio

TIME_SCALE = 1000  # emulated seconds per real second
CLOSED_WON = {"StageName": "Closed Won"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- the receiver ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One POST the receiver got: what it parsed (or why it refused), and its answer."""

    message: OutboundMessage | None
    status: int
    error: str | None = None


class OutboundReceiver:
    """A listener for Outbound Messages that refuses its first ``refuse_first`` POSTs.

    A refusal is a 500 with a SOAP fault, or (``nack``) a 200 whose Ack is false.
    """

    def __init__(self, org_id: str, refuse_first: int = 0, *, nack: bool = False) -> None:
        self.org_id = org_id
        self.refuse_first = refuse_first
        self.nack = nack
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.receiver = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Where the emulator should POST."""
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/hooks/salesforce/outbound-message/s3cret"

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """Parse a POST body; 500 while refusing, the parser's status if it refuses, else Ack."""
        with self._lock:
            try:
                message = parse_outbound_message(body, allowed_org_ids=[self.org_id])
            except WebhookError as exc:
                self.received.append(Received(None, exc.status or 400, str(exc)))
                return exc.status or 400, build_soap_fault(str(exc))
            if len(self.received) < self.refuse_first:
                refusal = (200, build_ack(False)) if self.nack else (500, build_soap_fault("busy"))
                self.received.append(Received(message, refusal[0], "refused"))
                return refusal
            self.received.append(Received(message, 200))
            return 200, build_ack()

    def messages(self) -> list[OutboundMessage]:
        """Every parsed message, acknowledged or not, in arrival order."""
        with self._lock:
            return [item.message for item in self.received if item.message is not None]

    def notifications(self) -> list[Notification]:
        """Every notification of every parsed message, in arrival order."""
        return [n for message in self.messages() for n in message.notifications]

    def errors(self) -> list[str]:
        """Why POSTs were refused (by the parser, or on purpose)."""
        with self._lock:
            return [item.error for item in self.received if item.error]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        receiver: OutboundReceiver = self.server.receiver  # type: ignore[attr-defined]
        status, body = receiver.answer(self.rfile.read(length))
        self.send_response(status)
        self.send_header("Content-Type", ACK_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what was received, not an access log."""


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    state_dir = tmp_path_factory.mktemp("sf-outbound")
    with running_salesforce(state_dir, deals=0, time_scale=TIME_SCALE) as info:
        yield info


@pytest.fixture
def hooks(emulator: Info) -> SalesforceHooks:
    control = SalesforceHooks(emulator)
    control.reset()
    return control


@pytest.fixture
def receiver(emulator: Info) -> Iterator[OutboundReceiver]:
    listener = OutboundReceiver(emulator["org_id"])
    yield listener
    listener.close()


@pytest.fixture
def sf(emulator: Info, hooks: SalesforceHooks) -> ClientRun:
    return make_client(emulator)


def open_deals(hooks: SalesforceHooks, count: int, stage: str = "Negotiation/Review") -> list[str]:
    """``count`` opportunities of one account, loaded without any Outbound Message."""
    [account] = hooks.load({"Account": [{"Name": "Outbound Co"}]})["Account"]
    deals = [
        {"Name": f"Deal {n}", "AccountId": account, "StageName": stage, "CloseDate": "2026-06-30"}
        for n in range(count)
    ]
    return hooks.load({"Opportunity": deals})["Opportunity"]


def registered(hooks: SalesforceHooks, receiver: OutboundReceiver) -> str:
    """Register the receiver as the Outbound Message endpoint; its action id."""
    action_id: str = hooks.register_endpoint(receiver.url)["action_id"]
    return action_id


def delivered(hooks: SalesforceHooks, count: int = 1) -> list[Row]:
    """Poll until ``count`` batches are delivered and nothing is owed; the whole log."""

    def done() -> list[Row] | None:
        log = hooks.deliveries()
        entries: list[Row] = log["deliveries"]
        finished = [e for e in entries if e["outcome"] == "delivered" and not e["duplicate"]]
        return entries if len(finished) >= count and log["pending"] == 0 else None

    entries: list[Row] = wait_until(done, f"{count} delivered Outbound Message(s)")
    return entries


def delivered_ids(receiver: OutboundReceiver) -> list[str]:
    """The opportunity ids the receiver acknowledged, in arrival order."""
    with_ack = [item.message for item in receiver.received if not item.error and item.message]
    return [n.opportunity_id for message in with_ack for n in message.notifications]


# -- tests ----------------------------------------------------------------------------------------


async def test_closing_a_deal_sends_one_notification_with_its_values(
    emulator: Info, hooks: SalesforceHooks, receiver: OutboundReceiver, sf: ClientRun
) -> None:
    [deal] = open_deals(hooks, 1)
    action_id = registered(hooks, receiver)
    async with sf.client as client:
        await client.update("Opportunity", deal, CLOSED_WON)

    [entry] = delivered(hooks)
    [message] = receiver.messages()
    [notification] = message.notifications
    stored = hooks.record("Opportunity", deal)
    assert message.organization_id == emulator["org_id"]
    assert message.action_id == action_id
    assert message.session_id is None  # §3.1: sent empty since February 2026
    assert notification.opportunity_id == deal
    assert notification.fields["IsWon"] is True
    assert notification.fields["StageName"] == "Closed Won"
    assert notification.fields["AccountId"] == stored["AccountId"]
    # SOAP writes the instant as ...000Z, REST as ...000+0000: the same moment.
    assert _instant(notification.fields["SystemModstamp"]) == _instant(stored["SystemModstamp"])
    assert (entry["notification_ids"], entry["opportunity_ids"]) == ([notification.id], [deal])
    assert (entry["status"], entry["acked"], entry["attempt"]) == (200, True, 1)
    assert receiver.errors() == []


@pytest.mark.parametrize("nack", [False, True], ids=["http-500", "ack-false"])
async def test_a_refused_message_is_retried_with_growing_backoff_until_acked(
    emulator: Info, hooks: SalesforceHooks, sf: ClientRun, nack: bool
) -> None:
    receiver = OutboundReceiver(emulator["org_id"], refuse_first=2, nack=nack)
    try:
        [deal] = open_deals(hooks, 1)
        registered(hooks, receiver)
        async with sf.client as client:
            await client.update("Opportunity", deal, CLOSED_WON)
        log = delivered(hooks)
    finally:
        receiver.close()

    refused = 200 if nack else 500
    outcomes = [(e["attempt"], e["status"], e["acked"], e["outcome"]) for e in log]
    assert outcomes == [
        (1, refused, False, "retry"),
        (2, refused, False, "retry"),
        (3, 200, True, "delivered"),
    ]
    assert len({n.id for n in receiver.notifications()}) == 1  # the same notification each time
    assert receiver.errors() == ["refused", "refused"]
    assert delivered_ids(receiver) == [deal]
    gaps = [_seconds(e["next_retry_at"]) - _seconds(e["at"]) for e in log[:2]]
    assert gaps == [15.0, 30.0]  # emulated seconds: the backoff doubles


def _seconds(stamp: str) -> float:
    return _instant(stamp).timestamp()


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_deals_closed_together_arrive_in_one_message(
    hooks: SalesforceHooks, receiver: OutboundReceiver, sf: ClientRun
) -> None:
    deals = open_deals(hooks, 3)
    registered(hooks, receiver)
    closing = [{"attributes": {"type": "Opportunity"}, "Id": deal, **CLOSED_WON} for deal in deals]
    async with sf.client as client:
        await client.collection_update(closing)

    [entry] = delivered(hooks)
    [message] = receiver.messages()
    assert [n.opportunity_id for n in message.notifications] == deals
    assert len({n.id for n in message.notifications}) == 3
    assert entry["opportunity_ids"] == deals


async def test_duplicate_mode_delivers_the_same_notification_id_twice(
    hooks: SalesforceHooks, receiver: OutboundReceiver, sf: ClientRun
) -> None:
    [deal] = open_deals(hooks, 1)
    registered(hooks, receiver)
    assert hooks.outbound_mode(duplicate=True)["duplicate"] is True
    async with sf.client as client:
        await client.update("Opportunity", deal, CLOSED_WON)

    log = delivered(hooks)
    first, second = receiver.notifications()
    assert first.id == second.id
    assert first.opportunity_id == second.opportunity_id == deal
    assert [entry["duplicate"] for entry in log] == [False, True]


@pytest.mark.parametrize("reorder", [False, True])
async def test_reorder_mode_delivers_deals_out_of_close_order(
    hooks: SalesforceHooks, receiver: OutboundReceiver, sf: ClientRun, reorder: bool
) -> None:
    deals = open_deals(hooks, 8)
    registered(hooks, receiver)
    hooks.outbound_mode(reorder=reorder, max_batch=1)
    closing = [{"attributes": {"type": "Opportunity"}, "Id": deal, **CLOSED_WON} for deal in deals]
    async with sf.client as client:
        results = await client.collection_update(closing)  # closed in this order, one request

    assert all(result.success for result in results)
    delivered(hooks, count=len(deals))
    arrived = delivered_ids(receiver)
    assert sorted(arrived) == sorted(deals)
    assert (arrived != deals) is reorder


async def test_closing_through_composite_and_collections_also_notifies(
    hooks: SalesforceHooks, receiver: OutboundReceiver, sf: ClientRun
) -> None:
    by_composite, by_collection = open_deals(hooks, 2)
    registered(hooks, receiver)
    async with sf.client as client:
        await client.composite(
            [SubRequest("PATCH", f"sobjects/Opportunity/{by_composite}", "close", CLOSED_WON)]
        )
        await client.collection_update(
            [{"attributes": {"type": "Opportunity"}, "Id": by_collection, **CLOSED_WON}]
        )

    delivered(hooks, count=2)
    assert sorted(delivered_ids(receiver)) == sorted([by_composite, by_collection])


async def test_updating_a_won_deal_or_a_rolled_back_close_does_not_notify(
    hooks: SalesforceHooks, receiver: OutboundReceiver, sf: ClientRun
) -> None:
    [won] = open_deals(hooks, 1, stage="Closed Won")
    by_composite, by_collection, sentinel = open_deals(hooks, 3)
    registered(hooks, receiver)
    bad = {"Bogus__c": 1}
    async with sf.client as client:
        await client.update("Opportunity", won, {"NetSuite_Sync_Status__c": "Synced"})
        await client.update("Opportunity", won, CLOSED_WON)
        with pytest.raises(RemoteRejectedError):
            await client.composite(
                [
                    SubRequest("PATCH", f"sobjects/Opportunity/{by_composite}", "won", CLOSED_WON),
                    SubRequest("PATCH", f"sobjects/Opportunity/{by_composite}", "bad", bad),
                ]
            )
        with pytest.raises(RemoteRejectedError):
            await client.collection_update(
                [
                    {"attributes": {"type": "Opportunity"}, "Id": by_collection, **CLOSED_WON},
                    {"attributes": {"type": "Opportunity"}, "Id": by_collection, **bad},
                ],
                all_or_none=True,
            )
        # Anything the calls above had queued would be delivered before this one.
        await client.update("Opportunity", sentinel, CLOSED_WON)

    delivered(hooks)
    assert delivered_ids(receiver) == [sentinel]
    assert hooks.record("Opportunity", won)["IsWon"] is True
    assert hooks.record("Opportunity", by_composite)["IsWon"] is False
    assert hooks.record("Opportunity", by_collection)["IsWon"] is False
