"""Upserts in one step, in dependency order; deals planned by the previous release go on in waves.

Until this release a deal checkpointed one step per wave (``wave_1`` … ``wave_n``). A deal that
was running when the service was upgraded is recovered by the new code from those checkpoints:
its plan checkpoint (without ``upsert_layout``) must send it on wave by wave, or DBOS would find
``upserts`` where the checkpoints say ``wave_2`` and stop the deal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from dbos import DBOS

from dealbridge.sync import Runtime, steps, wait_for_outcome
from dealbridge.sync.steps import UPSERT_LAYOUT_KEY
from tests.integration.sync.harness import Emulators, by_external_id, close_and_sync, run

PlanStep = Callable[..., Awaitable[dict[str, Any]]]


def _step_names(workflow_id: str) -> list[str]:
    return [step["function_name"] for step in DBOS.list_workflow_steps(workflow_id)]


def _check_landed(org: Emulators, outcome: dict[str, Any]) -> None:
    assert outcome["status"] == "synced", outcome
    keys = [key.split("/", 1) for key in outcome["netsuite_ids"]]
    stored = {kind: by_external_id(org.ns_records(kind)) for kind in {kind for kind, _ in keys}}
    for kind, external_id in keys:
        assert stored[kind][external_id]["id"] == outcome["netsuite_ids"][f"{kind}/{external_id}"]


def test_a_deal_upserts_in_one_step_and_lands(org: Emulators, runtime: Runtime) -> None:
    outcome = close_and_sync(org, org.seeded["won_candidates"][0])

    _check_landed(org, outcome)
    names = _step_names(outcome["workflow_id"])
    assert names[:4] == ["start_run", "extract", "plan", "upserts"]
    assert not [name for name in names if name.startswith("wave_")]


def _as_previous_release(plan_step: PlanStep) -> PlanStep:
    """The plan step answering as the previous release did: no ``upsert_layout``."""

    async def plan_without_layout(*args: Any) -> dict[str, Any]:
        planned = await plan_step(*args)
        planned.pop(UPSERT_LAYOUT_KEY, None)
        return planned

    return plan_without_layout


@pytest.fixture
def previous_release_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "plan", _as_previous_release(steps.plan))


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
    current = steps.plan
    with monkeypatch.context() as patch:
        patch.setattr(steps, "plan", _as_previous_release(current))
        first = close_and_sync(org, org.seeded["won_candidates"][0])
    assert steps.plan is current
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
