"""The service's own reconciliation: the schedule registers, a tick stores its report."""

from __future__ import annotations

from dbos import DBOS

from dealbridge.db import audit
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
        [entry] = audit.list_audit(session, action="reconcile.report")
        assert entry.actor == ACTOR


def test_the_schedule_is_registered_once_and_can_be_removed(synced: SyncedOrg) -> None:
    async def register(enabled: bool) -> list[str]:
        await register_reconcile_schedule(synced.runtime, enabled=enabled)
        schedules = await DBOS.list_schedules_async()
        return [schedule["schedule_name"] for schedule in schedules]

    assert run(register(True)).count(SCHEDULE_NAME) == 1
    assert run(register(True)).count(SCHEDULE_NAME) == 1  # idempotent
    assert SCHEDULE_NAME not in run(register(False))
