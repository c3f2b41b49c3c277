import logging
import ssl
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from dealbridge.alerts.alert import Alert
from dealbridge.alerts.channels import (
    AlertDeliveryError,
    EmailChannel,
    WebhookChannel,
    _is_loopback,
    channels_from_settings,
)
from dealbridge.alerts.message import compose
from dealbridge.settings import AlertSettings
from tests.support.alert_receivers import (
    FakeClock,
    free_port,
    self_signed_tls,
    smtp_server,
    webhook_receiver,
)

NOW = FakeClock().now
SMTP_PASSWORD = "smtp-pass-9f8e7d"
MESSAGE = compose(
    [
        Alert(
            key="connection:netsuite",
            kind="connection_failing",
            title="Connection failing: netsuite",
            detail="The check failed: timeout.",
            link="https://console.example/connections",
            at=NOW,
        ),
        Alert(
            key="open_errors",
            kind="open_errors",
            title="12 open errors (threshold 10)",
            detail="Open errors by class: auth 12.",
            link="https://console.example/errors?state=open",
            at=NOW + timedelta(seconds=1),
        ),
    ]
)


def email(port: int, **options: object) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1",
        port=port,
        sender="dealbridge@ops.example",
        recipients=["finance@example.com", "revops@example.com"],
        **options,  # type: ignore[arg-type]
    )


def test_email_arrives_with_subject_body_and_links() -> None:
    with smtp_server() as (port, inbox):
        email(port).send(MESSAGE)
    [received] = inbox.messages
    assert received["Subject"] == "[dealbridge] 2 alerts: Connection failing: netsuite and more"
    assert received["From"] == "dealbridge@ops.example"
    assert received["To"] == "finance@example.com, revops@example.com"
    body = received.get_payload(decode=True).decode()
    assert "https://console.example/connections" in body
    assert "https://console.example/errors?state=open" in body
    assert inbox.envelopes == [
        ("dealbridge@ops.example", ["finance@example.com", "revops@example.com"])
    ]


def test_email_logs_in_when_credentials_are_set() -> None:
    with smtp_server(user="alerts", password=SMTP_PASSWORD) as (port, inbox):
        email(port, user="alerts", password=SecretStr(SMTP_PASSWORD)).send(MESSAGE)
    assert inbox.logins == [("alerts", True)]
    assert len(inbox.messages) == 1


def test_refused_login_is_a_delivery_error_without_the_password() -> None:
    with smtp_server(user="alerts", password="other-password") as (port, inbox):
        with pytest.raises(AlertDeliveryError) as caught:
            email(port, user="alerts", password=SecretStr(SMTP_PASSWORD)).send(MESSAGE)
    assert SMTP_PASSWORD not in str(caught.value)
    assert "failed: SMTP" in str(caught.value)
    assert inbox.messages == []


def test_starttls_is_used_when_offered(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    with smtp_server(user="alerts", password=SMTP_PASSWORD, tls=server_tls) as (port, inbox):
        channel = email(
            port, user="alerts", password=SecretStr(SMTP_PASSWORD), ssl_context=client_tls
        )
        channel.send(MESSAGE)
    assert inbox.starttls_used == [True]
    assert inbox.logins == [("alerts", True)]


def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    server_tls, _ = self_signed_tls(tmp_path)
    with smtp_server(tls=server_tls) as (port, inbox):
        with pytest.raises(AlertDeliveryError, match="SSL"):
            email(port, ssl_context=ssl.create_default_context()).send(MESSAGE)
    assert inbox.messages == []


def test_credentials_never_go_over_plain_text_to_a_remote_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("dealbridge.alerts.channels._is_loopback", lambda host: False)
    with smtp_server(user="alerts", password=SMTP_PASSWORD) as (port, inbox):
        with pytest.raises(AlertDeliveryError, match="offers no TLS"):
            email(port, user="alerts", password=SecretStr(SMTP_PASSWORD)).send(MESSAGE)
    assert inbox.logins == []
    assert inbox.messages == []


def test_unreachable_smtp_server() -> None:
    with pytest.raises(AlertDeliveryError, match="ConnectionRefusedError"):
        email(free_port()).send(MESSAGE)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("10.0.0.5", False),
        ("smtp.example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback


def test_webhook_posts_slack_compatible_json() -> None:
    with webhook_receiver() as receiver:
        WebhookChannel(SecretStr(f"{receiver.base_url}/services/T1/B2/xyz")).send(MESSAGE)
    [(path, payload)] = receiver.posts
    assert path == "/services/T1/B2/xyz"
    assert set(payload) == {"text", "blocks"}
    assert payload["text"].startswith("[dealbridge] 2 alerts")
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": MESSAGE.subject},
    }
    sections = [block["text"]["text"] for block in payload["blocks"][1:]]
    assert sections[0].startswith("*<https://console.example/connections|Connection failing")
    assert "errors?state=open" in sections[1]


def test_webhook_failures_never_show_the_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with webhook_receiver() as receiver:
        url = f"{receiver.base_url}/services/T1/B2/very-secret-part"
        receiver.status = 500
        with pytest.raises(AlertDeliveryError, match="webhook answered 500") as answered:
            WebhookChannel(SecretStr(url)).send(MESSAGE)
        receiver.status = 200
        WebhookChannel(SecretStr(url)).send(MESSAGE)
    with pytest.raises(AlertDeliveryError, match="ConnectError") as unreachable:
        WebhookChannel(SecretStr(f"http://127.0.0.1:{free_port()}/very-secret-part")).send(MESSAGE)
    for error in (answered.value, unreachable.value):
        assert "very-secret-part" not in str(error)
        assert error.__cause__ is None
    assert "very-secret-part" not in caplog.text
    assert "[webhook URL]" in caplog.text  # httpx's request line, masked


def test_webhook_uses_a_given_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        WebhookChannel(SecretStr("https://hooks.example/x"), client=client).send(MESSAGE)
    assert seen[0].url == "https://hooks.example/x"


def test_channels_from_settings() -> None:
    assert channels_from_settings(AlertSettings()) == []
    assert channels_from_settings(AlertSettings(smtp_host="mail.example")) == []  # no recipient
    configured = channels_from_settings(
        AlertSettings(
            smtp_host="mail.example",
            email_to=["ops@example.com"],
            webhook_url=SecretStr("https://hooks.example/x"),
        )
    )
    assert [channel.name for channel in configured] == ["email", "webhook"]
