"""Stored reconciliation reports: what the console shows as the latest report and its trend.

Every reconciliation — the service's scheduled one and each ``dealbridge reconcile`` — stores its
report here (``store_report``, called by ``sync.reconcile_ledger.save_report``). A report is a
JSON document (``Report.to_json`` in ``sync.reconcile_report``): ``summary`` (findings per
category), ``items``, ``totals`` (money per currency), ``checked``, ``calls``, ``window`` and
``generated_at``. The counts are also kept in columns of their own, so a trend of many reports
does not load every report's items.

Functions take the caller's ``Session`` and never commit: the caller's transaction decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dealbridge.db.models import ReconcileReport
from dealbridge.db.timestamps import ensure_aware, utc_now

MAX_STORED_ITEMS = 2000  # items beyond this are counted in ``items_truncated``, not stored


@dataclass(frozen=True)
class StoredReport:
    """One stored reconciliation report.

    Attributes:
        id: The row's id; a higher id is a later report.
        generated_at: When the reconciliation ran (aware, UTC).
        actor: Who ran it: ``system:reconcile`` for the schedule, else the user's name.
        findings: The number of findings, all categories together (0 = both systems agree).
        summary: Findings per category: ``missing``, ``orphan``, ``drift``, ``duplicate``,
            ``money``, ``blocked`` — every category present, 0 when none.
        checked: What was compared: ``deals``, ``records``, ``price_intervals``.
        calls: API calls the reconciliation made, per system (``salesforce``, ``netsuite``).
        items_truncated: Items left out of ``document["items"]`` (only the first
            ``MAX_STORED_ITEMS`` are stored; ``summary`` counts them all).
        document: The whole report as ``dealbridge reconcile --format json`` prints it.
    """

    id: int
    generated_at: datetime
    actor: str
    findings: int
    summary: dict[str, int]
    checked: dict[str, int]
    calls: dict[str, int]
    items_truncated: int
    document: dict[str, Any]

    @property
    def items(self) -> list[dict[str, Any]]:
        """The stored findings (``document["items"]``), in report order."""
        return list(self.document.get("items") or [])

    @property
    def totals(self) -> dict[str, Any]:
        """Money per currency (``document["totals"]``)."""
        return dict(self.document.get("totals") or {})


def store_report(session: Session, document: Mapping[str, Any], actor: str) -> StoredReport:
    """Keep one report document (``Report.to_json`` shape); returns it as stored.

    Raises:
        ValueError: The document lacks ``generated_at`` or ``summary``, or ``generated_at`` is
            not an ISO 8601 instant with a time zone.
    """
    for name in ("generated_at", "summary"):
        if name not in document:
            raise ValueError(f"reconciliation report: the field {name!r} is missing")
    generated = _instant(document["generated_at"])
    stored = dict(document)
    items = list(stored.get("items") or [])
    truncated = max(0, len(items) - MAX_STORED_ITEMS)
    if truncated:
        stored["items"] = items[:MAX_STORED_ITEMS]
        stored["items_truncated"] = truncated
    summary = {str(key): int(value) for key, value in dict(document["summary"]).items()}
    row = ReconcileReport(
        generated_at=generated,
        stored_at=utc_now(),
        actor=actor,
        findings=sum(summary.values()),
        summary=summary,
        checked=dict(document.get("checked") or {}),
        calls=dict(document.get("calls") or {}),
        items_truncated=truncated,
        document=stored,
    )
    session.add(row)
    session.flush()
    return _stored(row)


def latest_reports(session: Session, limit: int = 30) -> list[StoredReport]:
    """The newest ``limit`` reports, newest first: ``[0]`` is the latest, the rest its trend.

    For a trend chart read the list reversed (oldest first) and plot ``findings`` or each of
    ``summary``'s categories against ``generated_at``. An empty list means no reconciliation has
    been stored yet. Order: ``generated_at``, then ``id`` (two reports of the same instant keep
    the order they were stored in).

    Raises:
        ValueError: ``limit`` is below 1.
    """
    if limit < 1:
        raise ValueError(f"latest_reports: limit must be at least 1, got {limit}")
    query = (
        select(ReconcileReport)
        .order_by(ReconcileReport.generated_at.desc(), ReconcileReport.id.desc())
        .limit(limit)
    )
    return [_stored(row) for row in session.scalars(query)]


def _stored(row: ReconcileReport) -> StoredReport:
    return StoredReport(
        id=row.id,
        generated_at=row.generated_at,
        actor=row.actor,
        findings=row.findings,
        summary=dict(row.summary),
        checked=dict(row.checked),
        calls=dict(row.calls),
        items_truncated=row.items_truncated,
        document=dict(row.document),
    )


def _instant(value: object) -> datetime:
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return ensure_aware(parsed, "generated_at")
    except ValueError:
        raise ValueError(
            f"reconciliation report: generated_at {text!r} is not an ISO 8601 instant with a "
            "time zone"
        ) from None
