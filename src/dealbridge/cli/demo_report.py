"""The demo's verdict: did every sound deal sync, and every flawed one fail clearly, exactly once?

``--exit-after-sync`` waits until every deal it closed has an outcome, then prints
``DemoReport.as_json()`` and exits 0 only when ``DemoReport.passed``: each sound deal synced,
each flawed deal produced an open error with a message, and no NetSuite external id is used twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dealbridge.cli.demo_progress import FAILED, SYNCED, WAITING, OpenError, Snapshot


@dataclass(frozen=True)
class ClosedDeals:
    """The deals the demo closed: the sound ones and the deliberately flawed ones (→ reason)."""

    sound: list[str]
    flawed: dict[str, str] = field(default_factory=dict)

    @property
    def all(self) -> list[str]:
        """Every closed deal, sound ones first."""
        return [*self.sound, *self.flawed]


@dataclass(frozen=True)
class DemoReport:
    """What ``dealbridge demo --exit-after-sync --json`` prints."""

    closed: ClosedDeals
    snapshot: Snapshot
    seconds: float

    @property
    def finished(self) -> bool:
        """Every closed deal has an outcome (synced, or failed with an open error)."""
        return all(self.snapshot.state_of(deal) != WAITING for deal in self.closed.all)

    @property
    def passed(self) -> bool:
        """Sound deals synced, flawed ones failed with a clear error, no duplicates."""
        snapshot = self.snapshot
        sound_synced = all(snapshot.state_of(deal) == SYNCED for deal in self.closed.sound)
        flawed_failed = all(_clear_error(snapshot.error_of(deal)) for deal in self.closed.flawed)
        return sound_synced and flawed_failed and snapshot.duplicates == 0

    def problems(self) -> list[str]:
        """Why the demo did not pass, one line per deal or fact (empty when it passed)."""
        snapshot, lines = self.snapshot, []
        for deal in self.closed.sound:
            if snapshot.state_of(deal) != SYNCED:
                lines.append(f"sound deal {deal} is {snapshot.state_of(deal)}, not synced")
        for deal, flaw in self.closed.flawed.items():
            if not _clear_error(snapshot.error_of(deal)):
                lines.append(f"flawed deal {deal} ({flaw}) has no open error")
        if snapshot.duplicates:
            lines.append(f"{snapshot.duplicates} NetSuite records share an external id")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The summary object (issue 5, "The CLI and the demo")."""
        closed, snapshot = self.closed.all, self.snapshot
        return {
            "deals_closed": len(closed),
            "deals_synced": snapshot.count(SYNCED, closed),
            "deals_failed": snapshot.count(FAILED, closed),
            "records": dict(snapshot.records),
            "duplicates": snapshot.duplicates,
            "open_errors": [error.as_dict() for error in snapshot.errors],
            "seconds": round(self.seconds, 2),
        }


def _clear_error(error: OpenError | None) -> bool:
    return error is not None and bool(error.failure_class) and bool(error.message.strip())
