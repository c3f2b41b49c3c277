"""The step layouts: a deal started by an earlier release goes on as it began.

A deal opens its run outside any step, reads and plans in one step and upserts in another, in
dependency order. Earlier releases opened the run in a ``start_run`` step, before that
checkpointed ``extract`` and ``plan`` as two steps, and before that one step per wave
(``wave_1`` … ``wave_n``). A deal that was queued or running when the service was upgraded is
recovered by the new code from its trigger and checkpoints: a trigger without ``start_layout``
must begin with ``start_run``, a ``start_run`` checkpoint without ``read_layout`` go on to
``extract`` and ``plan``, a plan checkpoint without ``upsert_layout`` wave by wave — or DBOS
would find a step where the checkpoints name another and stop the deal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from dbos import DBOS

from dealbridge.db import runs
from dealbridge.sync import Runtime, steps, wait_for_outcome
from dealbridge.sync.steps import READ_LAYOUT_KEY, UPSERT_LAYOUT_KEY
from tests.integration.sync.harness import (
    Emulators,
    by_external_id,
    close_and_sync,
    queue_as_earlier_release,
    restart_after_crash,
    run,
)

PlanStep = Callable[..., Awaitable[dict[str, Any]]]


def _step_names(workflow_id: str) -> list[str]:
    return [step["function_name"] for step in DBOS.list_workflow_steps(workflow_id)]


def _check_landed(org: Emulators, outcome: dict[str, Any]) -> None:
    assert outcome["status"] == "synced", outcome
    keys = [key.split("/", 1) for key in outcome["netsuite_ids"]]
    stored = {kind: by_external_id(org.ns_records(kind)) for kind in {kind for kind, _ in keys}}
    for kind, external_id in keys:
        assert stored[kind][external_id]["id"] == outcome["netsuite_ids"][f"{kind}/{external_id}"]


def test_a_deal_reads_and_plans_in_one_step_upserts_in_another_and_lands(
    org: Emulators, runtime: Runtime
) -> None:
    outcome = close_and_sync(org, org.seeded["won_candidates"][0])

    _check_landed(org, outcome)
    names = _step_names(outcome["workflow_id"])
    assert names[:2] == ["read_and_plan", "upserts"]
    old_steps = ("start_run", "extract", "plan")
    assert not [name for name in names if name.startswith("wave_") or name in old_steps]
    with runtime.ledger.session() as session:
        finished = runs.get_run(session, outcome["run_id"])
        assert finished is not None
        assert [t["step"] for t in finished.step_timings][:4] == [
            "start_run", "extract", "plan", "upserts",
        ]  # fmt: skip


def _as_earlier_release(key: str, step: PlanStep) -> PlanStep:
    """``step`` answering as an earlier release did: no ``key`` in its checkpoint."""

    async def without_layout(*args: Any) -> dict[str, Any]:
        answer = await step(*args)
        answer.pop(key, None)
        return answer

    return without_layout


@pytest.fixture
def earlier_release_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The release before this one: its triggers have no ``start_layout``."""
    queue_as_earlier_release(monkeypatch)


def test_a_deal_queued_by_the_earlier_release_opens_its_run_in_a_step_and_lands(
    org: Emulators, runtime: Runtime, earlier_release_start: None
) -> None:
    outcome = close_and_sync(org, org.seeded["won_candidates"][0])

    _check_landed(org, outcome)
    assert _step_names(outcome["workflow_id"])[:3] == ["start_run", "read_and_plan", "upserts"]


