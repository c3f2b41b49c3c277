"""Reading what the rules need from the ledger, in one transaction.

Error classes and open-error counts come from ``sync_errors``. Won deals come from the caller
(the poller knows every Closed Won opportunity, including ones whose notification never
arrived) or, by default, from the run history: every opportunity that triggered a run in the
lookback window. A deal counts as synced once any of its runs ended ``synced`` or ``unchanged``.
The baseline (watermark ``alert:baseline``) is set at the first tick ever, so the error classes
a ledger already had when alerting was switched on are not announced as new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dealbridge.alerts.rules import ConnectionHealth, LedgerSnapshot, PendingDeal, WonDeal
from dealbridge.db import open_errors
from dealbridge.db.models import ACTIVE_ERROR_STATES, Run
from dealbridge.db.runs import SUCCESS_STATUSES
from dealbridge.db.watermarks import advance_watermark, get_watermark, parse_instant

BASELINE = "alert:baseline"
DEFAULT_LOOKBACK = timedelta(days=7)
MAX_TRIGGERED = 5000
IN_CHUNK = 500


def ledger_snapshot(
    session: Session,
    *,
    at: datetime,
    won: Sequence[WonDeal] | None = None,
    connections: Sequence[ConnectionHealth] = (),
    pending: Sequence[PendingDeal] = (),
) -> LedgerSnapshot:
    """The snapshot at ``at``; ``won=None`` takes the won deals from the run history.

    ``pending`` comes from the caller, like ``connections``: the engine's state lives in DBOS's
    tables, which the ledger does not read (``sync.reaper.pending_work`` lists it).
    """
    deals = list(won) if won is not None else triggered_deals(session, at - DEFAULT_LOOKBACK)
    synced = synced_opportunities(session, [deal.opportunity_id for deal in deals])
    return LedgerSnapshot(
        at=at,
        error_classes=open_errors.failure_types_seen(session),
        open_errors=_active_counts(session),
        connections=tuple(connections),
        unsynced=tuple(deal for deal in deals if deal.opportunity_id not in synced),
        baseline=baseline(session, at),
        pending=tuple(pending),
    )


def baseline(session: Session, at: datetime) -> datetime:
    """When alerting started for this ledger, set to ``at`` on the first call."""
    value = get_watermark(session, BASELINE)
    if value is None:
        value = advance_watermark(session, BASELINE, at)
    return parse_instant(value)


def triggered_deals(session: Session, since: datetime) -> list[WonDeal]:
    """Opportunities with a run received since ``since``, at their first trigger."""
    query = (
        select(Run.opportunity_id, func.min(Run.received_at))
        .where(Run.received_at >= since)
        .group_by(Run.opportunity_id)
        .limit(MAX_TRIGGERED)
    )
    return [WonDeal(opportunity, _aware(first)) for opportunity, first in session.execute(query)]


def synced_opportunities(session: Session, opportunity_ids: Iterable[str]) -> set[str]:
    """The opportunities among ``opportunity_ids`` with at least one successful run."""
    ids = sorted(set(opportunity_ids))
    synced: set[str] = set()
    for start in range(0, len(ids), IN_CHUNK):
        query = (
            select(Run.opportunity_id)
            .distinct()
            .where(
                Run.opportunity_id.in_(ids[start : start + IN_CHUNK]),
                Run.status.in_(SUCCESS_STATUSES),
            )
        )
        synced.update(session.scalars(query))
    return synced


def _active_counts(session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in ACTIVE_ERROR_STATES:
        for kind, count in open_errors.counts_by_class(session, state).items():
            counts[kind] = counts.get(kind, 0) + count
    return counts


def _aware(value: object) -> datetime:
    """``min()`` bypasses the column type on SQLite: text or a naive UTC datetime comes back."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
