"""One message from a batch of alerts: an email subject and body, and Slack blocks.

Slack allows 50 blocks per message, and a digest during an incident can hold hundreds of
alerts, so at most ``MAX_LISTED`` are listed and the rest are counted. Every string passes
``scrub`` last: a configured secret that slipped into an alert's text (an error message quoting
a URL) is replaced before anything leaves the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dealbridge.alerts.alert import Alert, AlertMessage

MAX_LISTED = 20
SCRUBBED = "***"
SUBJECT_PREFIX = "[dealbridge]"


def compose(alerts: Sequence[Alert], *, secrets: Sequence[str] = ()) -> AlertMessage:
    """The message for ``alerts`` (at least one), with every ``secrets`` value scrubbed."""
    listed, hidden = list(alerts[:MAX_LISTED]), max(0, len(alerts) - MAX_LISTED)
    subject = _subject(alerts)
    text = _text(subject, listed, hidden)
    blocks = _blocks(subject, listed, hidden)
    return AlertMessage(
        subject=scrub(subject, secrets),
        text=scrub(text, secrets),
        blocks=[_scrub_block(block, secrets) for block in blocks],
        alerts=tuple(alerts),
    )


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, SCRUBBED)
    return text


def _subject(alerts: Sequence[Alert]) -> str:
    if len(alerts) == 1:
        return f"{SUBJECT_PREFIX} {alerts[0].title}"
    return f"{SUBJECT_PREFIX} {len(alerts)} alerts: {alerts[0].title} and more"


def _text(subject: str, listed: list[Alert], hidden: int) -> str:
    lines = [subject, ""]
    for alert in listed:
        lines += [f"* {alert.title}", f"  {alert.detail}", f"  {alert.link}", ""]
    if hidden:
        lines.append(f"… and {hidden} more alerts.")
    return "\n".join(lines).rstrip() + "\n"


def _blocks(subject: str, listed: list[Alert], hidden: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}}
    ]
    for alert in listed:
        link, title = slack_escape(alert.link), slack_escape(alert.title)
        text = f"*<{link}|{title}>*\n{slack_escape(alert.detail)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if hidden:
        more = {"type": "mrkdwn", "text": f"… and {hidden} more alerts."}
        blocks.append({"type": "context", "elements": [more]})
    return blocks


def slack_escape(text: str) -> str:
    """Slack's three control characters escaped, so data cannot forge links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _scrub_block(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {key: _scrub_block(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_block(item, secrets) for item in value]
    return value
