from datetime import UTC, datetime, timedelta

import pytest

from dealbridge.web.security.sessions import (
    TOUCH_INTERVAL,
    SessionCodec,
    SessionState,
    password_fingerprint,
    same_secret,
)
from tests.support.alert_receivers import FakeClock

SECRET = b"k" * 48


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def codec(clock: FakeClock) -> SessionCodec:
    return SessionCodec(
        SECRET, idle=timedelta(minutes=30), max_age=timedelta(hours=12), clock=clock
    )


def signed_in(codec: SessionCodec) -> SessionState:
    fresh = codec.new()
    return SessionState(fresh.sid, fresh.csrf, fresh.issued_at, fresh.seen_at, 7, "f" * 16)


def test_round_trip(codec: SessionCodec) -> None:
    state = signed_in(codec)
    assert codec.decode(codec.encode(state)) == state


def test_new_sessions_are_anonymous_and_unique(codec: SessionCodec) -> None:
    first, second = codec.new(), codec.new()
    assert first.user_id is None
    assert first.sid != second.sid
    assert first.csrf != second.csrf
    assert len(first.csrf) >= 40


def test_cookie_is_signed_not_just_encoded(codec: SessionCodec) -> None:
    cookie = codec.encode(signed_in(codec))
    payload, _, signature = cookie.rpartition(".")
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert codec.decode(tampered) is None
    assert codec.decode("garbage") is None
    assert codec.decode("") is None


def test_another_key_cannot_forge_a_session(codec: SessionCodec, clock: FakeClock) -> None:
    forger = SessionCodec(b"x" * 48, idle=codec.idle, max_age=codec.max_age, clock=clock)
    assert codec.decode(forger.encode(signed_in(forger))) is None


def test_wrong_shape_is_refused(codec: SessionCodec) -> None:
    assert codec.decode(str(codec._serializer.dumps({"s": "x"}))) is None
    assert codec.decode(str(codec._serializer.dumps(["not", "a", "dict"]))) is None


def test_idle_expiry(codec: SessionCodec, clock: FakeClock) -> None:
    cookie = codec.encode(signed_in(codec))
    clock.advance(minutes=30)
    assert codec.decode(cookie) is not None
    clock.advance(seconds=1)
    assert codec.decode(cookie) is None


def test_absolute_expiry_despite_activity(codec: SessionCodec, clock: FakeClock) -> None:
    state = signed_in(codec)
    for _ in range(12 * 3):  # active every 20 minutes for 12 hours
        clock.advance(minutes=20)
        touched = codec.touched(state)
        assert touched is not None
        state = touched
        assert codec.decode(codec.encode(state)) is not None
    clock.advance(minutes=1)
    state = codec.touched(state) or state
    assert codec.decode(codec.encode(state)) is None


def test_touch_only_after_the_interval(codec: SessionCodec, clock: FakeClock) -> None:
    state = signed_in(codec)
    clock.advance(seconds=TOUCH_INTERVAL.total_seconds() - 1)
    assert codec.touched(state) is None
    clock.advance(seconds=1)
    touched = codec.touched(state)
    assert touched is not None
    assert touched.seen_at == clock.now


def test_revoked_sessions_are_refused(codec: SessionCodec) -> None:
    state = signed_in(codec)
    other = signed_in(codec)
    codec.revoke(state)
    assert codec.decode(codec.encode(state)) is None
    assert codec.decode(codec.encode(other)) is not None


def test_revocation_list_is_bounded(codec: SessionCodec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dealbridge.web.security.sessions.MAX_REVOKED", 3)
    states = [signed_in(codec) for _ in range(5)]
    for state in states:
        codec.revoke(state)
    assert len(codec._revoked) <= 3
    assert codec.decode(codec.encode(states[-1])) is None


def test_fingerprint_changes_with_the_hash_and_hides_it() -> None:
    first, second = password_fingerprint("$argon2id$a"), password_fingerprint("$argon2id$b")
    assert first != second
    assert len(first) == 16
    assert "argon" not in first


def test_same_secret() -> None:
    assert same_secret("abc", "abc")
    assert not same_secret("abc", "abd")
    assert not same_secret("abc", "")


def test_times_survive_the_cookie(codec: SessionCodec) -> None:
    state = signed_in(codec)
    decoded = codec.decode(codec.encode(state))
    assert decoded is not None
    assert decoded.issued_at.tzinfo is not None
    assert decoded.issued_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
