"""No configured secret appears in any answer, alert or log line (issue 6, "Done means")."""

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from dealbridge.alerts import AlertService, ConnectionHealth
from dealbridge.db.session import dispose_engines
from dealbridge.db.timestamps import utc_now
from dealbridge.settings import Settings
from dealbridge.web import create_web_app
from tests.integration.web.web_client import (
    PASSWORDS,
    csrf_from,
    example_router,
    page_csrf,
    token_for,
)
from tests.support.alert_receivers import SmtpInbox, WebhookReceiver, smtp_server, webhook_receiver

SESSION_SECRET = "sess-" + "Z9y8X7w6" * 6
SMTP_PASSWORD = "smtp-Pa55-word-4471"
WEBHOOK_PART = "T0SECRET/B0SECRET/webhook-secret-xyz"


class Recorder:
    """Everything the app and the alerts sent anywhere."""

    def __init__(self) -> None:
        self.answers: list[str] = []

    def keep(self, response: httpx.Response) -> httpx.Response:
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        self.answers.append(f"{response.status_code}\n{headers}\n{response.text}")
        return response


@pytest.fixture
def receivers() -> Iterator[tuple[int, SmtpInbox, WebhookReceiver]]:
    with smtp_server(user="alerts", password=SMTP_PASSWORD) as (port, inbox):
        with webhook_receiver() as hook:
            yield port, inbox, hook


def test_no_secret_anywhere(
    tmp_path: Path,
    web_ledger_template: Path,
    receivers: tuple[int, SmtpInbox, WebhookReceiver],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, inbox, hook = receivers
    webhook_url = f"{hook.base_url}/services/{WEBHOOK_PART}"
    database = tmp_path / "ledger.sqlite3"
    shutil.copyfile(web_ledger_template, database)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{database}",
        web={"session_secret": SESSION_SECRET, "max_body_bytes": 4096},
        alerts={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_user": "alerts",
            "smtp_password": SMTP_PASSWORD,
            "email_to": ["ops@example.com"],
            "webhook_url": webhook_url,
            "digest_minutes": 0,
        },
    )
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    with capture_logs() as structured:
        token = exercise_web(settings, recorder)
        exercise_alerts(settings, webhook_url)
    dispose_engines()

    sent_alerts = [message.as_string() for message in inbox.messages] + [
        repr(payload) for _, payload in hook.posts
    ]
    assert len(sent_alerts) == 2  # the alert did go out, by email and webhook
    everything = "\n".join(
        [*recorder.answers, *sent_alerts, caplog.text, repr(structured), *map(repr, caplog.records)]
    )
    secrets = {
        "session secret": SESSION_SECRET,
        "smtp password": SMTP_PASSWORD,
        "webhook URL": webhook_url,
        "webhook path": WEBHOOK_PART,
        "user password": PASSWORDS["ada"],
        "wrong password tried": "guess-Pa55word-0001",
        "api token": token,
    }
    for label, secret in secrets.items():
        assert secret not in everything, label
    assert "login" in repr(structured)  # the logs were captured at all


def exercise_web(settings: Settings, recorder: Recorder) -> str:
    """Walk through every kind of answer: pages, refusals, errors, API, health."""
    app = create_web_app(settings, routers=[example_router()])
    with TestClient(app, follow_redirects=False) as client:
        keep = recorder.keep
        keep(client.get("/examples/page"))
        keep(client.get("/api/v1/whoami"))
        page = keep(client.get("/login"))
        form = {"username": "ada", "csrf_token": csrf_from(page.text)}
        keep(client.post("/login", data={**form, "password": "guess-Pa55word-0001"}))
        keep(client.post("/login", data={**form, "password": PASSWORDS["ada"]}))
        for path in [
            "/",
            "/account",
            "/examples/page",
            "/api/v1/whoami",
            "/readyz",
            "/healthz",
            "/api/v1/openapi.json",
            "/static/dealbridge.css",
            "/missing",
        ]:
            keep(client.get(path))
        csrf = page_csrf(client)
        keep(client.post("/examples/retry", data={"csrf_token": csrf}))
        keep(client.post("/examples/retry", data={"csrf_token": "forged"}))
        keep(
            client.post(
                "/api/v1/examples/size", content=b"x" * 9000, headers={"X-CSRF-Token": csrf}
            )
        )
        token = token_for(app.state.dealbridge.ledger, "viewer")
        bearer = {"Authorization": f"Bearer {token}"}
        keep(client.get("/api/v1/whoami", headers=bearer))
        keep(client.post("/api/v1/examples/admin", headers=bearer))
        keep(client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}x"}))
        keep(client.post("/logout", data={"csrf_token": csrf}))
    return token


def exercise_alerts(settings: Settings, webhook_url: str) -> None:
    """An alert whose raw facts quote secrets, delivered for real."""
    ledger = create_web_app(settings).state.dealbridge.ledger
    failing = ConnectionHealth(
        "netsuite",
        ok=False,
        checked_at=utc_now(),
        error=f"POST {webhook_url} refused; smtp login with {SMTP_PASSWORD}",
    )
    delivered = AlertService.from_settings(settings, ledger).run_once(connections=[failing], won=[])
    assert [alert.key for alert in delivered] == ["connection:netsuite"]
