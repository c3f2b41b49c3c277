"""The service retries errors of passing causes on its own, once they are due, a capped number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS, SetWorkflowID

from dealbridge.db import audit, open_errors
from dealbridge.sync import Runtime, wait_for_outcome
from dealbridge.sync.auto_retry import ACTOR, auto_retry_errors
from tests.integration.sync.harness import Emulators, close_and_sync, run, settings_for

CONTEXT = {"classes": ["rate_limit", "remote_outage"], "after_minutes": 30, "max_attempts": 2}


@pytest.fixture
def impatient(org: Emulators, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose steps give up after two quick attempts, so an outage becomes an error."""
    DBOS.destroy()
    started = Runtime(settings_for(org, tmp_path / "data", step_max_attempts=2))
    started.launch()
    try:
        yield started
    finally:
        started.shutdown(0)


def tick(at: datetime, name: str) -> None:
    """One auto-retry tick scheduled at ``at``, run to its end."""

    async def go() -> None:
        with SetWorkflowID(f"test-auto-retry-{name}"):
            handle = await DBOS.start_workflow_async(auto_retry_errors, at, CONTEXT)
        await handle.get_result()

    run(go())


def error_of(runtime: Runtime, error_id: int) -> Any:
    with runtime.ledger.session() as session:
        return open_errors.get_error(session, error_id)


def automatic_retries(runtime: Runtime) -> list[str | None]:
    with runtime.ledger.session() as session:
        entries = audit.list_audit(session, actor=ACTOR, action="error.retry")
        return [entry.target_id for entry in entries]


def test_an_outage_error_is_retried_once_due_and_a_data_error_never(
    org: Emulators, impatient: Runtime
) -> None:
    flawed = next(opp for opp, why in org.seeded["flawed"].items() if why == "unknown_product")
    invalid = close_and_sync(org, flawed)
    assert invalid["status"] == "invalid"
    org.netsuite_control.faults(error_rate=1.0)
    failed = close_and_sync(org, org.seeded["won_candidates"][0])
    org.netsuite_control.faults(error_rate=0.0)
    assert failed["status"] == "failed", failed
    outage_error = error_of(impatient, failed["error_id"])
    assert outage_error.failure_type == "remote_outage"
    now = datetime.now(UTC)

    tick(now, "early")  # the outage error failed moments ago: not due yet
    assert error_of(impatient, failed["error_id"]).state == "open"
    assert automatic_retries(impatient) == []

    tick(now + timedelta(minutes=31), "due")
    retried = run(wait_for_outcome(f"retry:{failed['error_id']}:1", 90))

    assert retried["status"] == "synced", retried
    error = error_of(impatient, failed["error_id"])
    assert (error.state, error.resolved_by) == ("resolved", "system")
    assert error.context[open_errors.AUTO_RETRY_COUNT_KEY] == 1
    assert automatic_retries(impatient) == [str(failed["error_id"])]
    assert error_of(impatient, invalid["error_id"]).state == "open"  # validation: a person's call


def test_a_recovered_tick_queues_the_same_retries_and_no_others(
    org: Emulators, impatient: Runtime
) -> None:
    org.netsuite_control.faults(error_rate=1.0)
    failed = close_and_sync(org, org.seeded["won_candidates"][1])
    assert failed["status"] == "failed", failed
    later = datetime.now(UTC) + timedelta(minutes=31)

    tick(later, "once")
    tick(later, "once")  # the same tick id again: DBOS returns the finished tick, runs nothing

    retried = run(wait_for_outcome(f"retry:{failed['error_id']}:1", 90))
    org.netsuite_control.faults(error_rate=0.0)
    assert retried["status"] == "failed"  # still down: open again, counted once
    error = error_of(impatient, failed["error_id"])
    assert (error.state, error.context[open_errors.AUTO_RETRY_COUNT_KEY]) == ("open", 1)
    assert automatic_retries(impatient) == [str(failed["error_id"])]
