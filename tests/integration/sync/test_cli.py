"""The engine's commands, run as a user runs them: ``sync``, ``runs``, ``errors``, ``worker``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dbos import DBOS

from tests.integration.sync.harness import Emulators, env_for, settings_for
from tests.support.processes import dealbridge_process

COMMAND_TIMEOUT = 180


def dealbridge(env: dict[str, str], *args: str, expect: int = 0) -> Any:
    """Run ``dealbridge ARGS`` to completion; its stdout as JSON (with ``--json``)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == expect, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout) if "--json" in args else done.stdout


def _env(org: Emulators, tmp_path: Path) -> dict[str, str]:
    settings = settings_for(org, tmp_path / "data")
    return {**os.environ, "PYTHONUNBUFFERED": "1", **env_for(settings)}


def test_sync_runs_and_errors_without_a_worker(org: Emulators, tmp_path: Path) -> None:
    DBOS.destroy()
    env = _env(org, tmp_path)
    sound = org.seeded["won_candidates"][0]
    flawed = next(opp for opp, why in org.seeded["flawed"].items() if why == "long_account_name")
    org.close_won(sound)
    org.close_won(flawed)

    synced = dealbridge(env, "sync", sound, "--json")
    invalid = dealbridge(env, "sync", flawed, "--json", expect=1)

    assert synced["status"] == "synced"
    assert invalid["status"] == "invalid"
    listed = dealbridge(env, "runs", "list", "--json")
    assert {(run["opportunity_id"], run["status"], run["trigger"]) for run in listed} == {
        (sound, "synced", "manual"),
        (flawed, "invalid", "manual"),
    }
    shown = dealbridge(env, "runs", "show", synced["run_id"][:8], "--json")
    assert shown["workflow_id"] == synced["workflow_id"]
    assert [step["step"] for step in shown["step_timings"]][:2] == ["start_run", "extract"]

    errors = dealbridge(env, "errors", "list", "--json")
    assert [(e["opportunity_id"], e["class"], e["field"]) for e in errors] == [
        (flawed, "validation", "companyName")
    ]
    error_id = str(errors[0]["id"])
    detail = dealbridge(env, "errors", "show", error_id, "--json")
    assert detail["violations"][0]["rule"] == "max_length"
    said = dealbridge(env, "errors", "resolve", error_id, "--note", "renamed in NetSuite by hand")
    assert said.strip() == f"error {error_id} resolved"
    assert dealbridge(env, "errors", "list", "--json") == []
    resolved = dealbridge(env, "errors", "list", "--state", "resolved", "--json")
    assert [e["id"] for e in resolved] == [errors[0]["id"]]


def test_sync_beside_a_running_worker_is_queued_for_it(org: Emulators, tmp_path: Path) -> None:
    DBOS.destroy()
    env = _env(org, tmp_path)
    sound = org.seeded["won_candidates"][1]
    org.close_won(sound)

    with dealbridge_process(["worker"], env=env) as worker:
        outcome = dealbridge(env, "sync", sound, "--wait", "--json")
        worker.process.terminate()  # SIGTERM: drain and exit
        assert worker.process.wait(timeout=60) == 0

    assert outcome["status"] == "synced"
    assert outcome["workflow_id"].startswith(f"deal:{sound}:")
