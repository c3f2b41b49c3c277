"""Call bodies on a run's page and in the API, captured by a real client, with no secret in them.

The NetSuite client runs with TBA secrets configured against a transport whose answer echoes one
of them and carries a credential-named field; what it records is stored for a seeded run, the way
the engine stores a step's calls, and then read through the console and ``/api/v1/runs/{id}``.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.core.calls import REDACTED, CallRecord
from dealbridge.db import api_calls
from dealbridge.db.session import dispose_engines, session_scope
from dealbridge.settings import Settings
from dealbridge.web import console, create_web_app
from dealbridge.web.api import routers as api_routers
from tests.integration.web.console.conftest import Seeded, seed_ledger
from tests.integration.web.console.test_console_connections_and_secrets import (
    NS_CONSUMER_SECRET,
    NS_TOKEN_SECRET,
    SF_CLIENT_SECRET,
    unreachable_settings,
)
from tests.integration.web.web_client import SESSION_SECRET, signed_in, token_for
from tests.support.alert_receivers import FakeClock

API_KEY = "AK-55c0ffee91"
ANSWER = {
    "id": "7",
    "companyName": "Echo Body Co",
    "comments": f"configured with {NS_TOKEN_SECRET}",
    "custentity_api_key": API_KEY,
}


def _answer(request: httpx.Request) -> httpx.Response:
    if request.method == "PATCH":
        return httpx.Response(204, headers={"Location": str(request.url)})
    return httpx.Response(200, json=ANSWER)


def _netsuite_calls(settings: Settings) -> list[CallRecord]:
    """A PATCH and a GET through the real client; its call records."""
    calls: list[CallRecord] = []

    async def talk() -> None:
        transport = httpx.MockTransport(_answer)
        async with NetSuiteClient(
            settings.netsuite, transport=transport, on_call=calls.append
        ) as client:
            await client.update("customer", "7", {"comments": "hello", "password": "pw-9f8e7d6c"})
            await client.get("customer", "7")

    asyncio.run(talk())
    return calls


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    configured = unreachable_settings(settings)
    yield create_web_app(configured, routers=[*console.routers, *api_routers], clock=FakeClock())
    dispose_engines()


@pytest.fixture
def seeded_with_bodies(app: FastAPI) -> Seeded:
    ledger: sessionmaker[Session] = app.state.dealbridge.ledger
    seeded = seed_ledger(ledger, FakeClock().now)
    calls = _netsuite_calls(app.state.dealbridge.settings)
    with session_scope(ledger) as session:
        api_calls.record_calls(session, seeded.failed_run, calls)
    return seeded


def test_the_run_page_shows_bodies_in_details_and_no_secret(
    app: FastAPI, seeded_with_bodies: Seeded
) -> None:
    with signed_in(app, "vera") as client:
        page = client.get(f"/runs/{seeded_with_bodies.failed_run}").text
    table = page.split('id="calls"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr data-call-id=")[1:]
    assert len(rows) == 2
    patch_row, get_row = rows
    assert "<details>" in patch_row
    sent = html.unescape(patch_row.split('class="body request-body">', 1)[1].split("</pre>")[0])
    assert json.loads(sent) == {"comments": "hello", "password": REDACTED}
    assert "(no body)" in patch_row  # the 204 answered nothing
    got = html.unescape(get_row.split('class="body response-body">', 1)[1].split("</pre>")[0])
    assert json.loads(got) == {
        **ANSWER,
        "comments": f"configured with {REDACTED}",
        "custentity_api_key": REDACTED,
    }
    for secret in (NS_TOKEN_SECRET, NS_CONSUMER_SECRET, SF_CLIENT_SECRET, SESSION_SECRET):
        assert secret not in page
    assert API_KEY not in page
    assert "pw-9f8e7d6c" not in page


def test_seeded_calls_without_bodies_say_so(app: FastAPI, seeded_with_bodies: Seeded) -> None:
    with signed_in(app, "vera") as client:
        page = client.get(f"/runs/{seeded_with_bodies.ok_run}").text
    table = page.split('id="calls"', 1)[1].split("</table>", 1)[0]
    assert table.count("none kept") == 3
    assert "<details>" not in table


def test_the_api_run_detail_carries_the_bodies(app: FastAPI, seeded_with_bodies: Seeded) -> None:
    token = token_for(app.state.dealbridge.ledger, "viewer")
    with TestClient(app) as client:
        answer = client.get(
            f"/api/v1/runs/{seeded_with_bodies.failed_run}",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200
    patch, get = answer.json()["api_calls"]
    assert json.loads(patch["request_body"]) == {"comments": "hello", "password": REDACTED}
    assert patch["response_body"] is None
    assert get["request_body"] is None
    assert json.loads(get["response_body"])["custentity_api_key"] == REDACTED
    for secret in (NS_TOKEN_SECRET, NS_CONSUMER_SECRET, API_KEY):
        assert secret not in answer.text
