"""The whole alert tick against a real ledger, a local SMTP server and a local webhook."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.alerts import Alert, AlertService, ConnectionHealth, WonDeal
from dealbridge.alerts.channels import AlertDeliveryError, EmailChannel, WebhookChannel
from dealbridge.alerts.message import compose
from dealbridge.alerts.rules import AlertPolicy
from dealbridge.alerts.service import configured_secrets
from dealbridge.db import open_errors, runs
from dealbridge.db.session import session_scope
from dealbridge.settings import Settings
from tests.support.alert_receivers import (
    FakeClock,
    SmtpInbox,
    WebhookReceiver,
    smtp_server,
    webhook_receiver,
)

BASE = "https://console.example"


class Wiring:
    def __init__(
        self,
        ledger: sessionmaker[Session],
        clock: FakeClock,
        inbox: SmtpInbox,
        hook: WebhookReceiver,
        port: int,
    ) -> None:
        self.ledger, self.clock, self.inbox, self.hook = ledger, clock, inbox, hook
        self.channels = [
            EmailChannel(
                host="127.0.0.1", port=port, sender="db@x.example", recipients=["o@x.example"]
            ),
            WebhookChannel(SecretStr(f"{hook.base_url}/services/hook")),
        ]
        self.service = AlertService(
            ledger,
            self.channels,
            AlertPolicy(base_url=BASE, open_errors_threshold=2),
            repeat=timedelta(hours=4),
            window=timedelta(minutes=10),
            clock=clock,
        )

    def fail(self, opportunity: str, failure_type: str = "validation") -> None:
        failure = open_errors.Failure(failure_type=failure_type, message=f"{opportunity} broke")
        with session_scope(self.ledger) as session:
            open_errors.record_failure(
                session, failure, opportunity_id=opportunity, at=self.clock()
            )

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.inbox.messages]


@pytest.fixture
def wiring(ledger: sessionmaker[Session]) -> Iterator[Wiring]:
    with smtp_server() as (port, inbox), webhook_receiver() as hook:
        yield Wiring(ledger, FakeClock(), inbox, hook, port)


def test_first_tick_sets_the_baseline_and_sends_nothing(wiring: Wiring) -> None:
    wiring.fail("006OLD", "auth")  # already in the ledger when alerting starts
    wiring.clock.advance(minutes=1)
    assert wiring.service.run_once(won=[]) == []
    assert wiring.inbox.messages == []
    assert wiring.hook.posts == []


def test_new_error_class_is_sent_once_to_every_channel(wiring: Wiring) -> None:
    wiring.service.run_once(won=[])
    wiring.clock.advance(minutes=1)
    wiring.fail("006A", "validation")
    [alert] = wiring.service.run_once(won=[])
    assert alert.key == "error_class:validation"
    assert wiring.subjects() == ["[dealbridge] New error class: validation"]
    [(path, payload)] = wiring.hook.posts
    assert path == "/services/hook"
    assert f"{BASE}/errors?class=validation" in payload["text"]
    wiring.clock.advance(days=2)
    assert wiring.service.run_once(won=[]) == []  # news once, never repeated
    assert len(wiring.inbox.messages) == 1


def test_persisting_condition_is_repeated_after_repeat_minutes(wiring: Wiring) -> None:
    health = [ConnectionHealth("netsuite", ok=False, checked_at=wiring.clock(), error="timeout")]
    assert [a.key for a in wiring.service.run_once(connections=health, won=[])] == [
        "connection:netsuite"
    ]
    for _ in range(23):  # every 10 minutes for almost 4 hours: deduplicated
        wiring.clock.advance(minutes=10)
        assert wiring.service.run_once(connections=health, won=[]) == []
    wiring.clock.advance(minutes=10)
    assert len(wiring.service.run_once(connections=health, won=[])) == 1
    assert wiring.subjects() == ["[dealbridge] Connection failing: netsuite"] * 2


def test_a_burst_becomes_one_digest(wiring: Wiring) -> None:
    wiring.service.run_once(won=[])
    wiring.clock.advance(minutes=1)
    wiring.fail("006A", "validation")
    assert len(wiring.service.run_once(won=[])) == 1  # the first news goes out at once
    for minute, (opportunity, kind) in enumerate(
        [("006B", "auth"), ("006C", "rate_limit"), ("006D", "auth")], start=1
    ):
        wiring.clock.advance(minutes=2)
        wiring.fail(opportunity, kind)
        assert wiring.service.run_once(won=[]) == [], minute  # held: the window is closed
    wiring.clock.advance(minutes=4)  # 10 minutes after the first message
    batch = wiring.service.run_once(won=[])
    assert sorted(alert.key for alert in batch) == [
        "error_class:auth",
        "error_class:rate_limit",
        "open_errors",
    ]
    assert len(wiring.inbox.messages) == 2
    assert wiring.subjects()[1].startswith("[dealbridge] 3 alerts: ")
    assert len(wiring.hook.posts) == 2


def test_missing_outcome_from_the_run_history(wiring: Wiring) -> None:
    with session_scope(wiring.ledger) as session:
        for opportunity in ("006SYNCED", "006STUCK"):
            runs.start_run(
                session,
                workflow_id=f"deal:{opportunity}:1",
                opportunity_id=opportunity,
                trigger="poller",
                received_at=wiring.clock(),
            )
        done = runs.get_run_by_workflow(session, "deal:006SYNCED:1")
        assert done is not None
        runs.finish_run(session, done.id, status="synced", finished_at=wiring.clock())
    wiring.clock.advance(minutes=29)
    assert wiring.service.run_once() == []
    wiring.clock.advance(minutes=2)
    [alert] = wiring.service.run_once()
    assert alert.key == "missing_outcome:006STUCK"
    assert f"{BASE}/runs?opportunity=006STUCK" in wiring.inbox.messages[0].get_payload()


def test_missing_outcome_from_the_poller(wiring: Wiring) -> None:
    won = [WonDeal("006NEVERSEEN", wiring.clock() - timedelta(hours=1))]
    [alert] = wiring.service.run_once(won=won)
    assert alert.key == "missing_outcome:006NEVERSEEN"


def test_nothing_is_marked_sent_when_every_channel_fails(
    wiring: Wiring, ledger: sessionmaker[Session]
) -> None:
    class Broken:
        name = "broken"

        def send(self, message: object) -> None:
            raise AlertDeliveryError("down")

    service = AlertService(
        ledger,
        [Broken()],
        AlertPolicy(base_url=BASE),
        repeat=timedelta(hours=1),
        window=timedelta(minutes=10),
        clock=wiring.clock,
    )
    won = [WonDeal("006Q", wiring.clock() - timedelta(hours=1))]
    assert service.run_once(won=won) == []
    assert len(wiring.service.run_once(won=won)) == 1  # still due for the working channels


def test_one_working_channel_is_enough(wiring: Wiring) -> None:
    wiring.hook.status = 500
    won = [WonDeal("006Q", wiring.clock() - timedelta(hours=1))]
    assert len(wiring.service.run_once(won=won)) == 1
    assert len(wiring.inbox.messages) == 1
    wiring.clock.advance(minutes=30)
    assert wiring.service.run_once(won=won) == []


def test_configured_secrets_are_scrubbed_from_messages() -> None:
    settings = Settings(
        alerts={"smtp_password": "smtp-secret-1", "webhook_url": "https://hooks.example/T/B/zz"},
        web={"session_secret": "w" * 40},
    )
    secrets = configured_secrets(settings)
    assert {"smtp-secret-1", "https://hooks.example/T/B/zz", "w" * 40} <= set(secrets)
    leaky = Alert(
        key="connection:x",
        kind="connection_failing",
        title="x",
        detail="failed calling https://hooks.example/T/B/zz with smtp-secret-1",
        link=BASE,
        at=datetime.now().astimezone(),
    )
    text = compose([leaky], secrets=secrets).text
    assert "zz" not in text
    assert "smtp-secret-1" not in text


def test_from_settings(ledger: sessionmaker[Session]) -> None:
    settings = Settings(
        web={"base_url": "https://c.example"},
        alerts={"smtp_host": "mail.example", "email_to": ["a@x.example"], "digest_minutes": 0},
    )
    service = AlertService.from_settings(settings, ledger)
    assert [channel.name for channel in service.channels] == ["email"]
    assert service.window == timedelta(0)
    assert service.policy.base_url == "https://c.example"
