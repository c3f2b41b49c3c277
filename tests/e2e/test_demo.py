"""``dealbridge demo --exit-after-sync --json``, run as a user would from a fresh checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FLAW_COUNT = 4  # seed 1 with 60 opportunities: one deal of each flaw


def test_the_demo_syncs_sound_deals_and_parks_flawed_ones(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEALBRIDGE_")}
    done = subprocess.run(
        [sys.executable, "-m", "dealbridge", "demo", "--exit-after-sync", "--json", "--port", "0"],
        cwd=tmp_path,  # the demo works under ./.dealbridge/demo
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**env, "COLUMNS": "200"},
    )

    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # nothing but the summary on stdout
    summary = json.loads(lines[0])
    assert set(summary) == {
        "deals_closed",
        "deals_synced",
        "deals_failed",
        "records",
        "duplicates",
        "open_errors",
        "seconds",
    }
    assert summary["deals_failed"] == FLAW_COUNT
    assert summary["deals_synced"] == summary["deals_closed"] - FLAW_COUNT > 0
    assert summary["duplicates"] == 0
    assert all(count > 0 for count in summary["records"].values())
    assert len(summary["open_errors"]) == FLAW_COUNT
    for error in summary["open_errors"]:
        assert error["class"] == "validation"
        assert error["message"].strip()
    assert (tmp_path / ".dealbridge" / "demo" / "data" / "dbos.sqlite3").is_file()
