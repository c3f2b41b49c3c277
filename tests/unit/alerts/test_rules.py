from datetime import timedelta

from dealbridge.alerts.rules import (
    AlertPolicy,
    ConnectionHealth,
    LedgerSnapshot,
    WonDeal,
    evaluate,
    failing_connections,
    missing_outcomes,
    new_error_classes,
    open_errors_over_threshold,
)
from dealbridge.settings import Settings
from tests.support.alert_receivers import FakeClock

NOW = FakeClock().now
POLICY = AlertPolicy(base_url="https://console.example/", open_errors_threshold=3)


def test_new_error_class_only_after_the_baseline() -> None:
    snapshot = LedgerSnapshot(
        at=NOW,
        error_classes={"auth": NOW - timedelta(days=2), "validation": NOW - timedelta(minutes=1)},
        baseline=NOW - timedelta(hours=1),
    )
    [alert] = new_error_classes(snapshot, POLICY)
    assert alert.key == "error_class:validation"
    assert alert.kind == "new_error_class"
    assert alert.repeat is False
    assert alert.link == "https://console.example/errors?class=validation"
    assert "validation" in alert.title


def test_no_baseline_means_nothing_is_new() -> None:
    snapshot = LedgerSnapshot(at=NOW, error_classes={"auth": NOW})
    assert new_error_classes(snapshot, POLICY) == []


def test_open_errors_above_threshold_only() -> None:
    at_threshold = LedgerSnapshot(at=NOW, open_errors={"auth": 2, "validation": 1})
    assert open_errors_over_threshold(at_threshold, POLICY) == []
    above = LedgerSnapshot(at=NOW, open_errors={"auth": 2, "validation": 2})
    [alert] = open_errors_over_threshold(above, POLICY)
    assert alert.key == "open_errors"
    assert alert.title == "4 open errors (threshold 3)"
    assert "auth 2, validation 2" in alert.detail
    assert alert.link == "https://console.example/errors?state=open"


def test_failing_connection_with_a_bounded_one_line_error() -> None:
    snapshot = LedgerSnapshot(
        at=NOW,
        connections=[
            ConnectionHealth("salesforce", ok=True, checked_at=NOW),
            ConnectionHealth("netsuite", ok=False, checked_at=NOW, error="timeout\n" + "x" * 500),
        ],
    )
    [alert] = failing_connections(snapshot, POLICY)
    assert alert.key == "connection:netsuite"
    assert "\n" not in alert.detail
    assert len(alert.detail) < 300
    assert alert.link == "https://console.example/connections"


def test_missing_outcome_after_the_delay_only() -> None:
    policy = AlertPolicy(base_url="http://c", missing_outcome_after=timedelta(minutes=30))
    snapshot = LedgerSnapshot(
        at=NOW,
        unsynced=[
            WonDeal("006A", NOW - timedelta(minutes=29)),
            WonDeal("006B", NOW - timedelta(minutes=30)),
            WonDeal("006C", NOW - timedelta(hours=5)),
        ],
    )
    alerts = missing_outcomes(snapshot, policy)
    assert [alert.key for alert in alerts] == ["missing_outcome:006C", "missing_outcome:006B"]
    assert alerts[0].link == "http://c/runs?opportunity=006C"
    assert "30 minutes" in alerts[0].detail


def test_evaluate_combines_every_rule() -> None:
    snapshot = LedgerSnapshot(
        at=NOW,
        error_classes={"auth": NOW},
        open_errors={"auth": 9},
        connections=[ConnectionHealth("netsuite", ok=False, checked_at=NOW)],
        unsynced=[WonDeal("006X", NOW - timedelta(days=1))],
        baseline=NOW - timedelta(minutes=5),
    )
    kinds = [alert.kind for alert in evaluate(snapshot, POLICY)]
    assert kinds == ["new_error_class", "open_errors", "connection_failing", "missing_outcome"]


def test_healthy_snapshot_raises_nothing() -> None:
    assert evaluate(LedgerSnapshot(at=NOW, baseline=NOW), POLICY) == []


def test_policy_from_settings() -> None:
    settings = Settings(
        web={"base_url": "https://db.example"},
        alerts={"open_errors_threshold": 7, "missing_outcome_minutes": 45},
    )
    policy = AlertPolicy.from_settings(settings)
    assert policy == AlertPolicy("https://db.example", 7, timedelta(minutes=45))
