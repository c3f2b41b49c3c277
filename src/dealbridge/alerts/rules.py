"""The alert rules: pure functions from a snapshot of the ledger to the alerts that hold now.

Pure so each rule is tested with plain data and no clock: the snapshot carries ``at``. Rules
are stateless and re-raise the same alert every tick while its condition lasts; ``dedupe``
decides what is actually sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from dealbridge.alerts.alert import Alert, console_link
from dealbridge.settings import Settings

MAX_ERROR_TEXT = 200


@dataclass(frozen=True)
class ConnectionHealth:
    """The last check of one connection (Salesforce, NetSuite, SMTP…)."""

    name: str
    ok: bool
    checked_at: datetime
    error: str | None = None


@dataclass(frozen=True)
class WonDeal:
    """An opportunity that became Closed Won, and when we learnt it."""

    opportunity_id: str
    won_at: datetime


class PendingDeal(Protocol):
    """A deal workflow that is ``PENDING`` (claimed by an executor) and since when.

    A protocol rather than a class of this package: the engine's ``sync.reaper.PendingWork``
    fits it as is, and alerts may not import the engine (they are peers in the layers).
    """

    @property
    def workflow_id(self) -> str: ...  # noqa: D102

    @property
    def executor_id(self) -> str | None: ...  # noqa: D102

    @property
    def pending_since(self) -> datetime: ...  # noqa: D102


@dataclass(frozen=True)
class LedgerSnapshot:
    """What the rules look at.

    Attributes:
        at: When the snapshot was taken.
        error_classes: Each failure type ever recorded → when it first appeared.
        open_errors: Active (open or retrying) errors per failure type.
        connections: The latest health check of each connection.
        unsynced: Won deals with no successful sync yet.
        baseline: Error classes first seen before this are not news (alerting started later).
        pending: Deal workflows ``PENDING`` now (``sync.reaper.pending_work``), any age.
    """

    at: datetime
    error_classes: Mapping[str, datetime] = field(default_factory=dict)
    open_errors: Mapping[str, int] = field(default_factory=dict)
    connections: Sequence[ConnectionHealth] = ()
    unsynced: Sequence[WonDeal] = ()
    baseline: datetime | None = None
    pending: Sequence[PendingDeal] = ()


@dataclass(frozen=True)
class AlertPolicy:
    """The thresholds, from ``alerts`` settings, and where links point (``web.base_url``)."""

    base_url: str
    open_errors_threshold: int = 10
    missing_outcome_after: timedelta = timedelta(minutes=30)
    stale_pending_after: timedelta = timedelta(minutes=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        """The policy the settings describe."""
        alerts = settings.alerts
        return cls(
            base_url=settings.web.base_url,
            open_errors_threshold=alerts.open_errors_threshold,
            missing_outcome_after=timedelta(minutes=alerts.missing_outcome_minutes),
            stale_pending_after=timedelta(minutes=settings.sync.stale_pending_minutes),
        )


def evaluate(snapshot: LedgerSnapshot, policy: AlertPolicy) -> list[Alert]:
    """Every alert that holds in ``snapshot``."""
    return [
        *new_error_classes(snapshot, policy),
        *open_errors_over_threshold(snapshot, policy),
        *failing_connections(snapshot, policy),
        *missing_outcomes(snapshot, policy),
        *stale_pending(snapshot, policy),
    ]


def new_error_classes(snapshot: LedgerSnapshot, policy: AlertPolicy) -> list[Alert]:
    """A failure type first seen after the baseline: someone should learn what it means."""
    return [
        Alert(
            key=f"error_class:{kind}",
            kind="new_error_class",
            title=f"New error class: {kind}",
            detail=f"Deals started failing with a {kind} error for the first time "
            f"at {first.isoformat(timespec='seconds')}.",
            link=console_link(policy.base_url, "/errors", **{"class": kind}),
            at=snapshot.at,
            repeat=False,
        )
        for kind, first in sorted(snapshot.error_classes.items())
        if snapshot.baseline is not None and first >= snapshot.baseline
    ]


def open_errors_over_threshold(snapshot: LedgerSnapshot, policy: AlertPolicy) -> list[Alert]:
    """More open errors than the threshold: the backlog needs attention."""
    total = sum(snapshot.open_errors.values())
    if total <= policy.open_errors_threshold:
        return []
    by_class = ", ".join(f"{kind} {count}" for kind, count in sorted(snapshot.open_errors.items()))
    return [
        Alert(
            key="open_errors",
            kind="open_errors",
            title=f"{total} open errors (threshold {policy.open_errors_threshold})",
            detail=f"Open errors by class: {by_class}.",
            link=console_link(policy.base_url, "/errors", state="open"),
            at=snapshot.at,
        )
    ]


def failing_connections(snapshot: LedgerSnapshot, policy: AlertPolicy) -> list[Alert]:
    """A connection whose last check failed: deals cannot flow through it."""
    return [
        Alert(
            key=f"connection:{health.name}",
            kind="connection_failing",
            title=f"Connection failing: {health.name}",
            detail=f"The check at {health.checked_at.isoformat(timespec='seconds')} failed: "
            f"{_short(health.error or 'no detail')}",
            link=console_link(policy.base_url, "/connections"),
            at=snapshot.at,
        )
        for health in snapshot.connections
        if not health.ok
    ]


def missing_outcomes(snapshot: LedgerSnapshot, policy: AlertPolicy) -> list[Alert]:
    """A deal won long enough ago that it should have synced, and has not."""
    cutoff = snapshot.at - policy.missing_outcome_after
    minutes = int(policy.missing_outcome_after.total_seconds() // 60)
    return [
        Alert(
            key=f"missing_outcome:{deal.opportunity_id}",
            kind="missing_outcome",
            title=f"No sync for won opportunity {deal.opportunity_id}",
            detail=f"Won at {deal.won_at.isoformat(timespec='seconds')}; still not synced "
            f"after {minutes} minutes.",
            link=console_link(policy.base_url, "/runs", opportunity=deal.opportunity_id),
            at=snapshot.at,
        )
        for deal in sorted(snapshot.unsynced, key=lambda deal: deal.won_at)
        if deal.won_at <= cutoff
    ]


def stale_pending(snapshot: LedgerSnapshot, policy: AlertPolicy) -> list[Alert]:
    """Deals ``PENDING`` longer than the threshold: claimed by a worker and not moving.

    A deal is ``PENDING`` for seconds normally, and for up to ~17 minutes while its steps wait
    out an outage; longer means no live worker of its application version can finish it (a
    deploy that stopped every old worker, a failing reaper). One alert for all of them, so an
    incident is one message however many deals it holds.
    """
    limit = policy.stale_pending_after
    stale = sorted(
        (work for work in snapshot.pending if snapshot.at - work.pending_since > limit),
        key=lambda work: work.pending_since,
    )
    if not stale:
        return []
    oldest = stale[0]
    executors = sorted({work.executor_id or "none" for work in stale})
    minutes = int(limit.total_seconds() // 60)
    count = f"{len(stale)} deal{'s' if len(stale) != 1 else ''}"
    return [
        Alert(
            key="stale_pending",
            kind="stale_pending",
            title=f"{count} PENDING for more than {minutes} minutes",
            detail=f"Oldest: {oldest.workflow_id}, PENDING since "
            f"{oldest.pending_since.isoformat(timespec='seconds')} on executor "
            f"{oldest.executor_id or 'none'}. Executors holding stale deals: "
            f"{_short(', '.join(executors))}. A live worker of the deals' application version "
            "must run to finish them (docs/operations.md, Scale-out and deploys).",
            link=console_link(policy.base_url, "/runs", status="pending"),
            at=snapshot.at,
        )
    ]


def _short(text: str) -> str:
    """One line, bounded: a remote error text can be long and multi-line."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_TEXT else line[: MAX_ERROR_TEXT - 1] + "…"
