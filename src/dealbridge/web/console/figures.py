"""The dashboard's figures, read from the ledger and this process's NetSuite limiter.

Everything here is computed from what the run history already holds: deals per hour and latency
from ``runs``, open errors from ``sync_errors``, Salesforce API usage from the ``api-usage``
header the Salesforce client records on each call (``extra["api_usage"]``), so the dashboard never
calls Salesforce or NetSuite itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dealbridge.connectors.salesforce.models import parse_limit_info
from dealbridge.db import open_errors, runs
from dealbridge.db.models import ACTIVE_ERROR_STATES, ApiCall
from dealbridge.settings import Settings
from dealbridge.sync.budget import process_limiter

WINDOW = timedelta(hours=24)
SUCCESS = frozenset(runs.SUCCESS_STATUSES)
FAILURE = frozenset({"failed", "invalid"})
SALESFORCE = "salesforce"
# The newest Salesforce calls scanned for a usage header (calls that got no answer carry none).
USAGE_SCAN = 50


@dataclass(frozen=True)
class ApiUsage:
    """Salesforce's daily API requests, as its latest answer reported them."""

    used: int
    allocation: int
    at: datetime

    @property
    def percent(self) -> float:
        """Share of the allocation used."""
        return 100.0 * self.used / self.allocation if self.allocation else 0.0


@dataclass(frozen=True)
class InFlight:
    """NetSuite requests this process has in flight, against its cap and the account's limit."""

    in_flight: int
    cap: int
    account_limit: int


@dataclass(frozen=True)
class Figures:
    """What the dashboard shows for the last 24 hours."""

    hours: list[runs.HourCount]
    synced: int
    failed: int
    latency_p50: float | None
    latency_p95: float | None
    open_by_class: dict[str, int]
    api_usage: ApiUsage | None
    netsuite: InFlight

    @property
    def success_rate(self) -> float | None:
        """Successful finished runs as a percentage, ``None`` with no finished run."""
        finished = self.synced + self.failed
        return 100.0 * self.synced / finished if finished else None

    @property
    def open_errors(self) -> int:
        """Open and retrying errors."""
        return sum(self.open_by_class.values())


def read_figures(session: Session, settings: Settings, now: datetime) -> Figures:
    """Every figure of the dashboard at ``now``."""
    since = now - WINDOW
    hours = runs.counts_by_hour(session, since + timedelta(hours=1), now)
    synced = failed = 0
    for hour in hours:
        synced += sum(n for status, n in hour.counts.items() if status in SUCCESS)
        failed += sum(n for status, n in hour.counts.items() if status in FAILURE)
    latency = runs.latency_percentiles(session, since)
    return Figures(
        hours=hours,
        synced=synced,
        failed=failed,
        latency_p50=latency.get(50.0),
        latency_p95=latency.get(95.0),
        open_by_class=active_by_class(session),
        api_usage=salesforce_api_usage(session),
        netsuite=netsuite_in_flight(settings),
    )


def active_by_class(session: Session) -> dict[str, int]:
    """Open and retrying errors per failure class, largest first."""
    totals: dict[str, int] = {}
    for state in ACTIVE_ERROR_STATES:
        for failure_type, count in open_errors.counts_by_class(session, state).items():
            totals[failure_type] = totals.get(failure_type, 0) + count
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def salesforce_api_usage(session: Session) -> ApiUsage | None:
    """The usage the newest recorded Salesforce answer reported, if any call recorded one."""
    query = (
        select(ApiCall.extra, ApiCall.at)
        .where(ApiCall.system == SALESFORCE)
        .order_by(ApiCall.at.desc(), ApiCall.id.desc())
        .limit(USAGE_SCAN)
    )
    for extra, at in session.execute(query):
        header = (extra or {}).get("api_usage")
        parsed = parse_limit_info(header) if isinstance(header, str) else None
        if parsed is not None:
            return ApiUsage(parsed[0], parsed[1], at)
    return None


def netsuite_in_flight(settings: Settings) -> InFlight:
    """This process's NetSuite limiter: requests in flight now, its cap, the account limit."""
    limiter = process_limiter(settings.netsuite)
    return InFlight(limiter.in_flight, limiter.cap, limiter.account_limit)
