"""Every runtime registers every workflow before ``DBOS.launch()`` recovers pending ones.

Why it matters: at launch DBOS recovers this executor's ``PENDING`` workflows, and a reaper
recovers a dead executor's; a workflow whose function is not registered in the recovering
process cannot be resumed. The poller's workflow runs in ``serve`` only, yet a ``worker`` may be
the process that recovers it (the same executor id restarted as a worker, or any worker's reaper
on PostgreSQL). Checked in a fresh interpreter, where nothing but the runtime's own imports ran.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from unittest import mock

from dealbridge.settings import Settings
from dealbridge.sync.runtime import Runtime

runtime = Runtime(Settings(data_dir=sys.argv[1]))
assert "dealbridge.sync.poller" not in sys.modules, "imported before launch: test proves nothing"
seen = {}


def launch() -> None:
    seen["modules"] = {m for m in sys.modules if m.startswith("dealbridge.sync.")}


with mock.patch("dealbridge.sync.runtime.DBOS") as dbos:
    dbos.launch.side_effect = launch
    try:
        runtime._launch_dbos()
    except Exception:  # after the launch: the fake DBOS has no real queue
        pass
print(sorted(seen["modules"] & {"dealbridge.sync.deal_sync", "dealbridge.sync.poller"}))
"""


def test_the_poller_workflow_is_registered_before_launch(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "['dealbridge.sync.deal_sync', 'dealbridge.sync.poller']"
