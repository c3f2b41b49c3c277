"""Real processes on one SQLite state: the first runs, every other entry point is turned away.

DBOS on one SQLite file with several processes breaks the queue's limits (contracts/dbos.md §2a),
so every command that would run deals refuses while another holds the state, and says to use
PostgreSQL. ``dealbridge sync`` beside a running worker does not refuse: it only queues the deal
for that worker through a ``DBOSClient`` (``runtime_cli.needs_local_runtime``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dealbridge.cli.runtime_cli import needs_local_runtime
from dealbridge.settings import Settings
from tests.support.processes import dealbridge_process


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())  # the console wraps long lines


def test_a_second_process_on_one_sqlite_state_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo" / "data"
    env = {"DEALBRIDGE_DATA_DIR": str(data_dir), "DEALBRIDGE_LOG_LEVEL": "WARNING"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALBRIDGE_")} | env
    with dealbridge_process(["worker"], env=env, cwd=tmp_path) as first:
        assert first.info["database"] == "sqlite"
        demo_args = ["demo", "--state-dir", str(tmp_path / "demo"), "--port", "0"]
        commands = (["worker"], ["serve", "--port", "0"], demo_args)
        with ThreadPoolExecutor(len(commands)) as pool:  # independent: all meet the held lock
            second_worker, web_node, demo = pool.map(
                lambda args: _run(args, env, tmp_path), commands
            )
        assert not needs_local_runtime(Settings(data_dir=data_dir, database_url=None))
        assert first.process.poll() is None

    assert second_worker.returncode == 1
    assert "SQLite allows one process" in _said(second_worker)
    assert "use PostgreSQL (DEALBRIDGE_DATABASE_URL" in _said(second_worker)
    assert web_node.returncode == 1
    assert f"another dealbridge process is running on {data_dir}" in _said(web_node)
    assert demo.returncode == 1
    assert "another dealbridge demo is running" in _said(demo)
    assert (data_dir / "dealbridge.sqlite3").exists()  # the demo did not wipe the running state
