"""Deal work ``PENDING`` past the threshold: the rule, and a tick through to a webhook."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.alerts import AlertService
from dealbridge.alerts.channels import WebhookChannel
from dealbridge.alerts.rules import AlertPolicy, LedgerSnapshot, evaluate, stale_pending
from dealbridge.settings import Settings
from dealbridge.sync.reaper import PendingWork
from tests.support.alert_receivers import FakeClock, WebhookReceiver, webhook_receiver

NOW = FakeClock().now
POLICY = AlertPolicy(base_url="https://console.example/", stale_pending_after=timedelta(minutes=30))


def _work(workflow_id: str, minutes_ago: float, executor: str | None = "w1") -> PendingWork:
    return PendingWork(
        workflow_id=workflow_id,
        name="sync_deal",
        executor_id=executor,
        app_version="v1",
        queue_name="deals",
        partition="001A",
        pending_since=NOW - timedelta(minutes=minutes_ago),
    )


def test_nothing_below_or_at_the_threshold() -> None:
    snapshot = LedgerSnapshot(at=NOW, pending=[_work("deal:a", 5), _work("deal:b", 30)])
    assert stale_pending(snapshot, POLICY) == []


def test_one_alert_for_every_stale_deal_naming_the_oldest() -> None:
    pending = [
        _work("deal:young", 2),
        _work("deal:old", 45, "w2"),
        _work("deal:older", 90, "w1"),
        _work("deal:orphan", 31, None),
    ]
    [alert] = stale_pending(LedgerSnapshot(at=NOW, pending=pending), POLICY)
    assert alert.key == "stale_pending"
    assert alert.kind == "stale_pending"
    assert alert.repeat is True
    assert alert.title == "3 deals PENDING for more than 30 minutes"
    assert "Oldest: deal:older" in alert.detail
    assert "on executor w1" in alert.detail
    assert "Executors holding stale deals: none, w1, w2." in alert.detail
    assert "deal:young" not in alert.detail
    assert alert.link == "https://console.example/runs?status=pending"
    assert alert.at == NOW


def test_one_stale_deal_is_singular() -> None:
    [alert] = stale_pending(LedgerSnapshot(at=NOW, pending=[_work("deal:x", 31)]), POLICY)
    assert alert.title == "1 deal PENDING for more than 30 minutes"


def test_the_threshold_is_the_policys() -> None:
    snapshot = LedgerSnapshot(at=NOW, pending=[_work("deal:x", 12)])
    tight = AlertPolicy(base_url="https://c.example", stale_pending_after=timedelta(minutes=10))
    assert [alert.kind for alert in evaluate(snapshot, tight)] == ["stale_pending"]
    assert evaluate(snapshot, POLICY) == []


def test_threshold_from_settings() -> None:
    settings = Settings(sync={"stale_pending_minutes": 90})
    assert AlertPolicy.from_settings(settings).stale_pending_after == timedelta(minutes=90)
    assert AlertPolicy.from_settings(Settings()).stale_pending_after == timedelta(minutes=30)


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


def _service(
    ledger: sessionmaker[Session], hook: WebhookReceiver, clock: FakeClock
) -> AlertService:
    return AlertService(
        ledger,
        [WebhookChannel(SecretStr(f"{hook.base_url}/services/hook"))],
        POLICY,
        repeat=timedelta(hours=4),
        window=timedelta(0),
        clock=clock,
    )


def test_a_tick_sends_stale_work_to_the_webhook_once_per_repeat(
    ledger: sessionmaker[Session], hook: WebhookReceiver
) -> None:
    clock = FakeClock()
    service = _service(ledger, hook, clock)
    pending = [_work("deal:stuck", 0)]  # PENDING since the start of the test's clock
    service.run_once(won=[])  # the first tick sets the alert baseline

    clock.advance(minutes=20)
    assert service.run_once(won=[], pending=pending) == []
    clock.advance(minutes=11)
    [alert] = service.run_once(won=[], pending=pending)
    assert alert.kind == "stale_pending"
    [(path, body)] = hook.posts
    assert path == "/services/hook"
    assert "1 deal PENDING for more than 30 minutes" in body["text"]
    assert "runs?status=pending" in str(body["blocks"])

    clock.advance(minutes=30)
    assert service.run_once(won=[], pending=pending) == []  # already told, not yet due again
    clock.advance(hours=4)
    assert [a.kind for a in service.run_once(won=[], pending=pending)] == ["stale_pending"]
    assert len(hook.posts) == 2
