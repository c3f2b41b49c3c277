"""The Outbound Message sender: when it queues, what it POSTs, how it retries and misbehaves."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
import pytest

from dealbridge.connectors.salesforce.emulator.outbound_sender import (
    OutboundSender,
    retry_interval,
)
from dealbridge.connectors.salesforce.models import OUTBOUND_NS, XSI_NS
from tests.unit.salesforce_outbound_sender.sender_support import (
    ACK,
    INSTANCE_URL,
    ORG_ID,
    START,
    URL,
    FakeClock,
    Listener,
    Org,
    drained,
    logged,
    make_sender,
    opportunity_id,
    parse,
    running,
    settle,
    until,
)

pytestmark = pytest.mark.anyio
LOG_KEYS = {"endpoint", "url", "notification_ids", "opportunity_ids", "attempt", "status", "error",
            "acked", "outcome", "duplicate", "at", "next_retry_at"}  # fmt: skip


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def test_winning_queues_one_notification_per_endpoint(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    sender.register_endpoint({"url": "http://second.example.com/om"})
    org.win(sender, opportunity_id(1))
    assert sender.pending() == 2
    async with running(sender):
        await until(drained(sender))
    assert sorted(str(r.url) for r in listener.requests) == ["http://second.example.com/om", URL]
    assert [len(ids) for ids in listener.notification_ids()] == [1, 1]


async def test_the_body_is_the_contracts_soap_with_values_read_at_send_time(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    endpoint = sender.register_endpoint({
        "url": "http://b.example.com/", "fields": ["StageName", "IsWon", "Amount", "Name",
                                                   "SystemModstamp", "CloseDate", "AccountId"],
    })  # fmt: skip
    org.win(sender, opportunity_id(1), Name='Acme & <Sons> "Ltd"\r\n', AccountId=None)
    org.records[opportunity_id(1)].update(
        Amount=52000.5, SystemModstamp="2026-03-01T10:11:12.000+0000", CloseDate="2026-03-01"
    )  # changed after queuing: the message carries what is there when it is sent
    async with running(sender):
        await until(drained(sender))
    request = next(r for r in listener.requests if str(r.url) == "http://b.example.com/")
    assert request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert request.headers["SOAPAction"] == '""'
    soap = parse(request.content)
    assert list(soap["header"]) == ["OrganizationId", "ActionId", "SessionId", "EnterpriseUrl",
                                    "PartnerUrl", "Notification"]  # fmt: skip
    header = {name: element.text for name, element in soap["header"].items()}
    assert header["OrganizationId"] == ORG_ID
    assert header["ActionId"] == endpoint["action_id"]
    assert soap["header"]["SessionId"].get(f"{{{XSI_NS}}}nil") == "true"
    assert header["EnterpriseUrl"] == f"{INSTANCE_URL}/services/Soap/c/65.0/{ORG_ID[:15]}"
    assert header["PartnerUrl"] == f"{INSTANCE_URL}/services/Soap/u/65.0/{ORG_ID[:15]}"
    (item,) = soap["notifications"]
    assert item["Id"].startswith("04l")
    assert len(item["Id"]) == 18
    assert item["sObject"].get(f"{{{XSI_NS}}}type") == "sf:Opportunity"
    values = {name: element.text for name, element in item["fields"]}
    assert [name for name, _ in item["fields"]] == [
        "Id",
        "StageName",
        "IsWon",
        "Amount",
        "Name",
        "SystemModstamp",
        "CloseDate",
        "AccountId",
    ]
    assert values == {
        "Id": opportunity_id(1), "StageName": "Closed Won", "IsWon": "true", "Amount": "52000.5",
        "Name": "Acme & <Sons> \"Ltd\"\r\n", "SystemModstamp": "2026-03-01T10:11:12.000Z",
        "CloseDate": "2026-03-01", "AccountId": None,
    }  # fmt: skip
    account = dict(item["fields"])["AccountId"]
    assert account.get(f"{{{XSI_NS}}}nil") == "true"


async def test_a_record_deleted_before_sending_goes_out_empty(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    org.win(sender, opportunity_id(1))
    org.win(sender, opportunity_id(2))
    del org.records[opportunity_id(1)]
    org.records[opportunity_id(2)]["IsDeleted"] = True
    async with running(sender):
        await until(drained(sender))
    items = parse(listener.requests[0].content)["notifications"]
    assert [[(name, el.text) for name, el in item["fields"]] for item in items] == [
        [("Id", opportunity_id(1))], [("Id", opportunity_id(2))]
    ]  # fmt: skip


async def test_an_ack_delivers_once(
    org: Org, sender: OutboundSender, listener: Listener, clock: FakeClock
) -> None:
    org.win(sender, opportunity_id(1))
    async with running(sender):
        await until(drained(sender))
        clock.advance(2 * 86400)
        await settle()
    assert len(listener.requests) == 1
    (entry,) = sender.log()
    assert set(entry) == LOG_KEYS
    assert entry["acked"] is True
    assert entry["outcome"] == "delivered"
    assert entry["status"] == 200
    assert entry["attempt"] == 1
    assert entry["next_retry_at"] is None
    assert entry["error"] is None
    assert entry["opportunity_ids"] == [opportunity_id(1)]
    assert entry["url"] == URL
    assert entry["notification_ids"] == listener.notification_ids()[0]
    assert entry["at"] == "2026-05-28T20:26:40.000Z"
    assert seconds(entry["at"]) == START


async def test_failures_are_retried_with_growing_intervals_until_an_ack(
    org: Org, sender: OutboundSender, listener: Listener, clock: FakeClock
) -> None:
    listener.script = [500, "no-ack", "nack", "timeout", "refused", 503]
    org.win(sender, opportunity_id(1))
    async with running(sender):
        for posts in range(1, 7):
            await until(logged(sender, posts))
            await clock.advance_to_next_wake()
        await until(drained(sender))
    log = sender.log()
    assert [entry["status"] for entry in log] == [500, 200, 200, None, None, 503, 200]
    assert [entry["acked"] for entry in log] == [False] * 6 + [True]
    assert [entry["attempt"] for entry in log] == [1, 2, 3, 4, 5, 6, 7]
    assert "ReadTimeout" in log[3]["error"]
    assert "ConnectError" in log[4]["error"]
    assert "Ack" in log[1]["error"]
    assert "Ack" in log[2]["error"]
    waits = [seconds(e["next_retry_at"]) - seconds(e["at"]) for e in log[:-1]]
    assert waits == [15, 30, 60, 120, 240, 480]
    assert [seconds(e["at"]) - START for e in log] == [0, 15, 45, 105, 225, 465, 945]
    assert len({tuple(ids) for ids in listener.notification_ids()}) == 1  # the same notification


async def test_an_unacknowledged_message_is_dropped_after_24_hours(
    org: Org, sender: OutboundSender, listener: Listener, clock: FakeClock
) -> None:
    listener.default = 500
    org.win(sender, opportunity_id(1))
    async with running(sender):
        while not any(entry["outcome"] == "dropped" for entry in sender.log()):
            count = len(sender.log())
            await until(logged(sender, count + 1))
            if sender.pending():
                await clock.advance_to_next_wake()
        posts = len(listener.requests)
        clock.advance(86400)
        await settle()
    log = sender.log()
    dropped = log[-1]
    assert dropped["outcome"] == "dropped"
    assert dropped["status"] is None
    assert not dropped["acked"]
    assert seconds(dropped["at"]) == START + 86400
    assert dropped["next_retry_at"] is None
    assert all(entry["outcome"] == "retry" for entry in log[:-1])
    waits = [seconds(b["at"]) - seconds(a["at"]) for a, b in itertools.pairwise(log[:-1])]
    assert waits == [retry_interval(n) for n in range(1, len(waits) + 1)]
    assert max(waits) == 7200
    assert 0 < seconds(dropped["at"]) - seconds(log[-2]["at"]) <= 7200
    assert log[-2]["next_retry_at"] == dropped["at"]
    assert len(listener.requests) == posts == len(log) - 1
    assert sender.pending() == 0


@pytest.mark.parametrize(("max_batch", "deals", "sizes"), [(3, 7, [3, 3, 1]),
                                                         (100, 150, [100, 50])])  # fmt: skip
async def test_batches_hold_at_most_max_batch_notifications(
    org: Org, sender: OutboundSender, listener: Listener, max_batch: int, deals: int,
    sizes: list[int]
) -> None:  # fmt: skip
    assert sender.set_mode(max_batch=max_batch)["max_batch"] == max_batch
    for number in range(deals):
        org.win(sender, opportunity_id(number))
    async with running(sender):
        await until(drained(sender))
    assert [len(ids) for ids in listener.notification_ids()] == sizes
    sent = [opportunity_id(number) for number in range(deals)]
    assert [i for entry in sender.log() for i in entry["opportunity_ids"]] == sent


async def test_duplicate_mode_sends_every_notification_twice_with_the_same_id(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    sender.set_mode(duplicate=True, max_batch=2)
    for number in range(3):
        org.win(sender, opportunity_id(number))
    async with running(sender):
        await until(drained(sender))
    posts = listener.notification_ids()
    assert len(posts) == 4
    assert posts[0] == posts[1]
    assert posts[2] == posts[3]
    assert [entry["duplicate"] for entry in sender.log()] == [False, True, False, True]


async def test_reorder_mode_shuffles_deterministically(clock: FakeClock) -> None:
    orders = []
    for _ in range(2):
        org, listener = Org(), Listener()
        sender = make_sender(org, listener, clock, rng_seed=7)
        sender.register_endpoint({"url": URL})
        sender.set_mode(reorder=True, max_batch=1)
        for number in range(10):
            org.win(sender, opportunity_id(number))
        async with running(sender):
            await until(drained(sender))
        orders.append([entry["opportunity_ids"][0] for entry in sender.log()])
    assert orders[0] == orders[1]
    assert orders[0] != [opportunity_id(number) for number in range(10)]
    assert sorted(orders[0]) == [opportunity_id(number) for number in range(10)]


async def test_winning_twice_sends_two_notifications(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    org.win(sender, opportunity_id(1))
    before = org.records[opportunity_id(1)]
    org.records[opportunity_id(1)] = {**before, "IsWon": False, "StageName": "Negotiation/Review"}
    org.win(sender, opportunity_id(1))
    async with running(sender):
        await until(drained(sender))
    (ids,) = listener.notification_ids()
    assert len(ids) == 2
    assert len(set(ids)) == 2


async def test_a_change_from_a_worker_thread_wakes_the_loop(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    async with running(sender):
        await settle()  # the loop is idle, napping on the clock
        await asyncio.to_thread(org.win, sender, opportunity_id(1))
        await until(lambda: len(listener.requests) == 1)


async def test_reset_forgets_everything_but_ids_keep_counting(
    org: Org, sender: OutboundSender, listener: Listener
) -> None:
    org.win(sender, opportunity_id(1))
    async with running(sender):
        await until(drained(sender))
    first_id = sender.log()[0]["notification_ids"][0]
    sender.set_mode(duplicate=True)
    org.win(sender, opportunity_id(2))
    sender.reset()
    assert (sender.pending(), sender.log(), sender.endpoints()) == (0, [], [])
    assert sender.set_mode()["duplicate"] is False
    sender.register_endpoint({"url": URL})
    org.records.clear()
    org.win(sender, opportunity_id(3))
    async with running(sender):
        await until(drained(sender))
    assert sender.log()[0]["notification_ids"][0] > first_id
    assert OUTBOUND_NS in listener.requests[-1].content.decode()


async def test_a_loop_cancelled_mid_post_still_owes_the_notification(
    org: Org, clock: FakeClock
) -> None:
    requests: list[httpx.Request] = []

    async def first_post_hangs(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            await asyncio.Event().wait()  # until the loop is cancelled
        return httpx.Response(200, text=ACK)

    sender = make_sender(org, first_post_hangs, clock)
    sender.register_endpoint({"url": URL})
    org.win(sender, opportunity_id(1))
    async with running(sender):
        await until(lambda: len(requests) == 1)
    assert sender.pending() == 1
    async with running(sender):
        await until(drained(sender))
    assert [parse(r.content)["notifications"][0]["Id"] for r in requests] == [
        sender.log()[0]["notification_ids"][0]
    ] * 2


async def test_a_failing_store_read_counts_as_a_failed_attempt(
    org: Org, listener: Listener, clock: FakeClock
) -> None:
    reads: list[str] = []

    def flaky_fetch(sobject: str, record_id: str) -> Mapping[str, Any] | None:
        reads.append(record_id)
        if len(reads) == 1:
            raise RuntimeError("database is locked")
        return org.fetch(sobject, record_id)

    sender = make_sender(org, listener, clock, fetch_record=flaky_fetch)
    sender.register_endpoint({"url": URL})
    org.win(sender, opportunity_id(1))
    async with running(sender):
        await until(logged(sender, 1))
        await clock.advance_to_next_wake()
        await until(drained(sender))
    first, second = sender.log()
    assert "database is locked" in first["error"]
    assert first["status"] is None
    assert first["outcome"] == "retry"
    assert second["acked"] is True
    assert len(listener.requests) == 1
