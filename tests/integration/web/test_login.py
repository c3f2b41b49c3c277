"""Login, logout, lockout, throttling and session lifetime, through the app's HTTP surface."""

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import users
from dealbridge.db.session import session_scope
from dealbridge.settings import Settings
from dealbridge.web import create_web_app
from dealbridge.web.security.passwords import default_hasher
from dealbridge.web.security.sessions import COOKIE_NAME
from tests.integration.web.web_client import PASSWORDS, csrf_from, login, page_csrf
from tests.support.alert_receivers import FakeClock

GENERIC_FAILURE = "Sign-in failed. Check your username and password."


def test_anonymous_console_request_is_sent_to_login(client: TestClient) -> None:
    response = client.get("/examples/page", params={"tab": "open"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fexamples%2Fpage%3Ftab%3Dopen"


def test_anonymous_api_request_gets_a_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/whoami")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_login_then_back_to_the_page(client: TestClient) -> None:
    response = login(client, "vera", next_="/examples/page")
    assert response.status_code == 303
    assert response.headers["location"] == "/examples/page"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert client.get("/examples/page").status_code == 200
    assert client.get("/api/v1/whoami").json() == {"kind": "user", "name": "vera", "role": "viewer"}


def test_login_page_skips_ahead_when_signed_in(client: TestClient) -> None:
    login(client, "vera")
    response = client.get("/login", params={"next": "/examples/page"})
    assert response.status_code == 303
    assert response.headers["location"] == "/examples/page"


def test_home_goes_to_the_account_page(client: TestClient) -> None:
    login(client, "ada")
    assert client.get("/").headers["location"] == "/account"
    page = client.get("/account")
    assert "ada" in page.text
    assert "admin" in page.text


def test_failures_all_look_the_same(client: TestClient) -> None:
    wrong = login(client, "vera", "not-the-password")
    unknown = login(client, "nobody-here", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert GENERIC_FAILURE in response.text
    assert client.get("/api/v1/whoami").status_code == 401


def test_open_redirects_are_refused(client: TestClient) -> None:
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]:
        client.cookies.clear()
        response = login(client, "vera", next_=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_logout_ends_the_session_for_good(client: TestClient) -> None:
    login(client, "vera")
    stolen = client.cookies.get(COOKIE_NAME)
    response = client.post("/logout", data={"csrf_token": page_csrf(client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/examples/page").status_code == 303
    client.cookies.set(COOKIE_NAME, stolen or "")  # a copy of the old cookie is refused too
    assert client.get("/api/v1/whoami").status_code == 401


def test_logout_needs_the_csrf_token(client: TestClient) -> None:
    login(client, "vera")
    assert client.post("/logout").status_code == 403
    assert client.get("/api/v1/whoami").status_code == 200


def test_session_id_changes_at_login(client: TestClient) -> None:
    page = client.get("/login")
    anonymous_cookie = client.cookies.get(COOKIE_NAME)
    form = {"username": "vera", "password": PASSWORDS["vera"], "csrf_token": csrf_from(page.text)}
    client.post("/login", data=form)
    assert client.cookies.get(COOKIE_NAME) != anonymous_cookie
    assert page_csrf(client) != csrf_from(page.text)
    client.cookies.set(COOKIE_NAME, anonymous_cookie or "")  # fixation: the old id is worthless
    assert client.get("/api/v1/whoami").status_code == 401


def test_lockout_after_repeated_failures(
    client: TestClient, clock: FakeClock, ledger: sessionmaker[Session]
) -> None:
    for _ in range(3):
        assert login(client, "otto", "wrong-password").status_code == 401
    locked = login(client, "otto")  # the right password, during the lockout
    assert locked.status_code == 401
    assert GENERIC_FAILURE in locked.text
    clock.advance(minutes=14)
    assert login(client, "otto").status_code == 401
    clock.advance(minutes=1)
    assert login(client, "otto").status_code == 303
    with session_scope(ledger) as session:
        user = users.get_user(session, "otto")
        assert user is not None
        assert user.failed_logins == 0


def test_lockout_is_per_user(client: TestClient) -> None:
    for _ in range(3):
        login(client, "otto", "wrong-password")
    assert login(client, "vera").status_code == 303


def test_one_address_guessing_many_users_is_throttled(client: TestClient) -> None:
    for number in range(12):  # 4 x lockout_attempts, spread so no user locks
        assert login(client, f"user{number}", "wrong-password").status_code == 401
    throttled = login(client, "vera")
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.text


def test_disabled_user_cannot_sign_in_and_loses_open_sessions(
    app: FastAPI, client: TestClient, ledger: sessionmaker[Session]
) -> None:
    login(client, "vera")
    with session_scope(ledger) as session:
        users.update_user(session, "vera", disabled=True)
    assert client.get("/api/v1/whoami").status_code == 401
    other = TestClient(app, follow_redirects=False)
    assert login(other, "vera").status_code == 401


def test_password_change_ends_existing_sessions(
    client: TestClient, ledger: sessionmaker[Session]
) -> None:
    login(client, "vera")
    with session_scope(ledger) as session:
        users.update_user(session, "vera", password_hash=PasswordHasher().hash("a new password 1"))
    assert client.get("/examples/page").status_code == 303


def test_outdated_hash_is_upgraded_at_login(
    client: TestClient, ledger: sessionmaker[Session]
) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORDS["vera"])
    with session_scope(ledger) as session:
        users.update_user(session, "vera", password_hash=cheap)
    assert login(client, "vera").status_code == 303
    with session_scope(ledger) as session:
        user = users.get_user(session, "vera")
        assert user is not None
        assert user.password_hash != cheap
        assert not default_hasher().check_needs_rehash(user.password_hash)
    assert client.get("/api/v1/whoami").status_code == 200  # the new hash keeps the session


def test_idle_sessions_expire(client: TestClient, clock: FakeClock) -> None:
    login(client, "vera")
    clock.advance(minutes=29)
    assert client.get("/api/v1/whoami").status_code == 200  # activity slides the idle expiry
    clock.advance(minutes=29)
    assert client.get("/api/v1/whoami").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/api/v1/whoami").status_code == 401


def test_active_sessions_still_end_at_the_absolute_limit(
    client: TestClient, clock: FakeClock
) -> None:
    login(client, "vera")
    for _ in range(11 * 4):
        clock.advance(minutes=15)
        assert client.get("/api/v1/whoami").status_code == 200
    clock.advance(hours=1, seconds=1)
    assert client.get("/api/v1/whoami").status_code == 401


def test_cookie_is_secure_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as secure:
        response = login(secure, "vera")
        assert "; Secure" in response.headers["set-cookie"]
        assert secure.get("/api/v1/whoami").status_code == 200


def test_cookie_is_secure_when_settings_say_so(settings: Settings, clock: FakeClock) -> None:
    forced = settings.model_copy(
        update={"web": settings.web.model_copy(update={"secure_cookies": True})}
    )
    with TestClient(create_web_app(forced, clock=clock), follow_redirects=False) as client:
        assert "; Secure" in client.get("/login").headers["set-cookie"]


def test_overlong_credentials_are_refused_before_hashing(client: TestClient) -> None:
    page = client.get("/login")
    password = "Secret-" + "x" * 1500
    form = {"username": "vera", "password": password, "csrf_token": csrf_from(page.text)}
    response = client.post("/login", data=form)
    assert response.status_code == 422
    assert "password" in response.text
    assert "Secret-" not in response.text  # FastAPI's default 422 would echo the input
