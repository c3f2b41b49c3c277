"""The service's own reconciliation: the schedule follows the settings, a tick stores its report."""

from __future__ import annotations

from dbos import DBOS

from dealbridge.db import audit
from dealbridge.db.reconcile_reports import latest_reports
from dealbridge.settings import ReconcileSettings
from dealbridge.sync.reconcile_ledger import latest_report, report_history
from dealbridge.sync.reconcile_schedule import (
    ACTOR,
    SCHEDULE_NAME,
    reconcile_and_store,
    register_reconcile_schedule,
)
from tests.integration.reconcile.support import SyncedOrg
from tests.integration.sync.harness import run


def test_a_tick_reconciles_with_the_runtime_and_keeps_the_report(synced: SyncedOrg) -> None:
    result = run(reconcile_and_store("2026-01-01", None))

    assert result["summary"] == dict.fromkeys(result["summary"], 0)
    stored = latest_report(synced.runtime.ledger)
    assert stored is not None
    assert stored["checked"]["deals"] == len(synced.deals)
    assert [entry["summary"] for entry in report_history(synced.runtime.ledger)] == [
        result["summary"]
    ]
    with synced.runtime.ledger.session() as session:
        [report] = latest_reports(session, 5)
        assert (report.id, report.actor, report.findings) == (result["report_id"], ACTOR, 0)
        [entry] = audit.list_audit(session, action="reconcile.report")
        assert entry.actor == ACTOR
        # The report lives in its table once; the audit entry points at it (regression: the
        # whole document, items included, was copied into every audit entry).
        assert entry.detail is not None
        assert entry.detail["report_id"] == report.id
        assert entry.detail["summary"] == result["summary"]
        assert "items" not in entry.detail


def test_the_schedule_follows_the_settings_and_can_be_turned_off(synced: SyncedOrg) -> None:
    async def register(settings: ReconcileSettings) -> list[str]:
        await register_reconcile_schedule(synced.runtime, settings)
        schedules = await DBOS.list_schedules_async(schedule_name_prefix=SCHEDULE_NAME)
        return [str(s["schedule"]) for s in schedules if s["schedule_name"] == SCHEDULE_NAME]

    assert run(register(ReconcileSettings())) == ["0 30 0 * * *"]
    every_six = ReconcileSettings(interval_hours=6, at_minute=5, since_days=30)
    assert run(register(every_six)) == ["0 5 */6 * * *"]  # updated in place, not added
    assert run(register(ReconcileSettings(enabled=False))) == []
