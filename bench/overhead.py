"""Engine overhead: CPU per deal of the service process, and its peak memory, with free remotes.

With both emulators answering at once (0 ms latency) every CPU cycle the service spends is the
engine's own: the Outbound Message listener, DBOS's queue and checkpoints, the ledger, mapping,
HTTP clients. ``ratio`` = service CPU milliseconds per deal ÷ the 15 ms target (≤ 1 meets it).

Method: the rig (``harness``) with zero latency; a warm-up deal takes the one-off costs (tokens,
keys, lookup tables, first connections); the service idles for ``--idle-seconds``,
to measure what it burns doing nothing (DBOS's queue poller, the event loop) — reported, and
subtracted in ``cpu_ms_per_deal_net``, but the ratio uses the gross figure. Then ``--deals``
deals are closed at once: the service's CPU time (user + system, all threads, from
``/proc/<pid>/stat``) is read before the burst and after the last run finished. Peak memory is the
kernel's high-water mark of the resident set (``VmHWM`` in ``/proc/<pid>/status``) after the
burst, when all deals had been queued at once; the resident set is also sampled during the burst
for the chart, with the number of deals waiting in DBOS's queue. psutil is not a dependency:
``/proc`` says all of this.

Against a baseline from the same run: after the burst, ``bench.dbos_floor`` runs DBOS alone in
its own process — same SQLite settings, same queue shape, as many checkpointed steps per workflow
as the service's deals had (read from its checkpoints), but steps that do nothing. That is what
durability costs a deal on this machine before dealbridge does any work; ``own_cpu_ms_per_deal``
is the rest, and ``ratio_to_dbos_floor`` says how far above the floor the service runs.

CPU time is robust to other load on the machine (it counts only cycles the process got), but
contention for caches and cores still costs cycles: on a busy machine this is an upper bound.

Run: ``.venv/bin/python -m bench.overhead`` (``--deals 200`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

from bench.harness import Sampler, cpu_seconds, memory_kib, running_stack
from bench.results_io import (
    ROOT,
    add_output_arguments,
    document,
    per_second,
    publish,
    summary,
)
from bench.throughput import add_stack_arguments, parameters, run_burst, stack_options

NAME = "overhead"
TARGET_CPU_MS_PER_DEAL = 15.0
MEMORY_HZ = 4.0
FLOOR_WORKFLOWS = 300
DEFAULT_POLLING_INTERVAL = 0.05  # sync.queue_polling_interval_seconds' default


def cpu_ms_per_deal(cpu_seconds_used: float, deals: int) -> float:
    """Milliseconds of CPU per deal."""
    return cpu_seconds_used * 1000 / deals


def idle_rate(pid: int, seconds: float) -> float:
    """CPU seconds per second the process burns while nothing happens."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Idle, then the burst; CPU and memory of the service, CPU of the emulators for context."""
    options = replace(stack_options(args), deals_needed=args.deals + args.warmup)
    timeout = args.timeout or 1800.0
    with running_stack(options, args.workdir) as rig:
        pids = {"service": rig.service.pid, "salesforce": rig.salesforce.pid,
                "netsuite": rig.netsuite.pid}  # fmt: skip
        warmup, deals = rig.won_candidates[: args.warmup], rig.won_candidates[args.warmup :]
        if warmup:
            rig.close_won(warmup)
            rig.wait_finished(warmup, timeout)
        idle = idle_rate(pids["service"], args.idle_seconds)
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        memory_before = memory_kib(pids["service"], "VmRSS")
        rss = Sampler(lambda: memory_kib(pids["service"], "VmRSS") / 1024, MEMORY_HZ)
        with rss:
            burst = run_burst(rig, deals[: args.deals], timeout)
        used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        peak = memory_kib(pids["service"], "VmHWM")
        steps = rig.steps_per_deal()
        in_flight = int(rig.service.info["deals_in_flight"])
        params = {**parameters(args, options, rig), "idle_seconds": args.idle_seconds,
                  "warmup_deals": args.warmup}  # fmt: skip
    n, gross = len(burst.deals), cpu_ms_per_deal(used["service"], len(burst.deals))
    net = cpu_ms_per_deal(used["service"] - idle * burst.elapsed, n)
    floor = dbos_floor(round(steps or 0), in_flight, polling_interval(options.env), n)
    return document(
        NAME,
        ratio=gross / TARGET_CPU_MS_PER_DEAL,
        meaning="service CPU ms per deal (user + system, all threads, idle included) divided "
        "by the 15 ms target; <= 1 meets the target",
        parameters=params,
        cpu_ms_per_deal=round(gross, 2),
        cpu_ms_per_deal_net=round(net, 2),
        dbos_floor=floor,
        own_cpu_ms_per_deal=round(gross - floor["cpu_ms_per_workflow"], 2),
        ratio_to_dbos_floor=round(gross / floor["cpu_ms_per_workflow"], 3),
        steps_per_deal=round(steps, 2) if steps is not None else None,
        idle_cpu_ms_per_second=round(idle * 1000, 2),
        emulator_cpu_ms_per_deal={
            name: round(cpu_ms_per_deal(used[name], n), 2) for name in ("salesforce", "netsuite")
        },
        peak_memory_mib=round(peak / 1024, 1),
        memory_before_burst_mib=round(memory_before / 1024, 1),
        max_deals_queued=int(max((v for _, v in burst.queued), default=0)),
        deals_succeeded=burst.succeeded,
        errors_surfaced=burst.surfaced,
        seconds=round(burst.elapsed, 2),
        deals_per_second=round(burst.succeeded / burst.elapsed, 2),
        samples={
            "resident_mib": summary([v for _, v in rss.samples], 1),
            "resident_mib_per_second": per_second(rss.samples),
            "queued_per_second": per_second(burst.queued),
            "finish_seconds": summary(burst.finish_offsets),
        },
    )


