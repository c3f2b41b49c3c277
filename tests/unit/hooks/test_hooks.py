"""The Outbound Message listener: who is refused, what is queued, and when the Ack goes out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.requests import Request

from dealbridge.connectors.salesforce.outbound import ACK_CONTENT_TYPE, build_ack
from dealbridge.web import hooks
from tests.unit.hooks.conftest import (
    ACCOUNT,
    OPPORTUNITY,
    TOKEN,
    Listener,
    listener_for,
    message,
    notification,
)

SECOND_OPPORTUNITY = "0065w000023STBnAAO"


def test_a_won_deal_is_queued_then_acked(listener: Listener) -> None:
    answer = listener.post(message())

    assert answer.status_code == 200
    assert answer.content == build_ack()
    assert answer.headers["content-type"] == ACK_CONTENT_TYPE
    assert listener.recorder.changes == [
        hooks.DealChange(OPPORTUNITY, ACCOUNT, "2026-05-01T10:00:00.000Z", "04l5w00005280001AA")
    ]
    assert listener.counters.acked == 1
    assert listener.counters.enqueued == 1


def test_every_notification_is_queued_in_message_order(listener: Listener) -> None:
    body = message(
        notification(1, SystemModstamp="2026-05-01T10:00:00.000+0000"),
        notification(2, opportunity=SECOND_OPPORTUNITY, SystemModstamp="2026-05-01T09:00:00Z"),
    )

    assert listener.post(body).status_code == 200

    assert [(c.opportunity_id, c.system_modstamp) for c in listener.recorder.changes] == [
        (OPPORTUNITY, "2026-05-01T10:00:00.000Z"),
        (SECOND_OPPORTUNITY, "2026-05-01T09:00:00.000Z"),
    ]


def test_a_15_character_account_id_is_queued_in_its_18_character_form(
    listener: Listener,
) -> None:
    listener.post(message(notification(AccountId=ACCOUNT[:15])))

    assert listener.recorder.changes[0].account_id == ACCOUNT


def test_a_deal_that_is_not_won_is_acked_but_not_queued(listener: Listener) -> None:
    body = message(notification(1, IsWon=False), notification(2, IsWon=None))

    answer = listener.post(body)

    assert answer.status_code == 200
    assert listener.recorder.changes == []
    assert listener.counters.skipped == 2


def test_a_notification_without_is_won_is_queued_for_the_workflow_to_judge(
    listener: Listener,
) -> None:
    won = notification()
    fields = {name: value for name, value in won.fields.items() if name != "IsWon"}
    body = message(hooks.Notification(won.id, "Opportunity", fields))

    assert listener.post(body).status_code == 200
    assert len(listener.recorder.changes) == 1


def test_without_system_modstamp_the_notification_id_names_the_workflow(
    listener: Listener,
) -> None:
    listener.post(message(notification(SystemModstamp=None)))

    change = listener.recorder.changes[0]
    assert change.system_modstamp is None
    assert change.fallback_workflow_id == f"deal:{OPPORTUNITY}:notification:04l5w00005280001AA"


@pytest.mark.parametrize("token", ["wrong-token-of-some-length", TOKEN + "x", TOKEN[:-1], "x"])
def test_a_wrong_token_looks_like_an_unknown_url(listener: Listener, token: str) -> None:
    answer = listener.post(message(), token=token)
    unknown = listener.client.post("/hooks/no/such/route", content=message())

    assert answer.status_code == 404
    assert answer.json() == unknown.json() == {"detail": "Not Found"}
    assert TOKEN not in answer.text
    assert listener.recorder.changes == []
    assert listener.counters.refused["token"] == 1


def test_no_configured_token_refuses_every_message(tmp_path: Path) -> None:
    for listener in listener_for(tmp_path, webhook_token=None):
        assert listener.post(message()).status_code == 404
        assert listener.post(message(), token="").status_code in (404, 405)
        assert listener.recorder.changes == []


def test_token_comparison() -> None:
    assert hooks.token_matches(TOKEN, SecretStr(TOKEN))
    assert not hooks.token_matches(TOKEN.upper(), SecretStr(TOKEN))
    assert not hooks.token_matches("", SecretStr(TOKEN))
    assert not hooks.token_matches("", None)
    assert not hooks.token_matches("", SecretStr(""))


def test_only_text_xml_is_accepted(listener: Listener) -> None:
    answer = listener.post(message(), content_type="application/json")

    assert answer.status_code == 415
    assert b"<faultstring>" in answer.content
    assert listener.counters.refused["content_type"] == 1
    assert listener.recorder.changes == []


def test_a_declared_oversized_body_is_refused_before_reading(listener: Listener) -> None:
    big = message(*(notification(n) for n in range(1, 60)))
    assert len(big) > 4096

    answer = listener.post(big)

    assert answer.status_code == 413  # the app's body cap may answer before the route does
    assert listener.recorder.changes == []


def test_the_route_caps_a_stream_by_itself() -> None:
    """Defence in depth: the listener stops reading past its cap even without the middleware."""
    sent = [b"<" * 3000, b"<" * 3000, b"never read"]
    read: list[bytes] = []

    async def receive() -> dict[str, object]:
        chunk = sent.pop(0)
        read.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(sent)}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    request = Request(scope, receive)

    with pytest.raises(hooks.WebhookError) as refused:
        asyncio.run(hooks.read_capped(request, 4096))

    assert refused.value.status == 413
    assert len(read) == 2


def test_a_streamed_oversized_body_is_refused(listener: Listener) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"<" * 1024

    answer = listener.client.post(
        "/hooks/salesforce/outbound-message/" + TOKEN,
        content=chunks(),
        headers={"Content-Type": "text/xml"},
    )

    assert answer.status_code == 413
    assert listener.recorder.changes == []


def test_a_message_from_another_org_is_refused(listener: Listener) -> None:
    answer = listener.post(message(org_id="00D000000000001AAA"))

    assert answer.status_code == 403
    assert listener.counters.refused["org"] == 1
    assert listener.recorder.changes == []


def test_hostile_xml_is_refused(listener: Listener) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'

    answer = listener.post(body)

    assert answer.status_code == 400
    assert listener.counters.refused["message"] == 1


def test_one_malformed_notification_queues_nothing(listener: Listener) -> None:
    body = message(notification(1), notification(2, SystemModstamp="yesterday"))

    answer = listener.post(body)

    assert answer.status_code == 400
    assert b"SystemModstamp" in answer.content
    assert listener.recorder.changes == []


def test_a_notification_about_another_object_is_refused(listener: Listener) -> None:
    account = hooks.Notification("04l5w00005289999AA", "Account", {"Id": ACCOUNT})

    answer = listener.post(message(account))

    assert answer.status_code == 400
    assert listener.recorder.changes == []


@pytest.mark.parametrize("fail_on", [1, 2])
def test_no_ack_unless_every_deal_is_queued(listener: Listener, fail_on: int) -> None:
    listener.recorder.fail_on = fail_on
    body = message(notification(1), notification(2, opportunity=SECOND_OPPORTUNITY))

    answer = listener.post(body)

    assert answer.status_code == 500
    assert b"<Ack>" not in answer.content
    assert b"send the message again" in answer.content
    assert b"database is locked" not in answer.content
    assert listener.counters.failed == 1
    assert listener.counters.acked == 0
