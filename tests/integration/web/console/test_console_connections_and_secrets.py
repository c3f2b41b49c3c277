"""Connection tests from the console, and no configured secret on any console page."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.audit import list_audit
from dealbridge.db.session import dispose_engines, session_scope
from dealbridge.settings import Settings
from dealbridge.web import console, create_web_app
from tests.integration.web.console.conftest import Seeded, seed_ledger
from tests.integration.web.web_client import PASSWORDS, SESSION_SECRET, page_csrf, signed_in
from tests.support.alert_receivers import FakeClock, free_port

SF_CLIENT_SECRET = "sf-client-secret-Zq81xLw0"
NS_TOKEN_SECRET = "ns-token-secret-Pp42vVb9"
NS_CONSUMER_SECRET = "ns-consumer-secret-Hh73kKe5"


def unreachable_settings(settings: Settings) -> Settings:
    """Both systems configured, with secrets, at a local port nobody listens on."""
    dead = f"http://127.0.0.1:{free_port()}"
    return settings.model_copy(
        update={
            "salesforce": settings.salesforce.model_copy(
                update={
                    "auth_mode": "client_credentials",
                    "instance_url": dead,
                    "login_url": dead,
                    "client_id": "console-test",
                    "client_secret": SecretStr(SF_CLIENT_SECRET),
                    "max_attempts": 1,
                }
            ),
            "netsuite": settings.netsuite.model_copy(
                update={
                    "account": "1234567",
                    "base_url": dead + "/services/rest",
                    "auth_mode": "tba",
                    "consumer_key": "ck",
                    "consumer_secret": SecretStr(NS_CONSUMER_SECRET),
                    "token_id": "tid",
                    "token_secret": SecretStr(NS_TOKEN_SECRET),
                    "max_attempts": 1,
                }
            ),
        }
    )


def test_connection_test_records_and_shows_the_outcome(
    console_app: FastAPI, console_ledger: sessionmaker[Session]
) -> None:
    context = console_app.state.dealbridge
    context.settings = unreachable_settings(context.settings)
    with signed_in(console_app, "otto") as client:
        response = client.post(
            "/connections/salesforce/test", data={"csrf_token": page_csrf(client)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/connections?tested=salesforce"
        page = client.get(response.headers["location"]).text
        dashboard = client.get("/").text
        unknown = client.post("/connections/sap/test", data={"csrf_token": page_csrf(client)})
    alert = page.split('<p class="alert" role="alert">', 1)[1].split("</p>", 1)[0]
    assert alert.startswith("Salesforce check failed: ")
    row = page.split('data-system="salesforce"', 1)[1].split("</tr>", 1)[0]
    assert "failing" in row
    assert "otto" in row
    netsuite_row = page.split('data-system="netsuite"', 1)[1].split("</tr>", 1)[0]
    assert "not checked" in netsuite_row
    connections = dashboard.split('id="connections"', 1)[1].split("</table>", 1)[0]
    assert "failing" in connections
    assert unknown.status_code == 404
    with session_scope(console_ledger) as session:
        [entry] = list_audit(session, action="connection.test")
        assert (entry.actor, entry.target_id) == ("otto", "salesforce")
        assert entry.detail["ok"] is False
        assert entry.detail["kind"] in ("unreachable", "auth", "config")


def test_no_secret_on_any_console_page(
    tmp_path: Path, web_ledger_template: Path, settings: Settings
) -> None:
    configured = unreachable_settings(settings)
    app = create_web_app(configured, routers=console.routers, clock=FakeClock())
    seeded: Seeded = seed_ledger(app.state.dealbridge.ledger, FakeClock().now)
    answers: list[str] = []
    try:
        with signed_in(app, "ada") as client:
            csrf = page_csrf(client)
            for system in ("salesforce", "netsuite"):
                client.post(f"/connections/{system}/test", data={"csrf_token": csrf})
            bad_edit = {"record_key": "customer/x", "payload": "{", "csrf_token": csrf}
            client.post(f"/errors/{seeded.error_id}/edit-and-retry", data=bad_edit)
            paths = [
                "/", "/dashboard/fragment", "/runs", f"/runs/{seeded.ok_run}",
                f"/runs/{seeded.failed_run}", "/errors", "/errors?state=resolved",
                f"/errors/{seeded.error_id}", "/flows", "/flows/preview?opportunity=x",
                "/flows/preview?opportunity=006000000000001AAA", "/connections",
                "/connections?tested=netsuite", "/connections?tested=salesforce", "/reconciliation",
                "/audit",
            ]  # fmt: skip
            for path in paths:
                response = client.get(path)
                assert response.status_code in (200, 400, 502, 503), path
                headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
                answers.append(f"{path}\n{headers}\n{response.text}")
        with TestClient(app, follow_redirects=False) as anonymous:
            answers.append(anonymous.get("/errors").text)
    finally:
        dispose_engines()
    everything = "\n".join(answers)
    assert "Salesforce check failed" in everything  # the checks did run and were shown
    assert re.search(r"NetSuite check failed", everything)
    for label, secret in {
        "session secret": SESSION_SECRET,
        "salesforce client secret": SF_CLIENT_SECRET,
        "netsuite token secret": NS_TOKEN_SECRET,
        "netsuite consumer secret": NS_CONSUMER_SECRET,
        "admin password": PASSWORDS["ada"],
    }.items():
        assert secret not in everything, label
