"""The service's DBOS schedules (poller, reconciliation, auto-retry, alerts) kept in step.

Why one helper: each schedule is created or updated when its feature is on and deleted when it
is off, so that turning a setting off takes effect at the next start; and a schedule is written
through a launched DBOS, so a caller that passes its runtime is checked to be this process's.
"""

from __future__ import annotations

from dbos import DBOS, ScheduleInput

from dealbridge.sync.runtime import Runtime, current_runtime


async def keep_schedule(
    name: str, schedule: ScheduleInput | None, runtime: Runtime | None = None
) -> None:
    """Create or update ``schedule`` (idempotent), or delete the one called ``name`` when None.

    Raises:
        RuntimeError: ``runtime`` is given and is not this process's launched runtime.
    """
    if runtime is not None and current_runtime() is not runtime:
        raise RuntimeError("register the schedule with this process's launched runtime")
    if schedule is not None:
        await DBOS.apply_schedules_async([schedule])
    else:
        await DBOS.delete_schedule_async(name)
