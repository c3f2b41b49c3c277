"""What the demo shows: where each closed deal stands, and what NetSuite now holds.

A ``Snapshot`` is read from the two sources of truth a person would check — the ledger (runs and
open errors, as the console shows them) and NetSuite itself (the emulator's record dumps) — never
from the demo's own expectations, so the display and the ``--exit-after-sync`` verdict cannot
drift from what really happened.

A deal counts as **failed** while it has an active open error, **synced** once a run of it ended
``synced`` or ``unchanged`` (and no error is open), and **waiting** before either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.cli.demo_emulators import Emulators
from dealbridge.db.models import ACTIVE_ERROR_STATES, Run, SyncError
from dealbridge.db.runs import SUCCESS_STATUSES
from dealbridge.db.session import session_scope

# The NetSuite record types the shipped flow writes (flows/cpq_closed_won.yaml), in load order.
RECORD_TYPES = (
    "customer",
    "contact",
    "billingAccount",
    "pricePlan",
    "subscriptionPlan",
    "priceBook",
    "subscription",
    "customrecord_cpq_package",
)
SYNCED, FAILED, WAITING = "synced", "failed", "waiting"


@dataclass(frozen=True)
class OpenError:
    """An active open error, as the summary lists it."""

    opportunity: str
    failure_class: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The ``open_errors`` entry of the JSON summary."""
        return {
            "opportunity": self.opportunity,
            "class": self.failure_class,
            "message": self.message,
        }


@dataclass
class Snapshot:
    """The state of every deal the ledger knows, and NetSuite's records.

    Attributes:
        states: Opportunity id → ``synced``, ``failed`` or ``waiting`` (every deal with a run).
        errors: Active open errors.
        records: NetSuite record type → how many exist.
        duplicates: NetSuite records whose external id another record already has.
    """

    states: dict[str, str] = field(default_factory=dict)
    errors: list[OpenError] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def state_of(self, opportunity_id: str) -> str:
        """The deal's state (``waiting`` before its first run)."""
        return self.states.get(opportunity_id, WAITING)

    def count(self, state: str, among: Iterable[str] | None = None) -> int:
        """How many deals (of ``among``, default all known) are in ``state``."""
        ids = self.states if among is None else among
        return sum(1 for identifier in ids if self.state_of(identifier) == state)

    def error_of(self, opportunity_id: str) -> OpenError | None:
        """The deal's open error, if any."""
        return next((e for e in self.errors if e.opportunity == opportunity_id), None)


def read_snapshot(ledger: sessionmaker[Session], emulators: Emulators) -> Snapshot:
    """Ledger and NetSuite as they are now (blocking: call it in a thread)."""
    with session_scope(ledger) as session:
        runs = session.execute(select(Run.opportunity_id, Run.status)).all()
        errors = session.scalars(
            select(SyncError)
            .where(SyncError.state.in_(ACTIVE_ERROR_STATES))
            .order_by(SyncError.first_seen_at)
        ).all()
        open_errors = [
            OpenError(row.opportunity_id, row.failure_type, row.user_message or row.message)
            for row in errors
        ]
    dumps = {record_type: emulators.netsuite_records(record_type) for record_type in RECORD_TYPES}
    return Snapshot(
        states=deal_states(runs, open_errors),
        errors=open_errors,
        records={record_type: len(rows) for record_type, rows in dumps.items()},
        duplicates=duplicate_count(dumps.values()),
    )


def deal_states(runs: Iterable[Any], errors: Iterable[OpenError]) -> dict[str, str]:
    """Each opportunity's state from its runs ``(opportunity_id, status)`` and open errors."""
    states: dict[str, str] = {}
    for opportunity_id, status in runs:
        if status in SUCCESS_STATUSES:
            states[opportunity_id] = SYNCED
        else:
            states.setdefault(opportunity_id, WAITING)
    for error in errors:
        states[error.opportunity] = FAILED
    return states


def duplicate_count(dumps: Iterable[list[dict[str, Any]]]) -> int:
    """Records sharing an external id with an earlier one (0 when exactly-once held)."""
    seen = Counter(
        str(record["externalId"])
        for records in dumps
        for record in records
        if record.get("externalId")
    )
    return sum(count - 1 for count in seen.values() if count > 1)
