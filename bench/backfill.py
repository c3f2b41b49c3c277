"""A 5,000-deal backfill, killed halfway and resumed: duration, and every deal exactly once.

What it does: both emulators start as processes (no latency: the engine and the emulators are
what is measured); the Salesforce org gets ``--deals`` won deals, cloned from the generated
org's single-package won deals (``tests/integration/reconcile/bulk_org``); then ``dealbridge
backfill --since 2000-01-01 --json`` runs as a user runs it, with no worker, so it runs the deals
itself. When ``--kill-at`` of the deals have an outcome it is killed with SIGKILL and started
again, once, and runs to the end.

Checked afterwards: one run per deal (a finished deal was never redone), every run ``synced``, no
NetSuite external id held twice and no record without one (nothing created twice), one
subscription per deal; with ``--rerun``, the same command once more skips every deal (each is in
the ledger and unchanged) with no NetSuite request at all; with ``--reconcile``, a
reconciliation of all of it finds nothing.

Result: ``bench/results/backfill.json`` (and a PNG of deals finished over time). ``ratio`` is
deals synced exactly once ÷ deals (1 is the goal); ``deals_per_second`` is the throughput.

Run: ``.venv/bin/python -m bench.backfill`` (``--deals 5000`` by default; ``--deals 300`` is a
quick check).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select
from tests.integration.reconcile import bulk_org

from bench.harness import Child, StackOptions, service_env
from bench.results_io import add_output_arguments, document, publish
from dealbridge.db.models import Run

SINCE = "2000-01-01"
# Another window, so another job with no cursor and no runs of its own: what skips its deals is
# the ledger (synced, and unchanged since our write-back), not the first job's memory.
RERUN_SINCE = "1999-01-01"
TEMPLATE_DEALS = 4000  # a generated org this size has ~160 single-package won deals to clone
POLL_SECONDS = 1.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and writes) its result document."""
    args = _arguments(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    netsuite = Child(
        ["emulate", "netsuite", "--port", "0", "--state-dir", str(args.workdir / "ns"),
         "--concurrency-limit", str(args.concurrency_limit)],
        args.workdir / "netsuite.log", dict(os.environ), args.workdir,
    )  # fmt: skip
    salesforce = Child(
        ["emulate", "salesforce", "--port", "0", "--deals", "0",
         "--state-dir", str(args.workdir / "sf")],
        args.workdir / "salesforce.log", dict(os.environ), args.workdir,
    )  # fmt: skip
    try:
        rows = bulk_org.cloned_org(
            bulk_org.won_template(3, TEMPLATE_DEALS, single_package=True), args.deals
        )
        httpx.post(salesforce.info["control_url"] + "/reset", timeout=60).raise_for_status()
        bulk_org.load_salesforce(salesforce.info["control_url"], rows)
        env = _env(salesforce.info, netsuite.info, args)
        run = _backfill(env, args)
        result = _result(args, env, netsuite.info, rows, run)
        if args.rerun:
            result["rerun"] = _rerun(env, args.workdir, netsuite.info)
    finally:
        netsuite.stop()
        salesforce.stop()
    publish(result, lambda figure: _draw(figure, run.timeline), args.output_dir)
    return result


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__)
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--kill-at", type=float, default=0.5, help="share done; 0 = no kill")
    parser.add_argument("--queue-concurrency", type=int, default=8)
    parser.add_argument("--concurrency-limit", type=int, default=15)
    parser.add_argument("--reconcile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--rerun", action=argparse.BooleanOptionalAction, default=True)
    add_output_arguments(parser, "backfill")
    return parser.parse_args(argv)


