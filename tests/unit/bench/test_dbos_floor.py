"""The DBOS floor runs DBOS alone with as many steps as asked; the overhead bench reads it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from bench.overhead import polling_interval
from bench.results_io import ROOT


def test_the_floor_runs_every_workflow_with_its_steps() -> None:
    argv = [sys.executable, "-m", "bench.dbos_floor", "--workflows", "12", "--steps", "3",
            "--concurrency", "4", "--idle-seconds", "0.1"]  # fmt: skip
    finished = subprocess.run(  # noqa: S603 - our own interpreter and module
        argv, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert finished.returncode == 0, finished.stderr
    floor = json.loads(finished.stdout.strip().splitlines()[-1])
    assert floor["workflows"] == 12
    assert floor["steps_per_workflow"] == 3
    assert floor["cpu_ms_per_workflow"] > 0
    assert floor["cpu_ms_per_step"] == pytest.approx(floor["cpu_ms_per_workflow"] / 3, abs=0.01)


def test_the_floor_polls_the_queue_as_the_service_was_told_to() -> None:
    assert polling_interval({}) == 0.05
    assert polling_interval({"SYNC__QUEUE_POLLING_INTERVAL_SECONDS": "0.2"}) == 0.2
