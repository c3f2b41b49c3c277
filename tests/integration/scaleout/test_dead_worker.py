"""A worker killed with SIGKILL mid-run: the others recover its deals, nothing lost or doubled.

Open-source DBOS would leave the dead worker's ``PENDING`` deals where they are, holding queue
slots and freezing their accounts (contracts/dbos.md §2b). Here the other workers' reapers find
its liveness lock free and re-enqueue those deals on their original queue and partition; the
recovery time is measured from the kill to the moment DBOS shows none of them ``PENDING`` under
the dead executor any more (polled through a ``DBOSClient``), at the default reaper interval.

A graceful stop is the other half: SIGTERM drains the worker's deals, exits 0 and frees its lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from dbos import DBOSClient

from dealbridge.sync.liveness import AdvisoryLocks, libpq_url
from tests.integration.scaleout import fleet
from tests.integration.sync.harness import Emulators, env_for, wait_until

pytestmark = pytest.mark.postgres

RECOVERY_LIMIT_SECONDS = 10.0
VICTIM = "w1"
# Enough that the killed worker is mid-run (three deals in hand, more queued behind them) and
# the survivors have work after the recovery; the 300-deal size is test_fleet's.
DEALS = 60


def _pending_of(client: DBOSClient, executor_id: str) -> list[str]:
    rows = client.list_workflows(
        status="PENDING", executor_id=executor_id, load_input=False, load_output=False
    )
    return [row.workflow_id for row in rows]


def _still_stranded(client: DBOSClient, workflow_ids: list[str]) -> list[str]:
    rows = fleet.statuses(client, workflow_ids)
    return [
        workflow_id
        for workflow_id, row in rows.items()
        if row.status == "PENDING" and row.executor_id == VICTIM
    ]


def test_a_killed_workers_deals_are_recovered_by_the_others(
    emulators: Emulators, tmp_path: Path, postgres_url: str
) -> None:
    settings = fleet.fleet_settings(emulators, tmp_path / "data", postgres_url, queue_concurrency=9)
    with (
        fleet.seeded_fleet(emulators, settings, 3, DEALS, 20) as (started, deals),
        fleet.dbos_client(postgres_url) as client,
    ):
        emulators.netsuite_control.faults(concurrency_limit=5, latency_ms=60, jitter=0.2)
        fleet.enqueue(client, deals)
        victim = started[1]
        orphans = wait_until(lambda: _pending_of(client, VICTIM), "deals running on w1", 120)
        victim.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        victim.process.wait(timeout=10)
        while _still_stranded(client, orphans):
            assert time.monotonic() - killed < 60, "the dead worker's deals were never recovered"
            time.sleep(0.05)
        recovery = round(time.monotonic() - killed, 2)
        rows = fleet.wait_finished(client, deals, timeout=60 + DEALS * 3)
        elapsed = time.monotonic() - killed
    runs = fleet.ledger_runs(postgres_url, deals)
    timing = {"deals": DEALS, "orphans": len(orphans), "recovery_seconds": recovery}
    print(json.dumps({**timing, "finished_after_kill_seconds": round(elapsed, 1)}))

    assert recovery < RECOVERY_LIMIT_SECONDS
    assert Counter(row.status for row in rows.values()) == {"SUCCESS": len(deals)}  # 0 lost
    assert {rows[workflow_id].executor_id for workflow_id in orphans} <= {"w0", "w2"}
    assert sorted(run.workflow_id for run in runs) == sorted(d.workflow_id for d in deals)
    assert Counter(run.status for run in runs) == {"synced": len(deals)}
    assert fleet.duplicate_external_ids(emulators) == {}
    assert fleet.overlaps(runs) == []  # and so no partition was left frozen: every account ended


def test_sigterm_drains_and_frees_the_lock(
    emulators: Emulators, tmp_path: Path, postgres_url: str
) -> None:
    settings = fleet.fleet_settings(
        emulators, tmp_path / "data", postgres_url, shutdown_timeout_seconds=60
    )
    with (
        fleet.seeded_fleet(emulators, settings, 2, 20, 4) as (started, deals),
        fleet.dbos_client(postgres_url) as client,
    ):
        emulators.netsuite_control.faults(concurrency_limit=5, latency_ms=60, jitter=0.2)
        fleet.enqueue(client, deals)
        leaving = started[1]
        running = wait_until(lambda: _pending_of(client, "w1"), "deals running on w1", 120)
        leaving.process.send_signal(signal.SIGTERM)
        assert leaving.process.wait(timeout=90) == 0
        finished = fleet.statuses(client, running)
        rows = fleet.wait_finished(client, deals, timeout=300)
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
            locks = AdvisoryLocks(connection)
            assert locks.key_of("w1") not in locks.live_keys()
            assert locks.key_of("w0") in locks.live_keys()

    assert all(finished[w].status == "SUCCESS" for w in running)  # drained, not abandoned
    assert Counter(row.status for row in rows.values()) == {"SUCCESS": len(deals)}


def test_a_second_process_with_the_same_executor_id_is_refused(
    emulators: Emulators, tmp_path: Path, postgres_url: str
) -> None:
    settings = fleet.fleet_settings(emulators, tmp_path / "data", postgres_url)
    with fleet.workers(settings, 1) as started:
        env = env_for(settings, DEALBRIDGE_EXECUTOR_ID="w0")
        second = subprocess.run(
            [sys.executable, "-m", "dealbridge", "worker"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert started[0].process.poll() is None  # the first one carries on

    message = " ".join(second.stderr.split())  # the console wraps long lines
    assert second.returncode == 1
    assert "executor id 'w0' is already in use" in message
    assert "DEALBRIDGE_WORKER_SLOT" in message