def _env(sf: dict[str, Any], ns: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    options = StackOptions(concurrency_limit=args.concurrency_limit)
    env = service_env(sf, ns, args.workdir / "data", options, secrets.token_urlsafe(32))
    env["DEALBRIDGE_SYNC__QUEUE_CONCURRENCY"] = str(args.queue_concurrency)
    env["DEALBRIDGE_SYNC__SHUTDOWN_TIMEOUT_SECONDS"] = "0"
    return env


@dataclass
class _Run:
    """What the killed-and-resumed backfill did."""

    timeline: list[tuple[float, int]] = field(default_factory=list)
    seconds: float = 0.0
    kills: int = 0
    done_at_kill: int | None = None
    resumed: dict[str, Any] = field(default_factory=dict)  # the last command's --json summary


def _backfill(env: dict[str, str], args: argparse.Namespace) -> _Run:
    """Run the command (killed once at ``--kill-at``); the finished count over time."""
    ledger = args.workdir / "data" / "dealbridge.sqlite3"
    run = _Run()
    started = time.monotonic()
    kill_at = int(args.deals * args.kill_at) if args.kill_at > 0 else None
    while True:
        process = _start(env, args.workdir, f"backfill-{run.kills}")
        while process.poll() is None:
            done = _finished(ledger)
            run.timeline.append((time.monotonic() - started, done))
            if kill_at is not None and run.kills == 0 and done >= kill_at:
                process.send_signal(signal.SIGKILL)
                process.wait()
                run.kills += 1
                run.done_at_kill = _finished(ledger)
                break
            time.sleep(POLL_SECONDS)
        else:
            if process.returncode != 0:
                raise RuntimeError(f"backfill exited {process.returncode}; see {args.workdir}")
            run.timeline.append((time.monotonic() - started, _finished(ledger)))
            run.seconds = time.monotonic() - started
            run.resumed = _summary(args.workdir, f"backfill-{run.kills}")
            return run


def _rerun(env: dict[str, str], workdir: Path, ns: dict[str, Any]) -> dict[str, Any]:
    """A backfill of the same deals again: each is in the ledger and unchanged, so none is run."""
    with httpx.Client(base_url=ns["control_url"], timeout=60) as control:
        control.post("/stats/reset").raise_for_status()
        started = time.monotonic()
        process = _start(env, workdir, "rerun", since=RERUN_SINCE)
        if process.wait() != 0:
            raise RuntimeError(f"the re-run exited {process.returncode}; see {workdir}")
        seconds = time.monotonic() - started
        stats = control.get("/stats").json()
    summary = _summary(workdir, "rerun")
    return {
        "seconds": round(seconds, 1),
        "queued": summary["queued"],
        "skipped": summary["skipped"],
        "netsuite_requests": stats["total_requests"],
    }


def _start(
    env: dict[str, str], workdir: Path, name: str, *, since: str = SINCE
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "dealbridge", "backfill", "--since", since, "--json"]
    with (workdir / f"{name}.json").open("wb") as out, (workdir / f"{name}.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=out, stderr=log, env=env, cwd=workdir
        )


def _summary(workdir: Path, name: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((workdir / f"{name}.json").read_text(encoding="utf-8"))
    return summary


def _finished(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    engine = create_engine(f"sqlite:///file:{ledger}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            statuses = connection.execute(select(Run.status)).scalars()
            return sum(
                status in ("synced", "unchanged", "invalid", "failed") for status in statuses
            )
    finally:
        engine.dispose()


def _result(
    args: argparse.Namespace,
    env: dict[str, str],
    ns: dict[str, Any],
    rows: bulk_org.Rows,
    run: _Run,
) -> dict[str, Any]:
    runs = _runs(args.workdir / "data" / "dealbridge.sqlite3")
    per_deal = Counter(opportunity for opportunity, _ in runs)
    statuses = Counter(status for _, status in runs)
    once = sum(1 for row in rows["Opportunity"] if per_deal[row["Id"]] == 1)
    netsuite = _netsuite_counts(ns)
    timeline = run.timeline
    result = document(
        "backfill",
        ratio=once / args.deals,
        meaning="deals synced exactly once / deals",
        parameters={
            "deals": args.deals,
            "kill_at": args.kill_at,
            "queue_concurrency": args.queue_concurrency,
            "concurrency_limit": args.concurrency_limit,
        },
        samples={
            "finished": [[round(t, 1), n] for t, n in timeline[:: max(1, len(timeline) // 200)]]
        },
        seconds=round(run.seconds, 1),
        deals_per_second=round(args.deals / run.seconds, 2),
        kills=run.kills,
        done_at_kill=run.done_at_kill,
        resumed={key: run.resumed.get(key) for key in ("total", "queued", "skipped", "outcomes")},
        runs=dict(statuses),
        deals_run_more_than_once=sum(1 for n in per_deal.values() if n > 1),
        netsuite=netsuite,
    )
    if args.reconcile:
        result["reconcile"] = _reconcile(env, args.workdir)
    return result


def _runs(ledger: Path) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///file:{ledger}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            return [(o, s) for o, s in connection.execute(select(Run.opportunity_id, Run.status))]
    finally:
        engine.dispose()


def _netsuite_counts(ns: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    with httpx.Client(base_url=ns["control_url"], timeout=600) as control:
        for record_type in ("customer", "contact", "billingAccount", "subscription",
                            "customrecord_cpq_package"):  # fmt: skip
            records = control.get(f"/records/{record_type}").json()
            ids = Counter(r.get("externalId") for r in records if r.get("externalId"))
            found[record_type] = {
                "records": len(records),
                "without_external_id": sum(1 for r in records if not r.get("externalId")),
                "external_ids_held_twice": sum(1 for n in ids.values() if n > 1),
            }
    return found


def _reconcile(env: dict[str, str], workdir: Path) -> dict[str, Any]:
    patient = {**env, "DEALBRIDGE_NETSUITE__TIMEOUT_SECONDS": "900"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "dealbridge", "reconcile", "--format", "json"],
        env=patient, cwd=workdir, capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "summary": report["summary"],
        "checked": report["checked"],
        "calls": report["calls"],
    }


def _draw(figure: Any, timeline: list[tuple[float, int]]) -> None:
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([t for t, _ in timeline], [n for _, n in timeline])
    axes.set_xlabel("seconds")
    axes.set_ylabel("deals with an outcome")
    axes.set_title("backfill, killed once and resumed")


if __name__ == "__main__":
    main(sys.argv[1:])
