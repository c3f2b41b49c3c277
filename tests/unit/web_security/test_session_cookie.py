from datetime import timedelta

import pytest

from dealbridge.web.security.session_cookie import RequestSession, request_session
from dealbridge.web.security.sessions import COOKIE_NAME, SessionCodec
from tests.support.alert_receivers import FakeClock


@pytest.fixture
def codec() -> SessionCodec:
    return SessionCodec(b"k" * 48, timedelta(minutes=30), timedelta(hours=12), clock=FakeClock())


def test_no_session_no_cookie(codec: SessionCodec) -> None:
    assert RequestSession(codec, None, had_cookie=False).cookie_header(secure=False) is None


def test_asking_for_a_csrf_token_starts_an_anonymous_session(codec: SessionCodec) -> None:
    session = RequestSession(codec, None, had_cookie=False)
    token = session.csrf_token()
    assert session.csrf_token() == token
    header = session.cookie_header(secure=False)
    assert header is not None
    text = header.decode()
    assert text.startswith(f"{COOKIE_NAME}=")
    assert "; HttpOnly" in text
    assert "; SameSite=Lax" in text
    assert "; Path=/" in text
    assert "Secure" not in text
    assert "Max-Age" not in text


def test_secure_flag(codec: SessionCodec) -> None:
    session = RequestSession(codec, None, had_cookie=False)
    session.csrf_token()
    header = session.cookie_header(secure=True)
    assert header is not None
    assert header.decode().endswith("; Secure")


def test_sign_in_rotates_id_and_token(codec: SessionCodec) -> None:
    anonymous = codec.new()
    session = RequestSession(codec, anonymous, had_cookie=True)
    session.sign_in(5, "f" * 16)
    state = session.state
    assert state is not None
    assert state.user_id == 5
    assert state.sid != anonymous.sid
    assert state.csrf != anonymous.csrf
    assert codec.decode(codec.encode(anonymous)) is None  # the pre-login session is dead


def test_sign_out_clears_the_cookie_and_revokes(codec: SessionCodec) -> None:
    session = RequestSession(codec, None, had_cookie=False)
    session.sign_in(5, "f" * 16)
    state = session.state
    assert state is not None
    session.sign_out()
    header = session.cookie_header(secure=False)
    assert header is not None
    assert "Max-Age=0" in header.decode()
    assert codec.decode(codec.encode(state)) is None


def test_dead_cookie_is_cleared(codec: SessionCodec) -> None:
    header = RequestSession(codec, None, had_cookie=True).cookie_header(secure=False)
    assert header is not None
    assert "Max-Age=0" in header.decode()


def test_unchanged_session_sends_no_cookie(codec: SessionCodec) -> None:
    session = RequestSession(codec, codec.new(), had_cookie=True)
    session.touch()  # anonymous sessions are not slid
    assert session.cookie_header(secure=False) is None


def test_missing_middleware_is_a_wiring_error() -> None:
    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        request_session({"type": "http"})
