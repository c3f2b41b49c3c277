"""The sender's rules without a delivery loop: what queues, endpoint validation, modes, backoff."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.connectors.salesforce.emulator.outbound_sender import (
    OutboundSender,
    retry_interval,
)
from tests.unit.salesforce_outbound_sender.sender_support import (
    URL,
    FakeClock,
    Listener,
    Org,
    make_sender,
    opportunity_id,
)


@pytest.mark.parametrize(
    ("sobject", "before", "after"),
    [
        ("Opportunity", {"IsWon": True}, {"IsWon": True}),  # still won: no news
        ("Opportunity", {"IsWon": False}, {"IsWon": False, "StageName": "Closed Lost"}),
        ("Opportunity", {"IsWon": True}, {"IsWon": False}),
        ("Opportunity", None, {"IsWon": "false"}),
        ("Account", {"IsWon": False}, {"IsWon": True}),  # only Opportunity has the message
    ],
)
def test_other_changes_queue_nothing(
    sender: OutboundSender, sobject: str, before: dict[str, object] | None, after: dict[str, object]
) -> None:
    sender.record_changed(sobject, before, {"Id": opportunity_id(1), **after})
    assert sender.pending() == 0


def test_a_record_created_won_or_won_as_text_queues(sender: OutboundSender) -> None:
    sender.record_changed("Opportunity", None, {"Id": opportunity_id(1), "IsWon": True})
    sender.record_changed("Opportunity", {"IsWon": "false"}, {"Id": opportunity_id(2),
                                                             "IsWon": "true"})  # fmt: skip
    assert sender.pending() == 2


def test_without_endpoints_nothing_is_queued(org: Org, clock: FakeClock) -> None:
    sender = make_sender(org, Listener(), clock)
    org.win(sender, opportunity_id(1))
    assert sender.pending() == 0


def test_the_retry_interval_doubles_up_to_two_hours() -> None:
    assert [retry_interval(n) for n in (1, 2, 3, 9, 10, 30)] == [15, 30, 60, 3840, 7200, 7200]


def test_max_batch_stays_within_the_contracts_100(sender: OutboundSender) -> None:
    for bad in (0, 101):
        with pytest.raises(ValueError, match="max_batch"):
            sender.set_mode(max_batch=bad)
    assert sender.set_mode() == {"duplicate": False, "reorder": False, "max_batch": 100}


def test_endpoints_are_validated_and_listed(sender: OutboundSender) -> None:
    (default,) = sender.endpoints()
    assert default["fields"] == ["Id", "AccountId", "StageName", "IsWon", "SystemModstamp",
                                 "Amount", "CloseDate"]  # fmt: skip
    assert default["id"] == default["action_id"]
    assert default["action_id"].startswith("04k")
    given = sender.register_endpoint(
        {
            "url": "http://x.example/",
            "action_id": "04k5w000000TSwM",
            "fields": ["StageName", "Id"],
            "name": "Closed Won",
        }
    )
    assert given["action_id"] == "04k5w000000TSwMAAW"
    assert given["fields"] == ["Id", "StageName"]
    assert len(sender.endpoints()) == 2
    bad: list[dict[str, Any]] = [
        {}, {"url": "ftp://x.example/"}, {"url": "http://"}, {"url": URL, "fields": []},
        {"url": URL, "fields": ["Amount</sf:Amount>"]}, {"url": URL, "action_id": "0065w0000"},
        {"url": URL, "colour": "red"}, {"url": URL, "name": "n" * 81},
    ]  # fmt: skip
    for config in bad:
        with pytest.raises(ValueError, match=r"url|fields|field name|action_id|unknown|name"):
            sender.register_endpoint(config)
