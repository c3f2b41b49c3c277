"""A hand-driven clock, a scripted SOAP listener and a running sender for the sender's tests.

Nothing here sleeps for real: the clock moves only when a test advances it, the listener is an
``httpx.MockTransport``, and ``until`` just yields to the event loop until a condition holds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from defusedxml.ElementTree import fromstring

from dealbridge.connectors.salesforce.emulator.outbound_sender import OutboundSender
from dealbridge.connectors.salesforce.models import OUTBOUND_NS, SOBJECT_NS

ORG_ID = "00D5w000004qGTOEA2"
INSTANCE_URL = "https://acme.my.salesforce.com"
URL = "https://listener.example.com/hooks/sf/secret-token"
START = 1_780_000_000.0  # emulated epoch seconds when a test begins
ACK = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)
NACK = ACK.replace("<Ack>true</Ack>", "<Ack>false</Ack>")
NO_ACK = ACK.replace("<Ack>true</Ack>", "")


class FakeClock:
    """Emulated time that stands still until ``advance``; sleepers wake when their time comes."""

    def __init__(self, start: float = START) -> None:
        self.time = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        entry = (self.time + seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(entry)
        try:
            await entry[1]
        finally:
            self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        self.time += seconds
        for wake_at, future in list(self._sleepers):
            if wake_at <= self.time and not future.done():
                future.set_result(None)

    async def advance_to_next_wake(self) -> None:
        """Once someone sleeps on the clock, jump to the earliest wake-up time."""
        await until(lambda: bool(self._sleepers))
        self.advance(min(wake_at for wake_at, _ in self._sleepers) - self.time)


Reply = (
    int | str
)  # an HTTP status with an Ack body, or "ack", "nack", "no-ack", "timeout", "refused"


@dataclass
class Listener:
    """Scripted answers, one per POST (then ``default``); every request is kept for inspection."""

    script: list[Reply] = field(default_factory=list)
    default: Reply = "ack"
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.script.pop(0) if self.script else self.default
        if reply == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if reply == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        bodies = {"ack": ACK, "nack": NACK, "no-ack": NO_ACK}
        status = 200 if isinstance(reply, str) else reply
        return httpx.Response(status, text=bodies.get(str(reply), ACK))

    def notification_ids(self) -> list[list[str]]:
        """Per POST, the Notification ids it carried, in order."""
        return [[n["Id"] for n in parse(r.content)["notifications"]] for r in self.requests]


def parse(body: bytes) -> dict[str, Any]:
    """The SOAP request as plain data: header children and each notification's sf: fields."""
    root = fromstring(body)
    notifications = root.find(f".//{{{OUTBOUND_NS}}}notifications")
    assert notifications is not None
    header = {child.tag.rpartition("}")[2]: child for child in notifications}
    items = []
    for element in notifications.findall(f"{{{OUTBOUND_NS}}}Notification"):
        sobject = element.find(f"{{{OUTBOUND_NS}}}sObject")
        assert sobject is not None
        fields = [(child.tag.rpartition("}")[2], child) for child in sobject]
        assert all(child.tag.startswith(f"{{{SOBJECT_NS}}}") for child in sobject)
        items.append({"Id": element.findtext(f"{{{OUTBOUND_NS}}}Id"), "sObject": sobject,
                      "fields": fields})  # fmt: skip
    return {"root": root, "header": header, "notifications": items}


@dataclass
class Org:
    """The records the sender reads at send time, keyed by id."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fetch(self, sobject: str, record_id: str) -> Mapping[str, Any] | None:
        assert sobject == "Opportunity"
        return self.records.get(record_id)

    def win(self, sender: OutboundSender, record_id: str, **values: Any) -> None:
        """Store the opportunity as Closed Won and tell the sender, as the app does."""
        before = self.records.get(record_id) or {"Id": record_id, "IsWon": False}
        after = {**before, "StageName": "Closed Won", "IsWon": True, "Amount": 45000.0,
                 **values}  # fmt: skip
        self.records[record_id] = after
        sender.record_changed("Opportunity", before, after)


def opportunity_id(number: int) -> str:
    return f"0065w0000{number:06d}AAA"


def make_sender(
    org: Org, listener: Callable[[httpx.Request], Any], clock: FakeClock, **extra: Any
) -> OutboundSender:
    return OutboundSender(
        org_id=ORG_ID,
        instance_url=INSTANCE_URL,
        api_version="65.0",
        time_scale=3600.0,
        fetch_record=extra.pop("fetch_record", org.fetch),
        clock=clock,
        transport=httpx.MockTransport(listener),
        **extra,
    )


@contextlib.asynccontextmanager
async def running(sender: OutboundSender) -> AsyncIterator[None]:
    """The delivery loop as the app runs it: a background task, cancelled at the end."""
    task = asyncio.create_task(sender.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def drained(sender: OutboundSender) -> Callable[[], bool]:
    """A condition: nothing is waiting for an Ack any more."""
    return lambda: sender.pending() == 0


def logged(sender: OutboundSender, entries: int) -> Callable[[], bool]:
    """A condition: the delivery log has at least ``entries`` lines."""
    return lambda: len(sender.log()) >= entries


async def until(condition: Callable[[], bool], turns: int = 5000) -> None:
    """Yield to the loop until ``condition`` holds (no wall-clock waiting involved)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the sender never got there")


async def settle(turns: int = 200) -> None:
    """Let the loop run every callback that is ready, so "nothing more happened" can be checked."""
    for _ in range(turns):
        await asyncio.sleep(0)
