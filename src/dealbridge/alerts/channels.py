"""Where alert messages go: email over SMTP and a Slack-compatible webhook.

Email (stdlib ``smtplib``): STARTTLS whenever the server offers it, implicit TLS on port 465,
login when a user is configured. Credentials are never sent over a plain connection except to a
loopback server (a local relay or a test server), so a misconfigured port cannot leak them.

Webhook (httpx): a POST of ``{"text": …, "blocks": […]}`` — the shape Slack's incoming webhooks
take and Mattermost, Teams workflows and most chat tools accept. The URL is a credential
(anyone holding a Slack webhook URL can post to the channel): it stays a ``SecretStr``, errors
name only the status or exception type, and the ``httpx`` logger's request line has it masked.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from dealbridge.alerts.alert import AlertMessage
from dealbridge.alerts.message import slack_escape
from dealbridge.errors import DealbridgeError
from dealbridge.settings import AlertSettings

TIMEOUT_SECONDS = 10.0
IMPLICIT_TLS_PORT = 465
MASKED_URL = "[webhook URL]"


class AlertDeliveryError(DealbridgeError):
    """A channel could not deliver a message; the alerts stay due and are tried again."""

    default_retryable = True
    default_failure_type = "remote_outage"


class AlertChannel(Protocol):
    """Something that delivers an ``AlertMessage``."""

    name: str

    def send(self, message: AlertMessage) -> None:
        """Deliver ``message`` or raise ``AlertDeliveryError``."""


class EmailChannel:
    """Sends alert messages by SMTP.

    Args:
        host: SMTP server.
        port: 587 (submission, STARTTLS), 465 (implicit TLS) or 25.
        sender: The From address.
        recipients: The To addresses.
        user: Login name; empty for no login.
        password: Login password.
        ssl_context: TLS settings; default verifies certificates against the system store.
    """

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        user: str = "",
        password: SecretStr | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.recipients = list(recipients)
        self.user, self._password = user, password
        self._tls = ssl_context or ssl.create_default_context()

    @classmethod
    def from_settings(cls, alerts: AlertSettings) -> EmailChannel | None:
        """The channel ``alerts`` configures, or ``None`` without a host or recipients."""
        if not alerts.smtp_host or not alerts.email_to:
            return None
        return cls(
            host=alerts.smtp_host,
            port=alerts.smtp_port,
            sender=alerts.smtp_from,
            recipients=alerts.email_to,
            user=alerts.smtp_user,
            password=alerts.smtp_password,
        )

    def send(self, message: AlertMessage) -> None:
        """Deliver ``message`` to every recipient in one SMTP transaction."""
        try:
            with self._connect() as smtp:
                self._secure_and_login(smtp)
                smtp.send_message(self._email(message))
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(
                f"email via {self.host}:{self.port} failed: {type(exc).__name__}"
            ) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.port == IMPLICIT_TLS_PORT:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT_SECONDS, context=self._tls
            )
        return smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        encrypted = isinstance(smtp, smtplib.SMTP_SSL)
        if not encrypted and smtp.has_extn("starttls"):
            smtp.starttls(context=self._tls)
            smtp.ehlo()
            encrypted = True
        if not self.user:
            return
        if not encrypted and not _is_loopback(self.host):
            raise AlertDeliveryError(
                f"{self.host}:{self.port} offers no TLS; refusing to send SMTP credentials"
            )
        password = self._password.get_secret_value() if self._password else ""
        smtp.login(self.user, password)

    def _email(self, message: AlertMessage) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email.set_content(message.text)
        return email


class WebhookChannel:
    """Posts alert messages to a Slack-compatible incoming webhook.

    Args:
        url: The webhook URL (a credential).
        client: An httpx client to use (tests, proxies); one is made per send otherwise.
    """

    name = "webhook"

    def __init__(self, url: SecretStr, *, client: httpx.Client | None = None) -> None:
        self._url = url
        self._client = client
        _mask_in_httpx_log(url.get_secret_value())

    @classmethod
    def from_settings(cls, alerts: AlertSettings) -> WebhookChannel | None:
        """The channel ``alerts`` configures, or ``None`` without a URL."""
        if alerts.webhook_url is None or not alerts.webhook_url.get_secret_value():
            return None
        return cls(alerts.webhook_url)

    def send(self, message: AlertMessage) -> None:
        """POST ``message``; any answer but 2xx is a failure."""
        payload: dict[str, Any] = {"text": slack_escape(message.text), "blocks": message.blocks}
        try:
            if self._client is not None:
                response = self._post(self._client, payload)
            else:
                with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
                    response = self._post(client, payload)
        except httpx.HTTPError as exc:
            # ``from None``: httpx's message contains the URL, which must not reach a log.
            raise AlertDeliveryError(f"webhook failed: {type(exc).__name__}") from None
        if not response.is_success:
            raise AlertDeliveryError(f"webhook answered {response.status_code}")

    def _post(self, client: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
        return client.post(self._url.get_secret_value(), json=payload, timeout=TIMEOUT_SECONDS)


def channels_from_settings(alerts: AlertSettings) -> list[AlertChannel]:
    """Every channel the settings configure (maybe none)."""
    found: list[AlertChannel | None] = [
        EmailChannel.from_settings(alerts),
        WebhookChannel.from_settings(alerts),
    ]
    return [channel for channel in found if channel is not None]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _UrlMask(logging.Filter):
    """Replaces the webhook URL in ``httpx``'s "HTTP Request: POST <url> …" log line."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(MASKED_URL if str(arg) in self.urls else arg for arg in record.args)
        return True


_MASK = _UrlMask()


def _mask_in_httpx_log(url: str) -> None:
    _MASK.urls.update({url, str(httpx.URL(url))})  # as given and as httpx prints it
    logger = logging.getLogger("httpx")
    if _MASK not in logger.filters:
        logger.addFilter(_MASK)
