"""The last known state of each connection, read from the calls the deals made.

Why not call Salesforce and NetSuite here: ``GET /api/v1/health`` is polled, and a probe per
poll would spend API allocation and NetSuite concurrency on monitoring. Every call a run makes is
already in ``api_calls`` (redacted), so the newest one says whether the system answered lately.

What counts as a connection failure: no answer at all, a 5xx, credentials refused (401/403) or
rate limited (429). Other 4xx answers (a record refused, an id not found) are about a deal's data,
not the connection, and they are open errors' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dealbridge.db.models import ApiCall

SYSTEMS = ("salesforce", "netsuite")
REFUSED_STATUSES = (401, 403, 429)
ConnectionState = Literal["ok", "failing", "unknown"]


@dataclass(frozen=True)
class LastKnown:
    """What the newest calls to one system say."""

    system: str
    state: ConnectionState
    last_call_at: datetime | None
    last_status: int | None
    last_failure_at: datetime | None
    last_failure_status: int | None
    last_failure_code: str | None


def is_connection_failure(status: int | None) -> bool:
    """Whether a call's outcome means the connection failed (see the module docstring)."""
    return status is None or status >= 500 or status in REFUSED_STATUSES


def last_known(session: Session) -> list[LastKnown]:
    """One entry per system, in ``SYSTEMS`` order."""
    return [_last_known(session, system) for system in SYSTEMS]


def _last_known(session: Session, system: str) -> LastKnown:
    newest = (
        select(ApiCall)
        .where(ApiCall.system == system)
        .order_by(ApiCall.at.desc(), ApiCall.id.desc())
    )
    last = session.scalars(newest.limit(1)).first()
    failures = newest.where(
        or_(
            ApiCall.status.is_(None),
            ApiCall.status >= 500,
            ApiCall.status.in_(REFUSED_STATUSES),
        )
    )
    failure = session.scalars(failures.limit(1)).first()
    if last is None:
        state: ConnectionState = "unknown"
    else:
        state = "failing" if is_connection_failure(last.status) else "ok"
    return LastKnown(
        system=system,
        state=state,
        last_call_at=last.at if last else None,
        last_status=last.status if last else None,
        last_failure_at=failure.at if failure else None,
        last_failure_status=failure.status if failure else None,
        last_failure_code=failure.error_code if failure else None,
    )
