"""Alerts that reach people, about errors and about deals that silently never synced (issue 6).

What raises one: a new error class, too many open errors, a failing connection, a won deal with
no successful sync after ``missing_outcome_minutes``, deal work ``PENDING`` for longer than
``sync.stale_pending_minutes`` (a dead worker nobody could recover).

The pipeline, one ``AlertService.run_once`` per tick: ``snapshot`` reads the ledger →
``rules`` (pure functions) say what is wrong now → ``dedupe`` drops what was sent within
``repeat_minutes`` → ``digest`` holds alerts until the digest window opens, so a burst becomes
one message → ``message`` composes it (secrets scrubbed) → ``channels`` deliver it (SMTP,
Slack-compatible webhook). Nothing is kept in memory between ticks: sent-times and the digest
window live in the ledger's watermarks, so a restart neither repeats nor loses an alert.
"""

from __future__ import annotations

from dealbridge.alerts.alert import Alert, AlertMessage
from dealbridge.alerts.channels import (
    AlertChannel,
    AlertDeliveryError,
    EmailChannel,
    WebhookChannel,
    channels_from_settings,
)
from dealbridge.alerts.rules import (
    AlertPolicy,
    ConnectionHealth,
    LedgerSnapshot,
    PendingDeal,
    WonDeal,
)
from dealbridge.alerts.service import AlertService

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertDeliveryError",
    "AlertMessage",
    "AlertPolicy",
    "AlertService",
    "ConnectionHealth",
    "EmailChannel",
    "LedgerSnapshot",
    "PendingDeal",
    "WebhookChannel",
    "WonDeal",
    "channels_from_settings",
]