def polling_interval(env: dict[str, str]) -> float:
    """The service's queue polling interval: a ``--set`` override, else the default."""
    return float(env.get("SYNC__QUEUE_POLLING_INTERVAL_SECONDS", DEFAULT_POLLING_INTERVAL))


def dbos_floor(steps: int, concurrency: int, interval: float, deals: int) -> dict[str, Any]:
    """``bench.dbos_floor`` in its own process, shaped like the service's deals."""
    argv = [sys.executable, "-m", "bench.dbos_floor", "--steps", str(steps),
            "--concurrency", str(concurrency), "--polling-interval", str(interval),
            "--workflows", str(min(deals, FLOOR_WORKFLOWS))]  # fmt: skip
    finished = subprocess.run(  # noqa: S603 - our own interpreter and module
        argv, capture_output=True, text=True, check=True, timeout=900, cwd=ROOT
    )
    floor: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return floor


def draw(result: dict[str, Any]) -> Any:
    """Resident memory and queued deals over the burst."""

    def chart(figure: Any) -> None:
        axes = figure.add_subplot()
        memory = result["samples"]["resident_mib_per_second"]
        axes.plot([m[0] for m in memory], [m[2] for m in memory], label="service RSS (MiB)")
        axes.axhline(result["peak_memory_mib"], color="red", linestyle="--", linewidth=1,
                     label=f"peak {result['peak_memory_mib']} MiB")  # fmt: skip
        axes.set_xlabel("seconds since the deals were closed")
        axes.set_ylabel("MiB")
        axes.set_ylim(0, result["peak_memory_mib"] * 1.2)
        queued = figure.axes[0].twinx()
        series = result["samples"]["queued_per_second"]
        queued.plot([q[0] for q in series], [q[2] for q in series], color="green",
                    label="deals queued")  # fmt: skip
        queued.set_ylabel("deals waiting in the queue")
        axes.legend(loc="upper right", fontsize=8)
        queued.legend(loc="center right", fontsize=8)
        axes.set_title(
            f"{result['parameters']['deals']} deals at 0 ms latency: "
            f"{result['cpu_ms_per_deal']} CPU ms/deal (target 15, ratio {result['ratio']}), "
            f"peak {result['peak_memory_mib']} MiB\nDBOS alone, same steps: "
            f"{result['dbos_floor']['cpu_ms_per_workflow']} CPU ms/deal",
            fontsize=9,
        )

    return chart


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write ``overhead.json`` and ``overhead.png``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stack_arguments(parser, deals=1000, latency=0.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle CPU measurement")
    parser.add_argument("--warmup", type=int, default=1, help="deals synced before measuring")
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    result = run(args)
    publish(result, draw(result), args.output_dir)
    return result


if __name__ == "__main__":
    main()
