"""The service's alert tick: its schedule, its settings, and the connection checks it records."""

from __future__ import annotations

import re
import threading
import time
from contextlib import nullcontext
from datetime import timedelta
from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.alerts import ConnectionHealth
from dealbridge.cli import alerting
from dealbridge.cli.alerting import (
    ACTOR,
    SCHEDULE_NAME,
    alerts_active,
    evaluate_alerts,
    health_from,
    health_of,
    record_changed_checks,
    schedule_for,
)
from dealbridge.db.audit import list_audit
from dealbridge.db.session import session_scope
from dealbridge.errors import ConfigError
from dealbridge.settings import AlertSettings, Settings, WebSettings
from dealbridge.sync.connection_check import ConnectionStatus
from dealbridge.web.console.connections import TEST_ACTION, latest_checks
from tests.support.alert_receivers import FakeClock

HOOK = SecretStr("https://hooks.example/services/T/B/x")


def status(system: str, ok: bool, at: FakeClock, error: str | None = None) -> ConnectionStatus:
    return ConnectionStatus(system, ok, 12.5, at(), error, None if ok else "unreachable")


def test_schedule_fires_every_interval() -> None:
    settings = Settings(alerts=AlertSettings(interval_seconds=30, webhook_url=HOOK))
    schedule = schedule_for(settings)
    assert schedule["schedule_name"] == SCHEDULE_NAME
    assert schedule["schedule"] == "*/30 * * * * *"
    assert schedule["workflow_fn"] is evaluate_alerts
    assert schedule_for(Settings(alerts=AlertSettings(interval_seconds=300)))["schedule"] == (
        "0 */5 * * * *"
    )


def test_alerts_run_only_when_enabled_with_a_channel() -> None:
    assert alerts_active(Settings(alerts=AlertSettings(webhook_url=HOOK)))
    assert not alerts_active(Settings(alerts=AlertSettings(webhook_url=HOOK, enabled=False)))
    assert not alerts_active(Settings())  # no channel: nothing could be delivered


@pytest.mark.parametrize("seconds", [7, 90, 1000])
def test_an_interval_cron_cannot_say_is_refused(seconds: int) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"alerts.interval_seconds={seconds} ")):
        AlertSettings(interval_seconds=seconds)


def test_alert_defaults() -> None:
    alerts = AlertSettings()
    assert (alerts.enabled, alerts.interval_seconds, alerts.check_connections) == (True, 60, True)


def test_console_base_url_follows_the_port_unless_set() -> None:
    assert WebSettings().base_url == "http://127.0.0.1:8700"
    assert WebSettings(port=9100).base_url == "http://127.0.0.1:9100"
    given = WebSettings(port=9100, base_url="https://ops.example.com/dealbridge")
    assert given.base_url == "https://ops.example.com/dealbridge"
    with pytest.raises(ConfigError, match=re.escape("web.base_url='ops.example.com'")):
        WebSettings(base_url="ops.example.com")


def test_checks_are_recorded_only_when_their_outcome_changes(
    ledger: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    first = [status("salesforce", True, clock), status("netsuite", True, clock)]
    with session_scope(ledger) as session:
        assert record_changed_checks(session, latest_checks(session), first) == 2
    clock.advance(minutes=1)
    same = [status("salesforce", True, clock), status("netsuite", True, clock)]
    with session_scope(ledger) as session:
        assert record_changed_checks(session, latest_checks(session), same) == 0
    clock.advance(minutes=1)
    down = [status("salesforce", True, clock), status("netsuite", False, clock, "timed out")]
    with session_scope(ledger) as session:
        assert record_changed_checks(session, latest_checks(session), down) == 1

    with session_scope(ledger) as session:
        entries = list_audit(session, limit=10, action=TEST_ACTION)
        checks = {check.system: check for check in latest_checks(session)}
    assert len(entries) == 3
    assert {entry.actor for entry in entries} == {ACTOR}
    assert (checks["netsuite"].ok, checks["netsuite"].error) == (False, "timed out")
    assert checks["netsuite"].checked_at == clock()
    assert checks["salesforce"].checked_at == clock() - timedelta(minutes=2)


def test_recorded_checks_feed_the_rule_when_live_checks_are_off(
    ledger: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    with session_scope(ledger) as session:
        never = health_from(latest_checks(session))
        record_changed_checks(session, [], [status("netsuite", False, clock, "refused")])
    with session_scope(ledger) as session:
        recorded = health_from(latest_checks(session))

    assert never == []
    assert recorded == [ConnectionHealth("netsuite", False, clock(), "refused")]
    live = health_of(status("salesforce", True, clock))
    assert live == ConnectionHealth("salesforce", True, clock(), None)


def test_ticks_in_one_process_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ticks at once would both find a new error class unannounced and both send it."""
    inside, most, count = 0, 0, threading.Lock()

    class SlowService:
        def run_once(self, **_facts: object) -> list[object]:
            nonlocal inside, most
            with count:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with count:
                inside -= 1
            return []

    monkeypatch.setattr(alerting.AlertService, "from_settings", lambda *_args: SlowService())
    monkeypatch.setattr(alerting, "pending_work", list)
    monkeypatch.setattr(alerting, "latest_checks", lambda _session: [])
    ledger = SimpleNamespace(session=lambda: nullcontext(None), factory=None)
    runtime = SimpleNamespace(settings=Settings(), ledger=ledger)
    ticks = [threading.Thread(target=alerting._run_service, args=(runtime, None)) for _ in range(4)]
    for tick in ticks:
        tick.start()
    for tick in ticks:
        tick.join()

    assert most == 1