def test_a_deal_recovered_after_start_run_of_the_earlier_release_goes_on_from_its_checkpoint(
    org: Emulators, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay, with this release's trigger_info in place, a deal whose trigger had no layout."""
    with monkeypatch.context() as patch:
        queue_as_earlier_release(patch)
        first = close_and_sync(org, org.seeded["won_candidates"][0])
    recorded = DBOS.list_workflow_steps(first["workflow_id"])
    assert recorded[0]["function_name"] == "start_run"

    # start_run comes from its checkpoint, as after a crash during read_and_plan.
    forked = DBOS.fork_workflow(first["workflow_id"], recorded[1]["function_id"])
    outcome = run(wait_for_outcome(forked.workflow_id, 90))

    assert outcome["run_id"] == first["run_id"]  # the run id of start_run's checkpoint
    _check_landed(org, outcome)
    assert _step_names(forked.workflow_id)[:3] == ["start_run", "read_and_plan", "upserts"]


def test_a_deal_queued_by_this_release_but_begun_by_an_earlier_one_goes_on_as_it_began(
    org: Emulators, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rolling upgrade: queued by this release, begun by an earlier one, recovered by this one.

    The trigger has ``start_layout``, but the earlier release's worker ignored it (a
    ``start_run`` step) and died during ``read_and_plan``.
    """
    with monkeypatch.context() as patch:
        patch.setattr(steps, "RUN_OPENED_WITHOUT_STEP", "a value the earlier release never knew")
        first = close_and_sync(org, org.seeded["won_candidates"][0])
    recorded = DBOS.list_workflow_steps(first["workflow_id"])
    assert recorded[0]["function_name"] == "start_run"

    again_runtime = restart_after_crash(runtime, first["workflow_id"], recorded[1]["function_id"])
    try:
        outcome = run(wait_for_outcome(first["workflow_id"], 90))
        names = _step_names(first["workflow_id"])
    finally:
        again_runtime.shutdown(0)

    assert outcome["run_id"] == first["run_id"]
    _check_landed(org, outcome)
    assert names[:3] == ["start_run", "read_and_plan", "upserts"]


@pytest.fixture
def previous_release_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The release before the upserts step: neither layout key in its checkpoints."""
    queue_as_earlier_release(monkeypatch)
    monkeypatch.setattr(steps, "start_run", _as_earlier_release(READ_LAYOUT_KEY, steps.start_run))
    monkeypatch.setattr(steps, "plan", _as_earlier_release(UPSERT_LAYOUT_KEY, steps.plan))


@pytest.fixture
def previous_release_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The release before the read step: ``start_run``'s checkpoint has no ``read_layout``."""
    queue_as_earlier_release(monkeypatch)
    monkeypatch.setattr(steps, "start_run", _as_earlier_release(READ_LAYOUT_KEY, steps.start_run))


def test_a_deal_started_by_the_previous_release_extracts_then_plans(
    org: Emulators, runtime: Runtime, previous_release_start: None
) -> None:
    outcome = close_and_sync(org, org.seeded["won_candidates"][0])

    _check_landed(org, outcome)
    assert _step_names(outcome["workflow_id"])[:4] == ["start_run", "extract", "plan", "upserts"]


def test_a_deal_recovered_after_extract_of_the_previous_release_plans_on_its_own(
    org: Emulators, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay a deal checkpointed up to ``extract`` with the current ``start_run`` in place."""
    current = steps.start_run
    with monkeypatch.context() as patch:
        queue_as_earlier_release(patch)
        patch.setattr(steps, "start_run", _as_earlier_release(READ_LAYOUT_KEY, current))
        first = close_and_sync(org, org.seeded["won_candidates"][0])
    recorded = DBOS.list_workflow_steps(first["workflow_id"])
    plan_step = next(s["function_id"] for s in recorded if s["function_name"] == "plan")

    # start_run and extract come from the checkpoints, as after a crash during plan.
    forked = DBOS.fork_workflow(first["workflow_id"], plan_step)
    outcome = run(wait_for_outcome(forked.workflow_id, 90))

    assert outcome["run_id"] == first["run_id"]
    _check_landed(org, outcome)
    names = _step_names(forked.workflow_id)
    assert names[:4] == ["start_run", "extract", "plan", "upserts"]
    assert "read_and_plan" not in names


def test_a_deal_planned_by_the_previous_release_runs_wave_by_wave(
    org: Emulators, runtime: Runtime, previous_release_plan: None
) -> None:
    outcome = close_and_sync(org, org.seeded["won_candidates"][0])

    _check_landed(org, outcome)
    names = _step_names(outcome["workflow_id"])
    waves = [name for name in names if name.startswith("wave_")]
    assert len(waves) >= 3
    assert "upserts" not in names


def test_a_deal_recovered_from_the_previous_release_checkpoints_goes_on_in_waves(
    org: Emulators, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay the checkpoints of a wave-by-wave deal with the current plan step in place."""
    current_start, current_plan = steps.start_run, steps.plan
    with monkeypatch.context() as patch:
        queue_as_earlier_release(patch)
        patch.setattr(steps, "start_run", _as_earlier_release(READ_LAYOUT_KEY, current_start))
        patch.setattr(steps, "plan", _as_earlier_release(UPSERT_LAYOUT_KEY, current_plan))
        first = close_and_sync(org, org.seeded["won_candidates"][0])
    assert steps.plan is current_plan
    recorded = DBOS.list_workflow_steps(first["workflow_id"])
    second_wave = next(s["function_id"] for s in recorded if s["function_name"] == "wave_2")

    # Everything before wave_2 comes from the checkpoints, as after a crash during wave_2.
    forked = DBOS.fork_workflow(first["workflow_id"], second_wave)
    outcome = run(wait_for_outcome(forked.workflow_id, 90))

    assert outcome["run_id"] == first["run_id"]  # the same run, from start_run's checkpoint
    _check_landed(org, outcome)
    names = _step_names(forked.workflow_id)
    assert "wave_2" in names
    assert "upserts" not in names
