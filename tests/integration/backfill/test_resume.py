"""A backfill killed halfway resumes without redoing finished deals, and writes no duplicate.

Done means (issue 7). ``dealbridge backfill`` runs as a user runs it — a real process, with no
worker, so it runs the deals itself — and is killed with SIGKILL once half of the deals have an
outcome, then started again. Afterwards every deal has exactly one run (a deal finished before
the kill was not queued again; one in flight was finished by DBOS recovery, under its own run),
NetSuite holds no external id twice and no record without one, and a reconciliation finds
nothing at all.

Scale: the engine syncs a few deals per second on a small machine, so CI runs 150 deals;
``bench/backfill.py`` runs the same scenario with 5,000 (its figure is in the issue notes and
``bench/results/backfill.json``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from dealbridge.db import migrate
from dealbridge.db.models import FINISHED_STATUSES, Run
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import load_flow
from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.runtime import DEFAULT_FLOW
from tests.integration.reconcile import bulk_org
from tests.integration.reconcile.support import reconcile_with
from tests.integration.sync.harness import Emulators, env_for, running_emulators, settings_for

DEALS = 150
FINISH_SECONDS = 900.0
POLL_SECONDS = 0.5


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("emulators")) as started:
        yield started


@pytest.mark.slow
def test_a_backfill_killed_halfway_resumes_without_redoing_or_duplicating(
    emulators: Emulators, tmp_path: Path
) -> None:
    settings = settings_for(emulators, tmp_path / "data", queue_concurrency=6)
    won = _seed(emulators)
    env = {
        **os.environ,
        **env_for(settings),
        "DEALBRIDGE_NETSUITE__CONCURRENCY_LIMIT": "15",
        "PYTHONUNBUFFERED": "1",
    }

    with ExitStack() as files:
        first = _start(env, tmp_path, "first", files)
        done_before = _kill_when_half_done(first, settings)
        summary = _finish(_start(env, tmp_path, "second", files), tmp_path / "second.out")

    runs = _runs(settings)
    assert DEALS // 2 <= done_before < DEALS
    assert Counter(opportunity for opportunity, _ in runs) == Counter(won)  # one run per deal
    assert {status for _, status in runs} == {"synced"}
    assert summary["job_totals"] == {"synced": DEALS}
    assert summary["queued"] <= DEALS - done_before  # the finished deals were not queued again
    _assert_no_duplicates(emulators)
    engine = FlowEngine(load_flow(DEFAULT_FLOW))
    with _ledger(settings) as ledger:
        report = reconcile_with(settings, engine, ledger).report
    assert report.items == []
    assert report.checked["deals"] == DEALS


def _seed(emulators: Emulators) -> list[str]:
    emulators.netsuite_control.reset()
    emulators.sf_control("POST", "/reset")
    rows = bulk_org.cloned_org(bulk_org.won_template(3, 2000, single_package=True), DEALS)
    bulk_org.load_salesforce(emulators.salesforce["control_url"], rows)
    return [row["Id"] for row in rows["Opportunity"]]


def _start(
    env: dict[str, str], workdir: Path, name: str, files: ExitStack
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "dealbridge", "backfill", "--since", "2000-01-01", "--json"]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        env=env,
        cwd=workdir,
        stdout=files.enter_context((workdir / f"{name}.out").open("w")),
        stderr=files.enter_context((workdir / f"{name}.err").open("w")),
        text=True,
    )


def _kill_when_half_done(process: subprocess.Popen[str], settings: Settings) -> int:
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the backfill ended before it could be killed"
        done = sum(status in FINISHED_STATUSES for _, status in _runs(settings))
        if done >= DEALS // 2:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return sum(status in FINISHED_STATUSES for _, status in _runs(settings))
        time.sleep(POLL_SECONDS)
    process.kill()
    raise AssertionError("half of the deals never finished")


def _finish(process: subprocess.Popen[str], output: Path) -> dict[str, object]:
    code = process.wait(timeout=FINISH_SECONDS)
    text = output.read_text(encoding="utf-8")
    assert code == 0, f"exit {code}: {text[-2000:]}"
    summary: dict[str, object] = json.loads(text)
    return summary


def _runs(settings: Settings) -> list[tuple[str, str]]:
    """Every run's (opportunity, status); nothing before the ledger exists."""
    if not (settings.data_dir / "dealbridge.sqlite3").exists():
        return []
    with _ledger(settings, migrate_first=False) as ledger, ledger.session() as session:
        return [(o, s) for o, s in session.execute(select(Run.opportunity_id, Run.status))]


@contextmanager
def _ledger(settings: Settings, *, migrate_first: bool = True) -> Iterator[Ledger]:
    url = settings.resolved_database_url()
    if migrate_first:
        migrate.upgrade(url)
    ledger = Ledger(url)
    try:
        yield ledger
    finally:
        ledger.dispose()


def _assert_no_duplicates(emulators: Emulators) -> None:
    for record_type in ("customer", "contact", "billingAccount", "subscription"):
        records = emulators.ns_records(record_type)
        external = Counter(r.get("externalId") for r in records)
        assert None not in external, f"a {record_type} without external id"
        assert max(external.values()) == 1, f"a {record_type} external id held twice"
    assert len(emulators.ns_records("subscription")) == DEALS  # single-package deals
