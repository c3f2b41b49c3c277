"""One alert tick: snapshot → rules → de-duplication → digest window → delivery → memory.

Run ``AlertService.run_once`` every minute or so from one process (the sync worker or the web
server); the state it needs is in the ledger, so the process may restart at any time. Delivery
counts when at least one channel took the message; if none did, nothing is marked sent and the
same alerts are due again at the next tick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.alerts import dedupe, digest
from dealbridge.alerts.alert import Alert
from dealbridge.alerts.channels import AlertChannel, AlertDeliveryError, channels_from_settings
from dealbridge.alerts.message import compose
from dealbridge.alerts.rules import AlertPolicy, ConnectionHealth, PendingDeal, WonDeal, evaluate
from dealbridge.alerts.snapshot import ledger_snapshot
from dealbridge.db.session import session_scope
from dealbridge.db.timestamps import utc_now
from dealbridge.settings import Settings

_log = structlog.get_logger("dealbridge.alerts")


class AlertService:
    """Evaluates the rules and delivers what is due.

    Args:
        ledger: Makes ledger sessions.
        channels: Where messages go; with none, ticks evaluate and deliver nothing.
        policy: Thresholds and the console's base URL.
        repeat: How long before a persisting alert is sent again.
        window: The digest window (``timedelta(0)``: every tick may send).
        secrets: Values scrubbed from every message (the configured credentials).
        clock: The current time; tests pass a fake one instead of sleeping.
    """

    def __init__(
        self,
        ledger: sessionmaker[Session],
        channels: Sequence[AlertChannel],
        policy: AlertPolicy,
        *,
        repeat: timedelta,
        window: timedelta,
        secrets: Sequence[str] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger, self.channels, self.policy = ledger, list(channels), policy
        self.repeat, self.window, self.clock = repeat, window, clock
        self._secrets = [secret for secret in secrets if secret]

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        ledger: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> AlertService:
        """The service the ``alerts`` and ``web`` settings describe."""
        alerts = settings.alerts
        return cls(
            ledger,
            channels_from_settings(alerts),
            AlertPolicy.from_settings(settings),
            repeat=timedelta(minutes=alerts.repeat_minutes),
            window=timedelta(minutes=alerts.digest_minutes),
            secrets=configured_secrets(settings),
            clock=clock,
        )

    def run_once(
        self,
        *,
        connections: Sequence[ConnectionHealth] = (),
        won: Sequence[WonDeal] | None = None,
        pending: Sequence[PendingDeal] = (),
    ) -> list[Alert]:
        """One tick; returns the alerts delivered (empty when none were due or sent).

        ``pending`` is the engine's ``PENDING`` deal work (``sync.reaper.pending_work()``): the
        caller, which runs DBOS, lists it; ``stale_pending`` decides what is old.
        """
        now = self.clock()
        batch = self._due_batch(now, connections, won, pending)
        if not batch or not self._deliver(batch):
            return []
        with session_scope(self.ledger) as session:
            dedupe.mark_sent(session, [alert.key for alert in batch], now)
            digest.record_delivery(session, now)
        return batch

    def _due_batch(
        self,
        now: datetime,
        connections: Sequence[ConnectionHealth],
        won: Sequence[WonDeal] | None,
        pending: Sequence[PendingDeal],
    ) -> list[Alert]:
        with session_scope(self.ledger) as session:
            snapshot = ledger_snapshot(
                session, at=now, won=won, connections=connections, pending=pending
            )
            alerts = evaluate(snapshot, self.policy)
            sent = dedupe.last_sent(session, [alert.key for alert in alerts])
            due = dedupe.due_alerts(alerts, sent, now, self.repeat)
            if not due or not digest.window_open(digest.last_delivery(session), now, self.window):
                return []
        return due

    def _deliver(self, batch: list[Alert]) -> bool:
        message = compose(batch, secrets=self._secrets)
        delivered = False
        for channel in self.channels:
            try:
                channel.send(message)
            except AlertDeliveryError as exc:
                _log.warning("alert_delivery_failed", channel=channel.name, error=str(exc))
                continue
            delivered = True
        _log.info("alerts_sent" if delivered else "alerts_held", count=len(batch))
        return delivered


def configured_secrets(settings: Settings) -> list[str]:
    """The credential values alert text must never contain."""
    candidates = [
        settings.alerts.smtp_password,
        settings.alerts.webhook_url,
        settings.web.session_secret,
        settings.netsuite.consumer_secret,
        settings.netsuite.token_secret,
        settings.salesforce.client_secret,
    ]
    return [secret.get_secret_value() for secret in candidates if secret is not None]
