"""``dealbridge demo`` run as a user would: a fresh process, a state directory, exit status 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_writes_the_sample_deal_twice_without_duplicates(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", "demo", "--state-dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same ids, no duplicates" in done.stdout
    for record_type in ("customer", "billingAccount", "subscriptionPlan", "subscription"):
        assert record_type in done.stdout
