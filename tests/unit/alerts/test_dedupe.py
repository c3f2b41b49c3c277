from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from dealbridge.alerts import dedupe, digest
from dealbridge.alerts.alert import Alert
from dealbridge.db.session import session_scope
from tests.support.alert_receivers import FakeClock

NOW = FakeClock().now
REPEAT = timedelta(hours=4)


def alert(key: str, *, repeat: bool = True) -> Alert:
    return Alert(key=key, kind="open_errors", title=key, detail="", link="", at=NOW, repeat=repeat)


def test_never_sent_is_due() -> None:
    assert dedupe.due_alerts([alert("a")], {}, NOW, REPEAT) == [alert("a")]


def test_recently_sent_is_not_due_until_repeat() -> None:
    sent = {"a": NOW - REPEAT + timedelta(seconds=1)}
    assert dedupe.due_alerts([alert("a")], sent, NOW, REPEAT) == []
    assert dedupe.due_alerts([alert("a")], sent, NOW + timedelta(seconds=1), REPEAT) == [alert("a")]


def test_one_time_alerts_never_repeat() -> None:
    once = alert("error_class:auth", repeat=False)
    sent = {"error_class:auth": NOW - timedelta(days=365)}
    assert dedupe.due_alerts([once], sent, NOW, REPEAT) == []


def test_long_keys_are_hashed_to_fit() -> None:
    name = dedupe.watermark_name("x" * 400)
    assert name.startswith("alert:sha256:")
    assert len(name) <= 255
    assert dedupe.watermark_name("short") == "alert:short"


def test_sent_times_persist_in_watermarks(ledger: sessionmaker[Session]) -> None:
    with session_scope(ledger) as session:
        dedupe.mark_sent(session, ["a", "y" * 400], NOW)
    with session_scope(ledger) as session:
        assert dedupe.last_sent(session, ["a", "y" * 400, "never"]) == {"a": NOW, "y" * 400: NOW}
    with session_scope(ledger) as session:
        dedupe.mark_sent(session, ["a"], NOW - timedelta(hours=1))  # an older send never wins
        assert dedupe.last_sent(session, ["a"]) == {"a": NOW}


def test_digest_window() -> None:
    window = timedelta(minutes=10)
    assert digest.window_open(None, NOW, window)
    assert not digest.window_open(NOW, NOW + timedelta(minutes=9), window)
    assert digest.window_open(NOW, NOW + timedelta(minutes=10), window)
    assert digest.window_open(NOW, NOW, timedelta(0))


def test_digest_delivery_time_persists(ledger: sessionmaker[Session]) -> None:
    with session_scope(ledger) as session:
        assert digest.last_delivery(session) is None
        digest.record_delivery(session, NOW)
    with session_scope(ledger) as session:
        assert digest.last_delivery(session) == NOW
