"""``/runs?status=pending``: where the stale-PENDING alert links, the engine's unfinished work.

The console reads DBOS through ``ConsoleServices.read_engine_work``; here it is handed a fixed
list (the listing itself is tested against a real DBOS in ``test_engine_work``), and the page
must show each workflow's state, age and executor, oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from dealbridge.alerts.alert import console_link
from dealbridge.db.migrate import upgrade
from dealbridge.db.session import dispose_engines, make_engine, make_session_factory, session_scope
from dealbridge.settings import Settings
from dealbridge.sync.operator import Operator
from dealbridge.web import console, create_web_app
from dealbridge.web.console.engine_work import EngineWork, WaitingWorkflow, age_text
from dealbridge.web.console.services import ConsoleServices, QueueDepth, console_services
from dealbridge.web.security.accounts import add_user
from dealbridge.web.security.passwords import Passwords
from tests.integration.web.web_client import PASSWORDS, ROLES, SESSION_SECRET, signed_in
from tests.support.alert_receivers import FakeClock

STUCK = "deal:006000000000001AAA:2026-01-01T00:00:00.000Z"
QUEUED = "deal:006000000000002AAA:2026-01-01T00:05:00.000Z"
TICK = "sched-dealbridge-reconcile-2026-01-01T00:30:00+00:00"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine_work(clock: FakeClock) -> list[EngineWork]:
    """What the fake engine answers; a test replaces ``[0]``."""
    now = clock()
    rows = (
        WaitingWorkflow(STUCK, "sync_deal", "PENDING", "worker-a", "3", now - timedelta(hours=2)),
        WaitingWorkflow(TICK, "reconcile_scheduled", "PENDING", "serve-1", "3", now),
        WaitingWorkflow(QUEUED, "sync_deal", "ENQUEUED", None, "3", now - timedelta(seconds=42)),
    )
    return [EngineWork(rows)]


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock, engine_work: list[EngineWork]) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        add_user(
            session,
            username="vera",
            password=PASSWORDS["vera"],
            role=ROLES["vera"],
            actor="fixture",
            passwords=Passwords(),
        )
    engine.dispose()
    settings = Settings(
        data_dir=tmp_path / "data", database_url=url, web={"session_secret": SESSION_SECRET}
    )
    web = create_web_app(settings, routers=console.routers, clock=clock)

    def refuse() -> Operator:
        raise AssertionError("the runs page acts on nothing")

    services = ConsoleServices(refuse, lambda: QueueDepth(0), lambda: engine_work[0])
    web.dependency_overrides[console_services] = lambda: services
    yield web
    dispose_engines()


def rows_of(html: str) -> list[str]:
    table = html.split('<table id="pending">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-workflow-id="([^"]+)"', table)


def test_the_stale_pending_alert_link_opens_the_engine_work(app: FastAPI) -> None:
    path = console_link("http://console.test", "/runs", status="pending").removeprefix(
        "http://console.test"
    )
    with signed_in(app, "vera") as client:
        response = client.get(path)

    assert response.status_code == 200
    html = response.text
    assert "Unknown status" not in html
    assert rows_of(html) == [STUCK, TICK, QUEUED]
    stuck = html.split(f'data-workflow-id="{STUCK}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>2 h 00 min</td>" in stuck
    assert "worker-a" in stuck
    assert 'href="/runs?opportunity=006000000000001AAA"' in stuck
    queued = html.split(f'data-workflow-id="{QUEUED}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>42 s</td>" in queued
    assert "waiting for a worker" in queued
    tick = html.split(f'data-workflow-id="{TICK}"', 1)[1].split("</tr>", 1)[0]
    assert "reconcile_scheduled" in tick
    assert '<option value="pending" selected>' in html


def test_nothing_pending_and_an_unreadable_engine_say_so(
    app: FastAPI, engine_work: list[EngineWork]
) -> None:
    with signed_in(app, "vera") as client:
        engine_work[0] = EngineWork()
        empty = client.get("/runs?status=pending").text
        engine_work[0] = EngineWork(readable=False)
        unreadable = client.get("/runs?status=pending").text

    assert rows_of(empty) == []
    assert "Nothing is pending" in empty
    assert 'id="pending"' not in unreadable
    assert "cannot be read from this node" in unreadable


def test_ledger_statuses_still_filter_runs_and_unknown_ones_are_named(app: FastAPI) -> None:
    with signed_in(app, "vera") as client:
        unknown = client.get("/runs?status=stuck").text
        ledger = client.get("/runs?status=failed").text

    assert "Unknown status &#39;stuck&#39;" in unknown
    assert 'id="runs"' in ledger
    assert 'id="pending"' not in ledger


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3599, "59 min"), (3660, "1 h 01 min"),
     (86_399, "23 h 59 min"), (90_000, "1 d 1 h")],
)  # fmt: skip
def test_age_text(seconds: float, text: str) -> None:
    assert age_text(seconds) == text
