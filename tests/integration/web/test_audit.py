"""Every authentication event lands in the audit log."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.models import AuditEntry
from dealbridge.db.session import session_scope
from dealbridge.web.security.accounts import add_user, disable_user
from dealbridge.web.security.passwords import Passwords
from dealbridge.web.security.tokens import issue_token, revoke_token
from tests.integration.web.web_client import login, page_csrf


def actions(ledger: sessionmaker[Session]) -> list[tuple[str, str, dict[str, object]]]:
    """Entries in the order they were written (the fake clock gives many the same time)."""
    with session_scope(ledger) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(entry.actor, entry.action, entry.detail) for entry in entries]


def test_login_events(client: TestClient, ledger: sessionmaker[Session]) -> None:
    login(client, "otto", "wrong-password")
    login(client, "ghost", "wrong-password")
    login(client, "otto", "wrong-password")
    login(client, "otto", "wrong-password")  # the third failure locks
    login(client, "otto")  # refused while locked
    login(client, "vera")
    client.post("/logout", data={"csrf_token": page_csrf(client)})
    logged = [(actor, action, detail.get("reason")) for actor, action, detail in actions(ledger)]
    assert logged[3:] == [
        ("otto", "login.failed", "bad_password"),
        ("ghost", "login.failed", "unknown_user"),
        ("otto", "login.failed", "bad_password"),
        ("otto", "login.failed", "bad_password"),
        ("otto", "login.locked", "too_many_failures"),
        ("otto", "login.locked", "locked"),
        ("vera", "login.ok", None),
        ("vera", "logout", None),
    ]
    assert all(detail.get("address") == "testclient" for _, _, detail in actions(ledger)[-8:])


def test_throttled_and_disabled_logins(
    app: FastAPI, client: TestClient, ledger: sessionmaker[Session]
) -> None:
    with session_scope(ledger) as session:
        disable_user(session, "vera", actor="ada")
    login(client, "vera")
    for number in range(12):
        login(client, f"nobody{number}", "x")
    login(client, "ada")
    logged = actions(ledger)
    assert ("ada", "user.disabled", {}) in logged
    assert ("vera", "login.failed", {"address": "testclient", "reason": "disabled"}) in logged
    assert logged[-1][:2] == ("ada", "login.failed")
    assert logged[-1][2]["reason"] == "address_throttled"


def test_user_and_token_management(ledger: sessionmaker[Session]) -> None:
    with session_scope(ledger) as session:
        add_user(
            session,
            username="nia",
            password="nia-password-123",
            role="operator",
            actor="ada",
            passwords=Passwords(),
        )
        issued = issue_token(session, name="ci", role="viewer", actor="ada")
        revoke_token(session, issued.row.id, actor="ada")
    logged = actions(ledger)[-3:]
    assert [(actor, action) for actor, action, _ in logged] == [
        ("ada", "user.added"),
        ("ada", "token.created"),
        ("ada", "token.revoked"),
    ]
    assert logged[0][2] == {"role": "operator"}
    assert logged[1][2] == {"name": "ci", "role": "viewer"}
    assert issued.value not in repr(logged)
