"""Deals per second with 1, 2 and 3 workers sharing one NetSuite account (issue 9).

Set-up (``bench/scaleout_rig.py``): both emulators as processes, NetSuite at a concurrency limit of
``--limit`` (45) and ``--latency-ms`` (200, ±20 %) per request held inside the slot, as NetSuite
holds one; for each worker count a fresh PostgreSQL database, a fresh org with ``--deals`` deals
closed won over ``--accounts`` accounts, and that many ``dealbridge worker`` processes configured
with the account's limit (they split it: ``dealbridge.sync.budget``). All deals are queued at once;
the clock runs from the first enqueue to the last workflow finished.

Figures per worker count: deals/s; NetSuite calls per deal (the emulator's governed requests ÷
deals); the ideal ``limit / (calls per deal x latency)`` — the rate at which the account's slots,
kept full, would carry those calls; ``ratio`` = deals/s ÷ ideal; the slots' mean occupancy
(sampled at 10 Hz), 429s, the workers' CPU per deal, and the plans' wave widths (compare the
``CALLS_IN_FLIGHT_PER_DEAL`` of the budget). The document's ``ratio`` is that of the largest worker
count, ``scaling`` the deals/s of each count over one worker's.

Run: ``.venv/bin/python -m bench.scaleout`` (``--deals 150 --accounts 60 --workers 1 2 3``);
writes ``bench/results/scaleout.json`` and, with matplotlib, ``scaleout.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import scaleout_rig as rig
from dealbridge.cli.demo_emulators import Emulators, running_emulators
from dealbridge.sync.plan_data import waves_of

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCRATCH = Path(os.environ.get("TMPDIR", "/tmp")) / "dealbridge-bench" / "scaleout"  # noqa: S108
SHOWN = ("workers", "deals_per_second", "ratio", "slots_busy_mean", "worker_cpu_ms_per_deal")
MEANING = (
    "deals/s with the most workers divided by the ideal limit / (NetSuite calls per deal x "
    "latency): 1 means the account's concurrency slots never sat idle"
)


def run_fleet(emulators: Emulators, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement: ``count`` workers, a fresh database and org; its figures."""
    workdir = args.workdir / f"workers-{count}"
    workdir.mkdir(parents=True, exist_ok=True)
    with rig.throwaway_database() as url:
        deals = rig.seed_deals(emulators, args.deals, args.accounts)
        emulators.ns_control("POST", "/reset")
        limits = {"latency_ms": args.latency_ms, "jitter": 0.2, "concurrency_limit": args.limit}
        emulators.ns_control("PUT", "/faults", limits)
        env = rig.worker_env(emulators, url, args.limit, workdir)
        with rig.workers(env, count, workdir) as started:
            client = rig.dbos_client(url)
            try:
                cpu_before = sum(worker.cpu_seconds() for worker in started)
                with rig.InFlightSampler(emulators.netsuite["control_url"]) as sampler:
                    began = time.monotonic()
                    ids = rig.enqueue_all(client, deals)
                    outcomes = rig.wait_finished(client, ids, timeout=args.timeout)
                    seconds = time.monotonic() - began
                cpu = sum(worker.cpu_seconds() for worker in started) - cpu_before
            finally:
                client.destroy()
            budgets = [worker.info.get("netsuite_budget", {}) for worker in started]
        runs = rig.ledger_runs(url, ids)
    stats = emulators.ns_control("GET", "/stats")
    return _figures(count, args, seconds, cpu, stats, sampler.samples, runs, outcomes, budgets)


def _figures(
    count: int,
    args: argparse.Namespace,
    seconds: float,
    cpu: float,
    stats: dict[str, Any],
    samples: list[int],
    runs: list[Any],
    outcomes: dict[str, int],
    budgets: list[dict[str, Any]],
) -> dict[str, Any]:
    calls_per_deal = stats["total_requests"] / args.deals
    ideal = args.limit / (calls_per_deal * args.latency_ms / 1000)
    rate = args.deals / seconds
    return {
        "workers": count,
        "deals_per_second": round(rate, 3),
        "seconds": round(seconds, 1),
        "netsuite_calls_per_deal": round(calls_per_deal, 2),
        "ideal_deals_per_second": round(ideal, 3),
        "ratio": round(rate / ideal, 3),
        "slots_busy_mean": round(statistics.fmean(samples), 2) if samples else None,
        "slots_busy_max": max(samples, default=0),
        "responses_429": stats["responses_429"],
        "worker_cpu_ms_per_deal": round(cpu * 1000 / args.deals, 1),
        # What the machine's cores could carry at that CPU cost, were they the workers' alone
        "cpu_ceiling_deals_per_second": round((os.cpu_count() or 1) * args.deals / cpu, 2),
        "outcomes": outcomes,
        "ledger_statuses": _count(run.status for run in runs),
        "waves": _waves([run.plan for run in runs if run.plan]),
        "budgets": budgets,
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _waves(plans: list[dict[str, Any]]) -> dict[str, float]:
    """Median over deals of the plan's operations, waves, widest wave and mean wave width."""
    widths = [[len(wave) for wave in waves_of(plan)] for plan in plans]
    widths = [w for w in widths if w]
    if not widths:
        return {}
    return {
        "operations": statistics.median(sum(w) for w in widths),
        "waves": statistics.median(len(w) for w in widths),
        "widest": statistics.median(max(w) for w in widths),
        "mean_width": round(statistics.median(sum(w) / len(w) for w in widths), 2),
    }


def machine() -> dict[str, Any]:
    """Where it ran; the load average matters on a shared machine."""
    return {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "database": "postgresql",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def chart(results: list[dict[str, Any]], path: Path) -> None:
    """Deals/s per worker count against the ideal (skipped without matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4), dpi=100)
    counts = [r["workers"] for r in results]
    axes.bar(counts, [r["deals_per_second"] for r in results], label="measured")
    axes.plot(counts, [r["ideal_deals_per_second"] for r in results], "k--", label="ideal")
    axes.set_xlabel("workers")
    axes.set_ylabel("deals/s")
    axes.set_xticks(counts)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=150)
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--limit", type=int, default=45)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--workdir", type=Path, default=SCRATCH)
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    # A directory of its own: two runs must never share the emulators' state files.
    args.workdir = Path(tempfile.mkdtemp(prefix="run-", dir=args.workdir))
    results: list[dict[str, Any]] = []
    with running_emulators(args.workdir / "emulators") as emulators:
        for count in args.workers:
            results.append(run_fleet(emulators, count, args))
            print(json.dumps({k: results[-1][k] for k in SHOWN}), flush=True)
            publish(results, args)  # after each count: a later failure keeps the earlier ones


def publish(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Write ``scaleout.json`` (and the chart) for the counts measured so far."""
    base = results[0]["deals_per_second"]
    document = {
        "benchmark": "scaleout",
        "ratio": results[-1]["ratio"],
        "ratio_meaning": MEANING,
        "machine": machine(),
        "parameters": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "scaling": {str(r["workers"]): round(r["deals_per_second"] / base, 3) for r in results},
        "results": results,
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "scaleout.json").write_text(json.dumps(document, indent=2) + "\n")
    chart(results, args.output_dir / "scaleout.png")


if __name__ == "__main__":
    main()
