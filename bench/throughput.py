"""Burst throughput: 1,000 deals closed at once against NetSuite's concurrency limit.

NetSuite admits ``limit`` requests at a time and each takes ``latency``; however clever the
engine, it cannot finish more than ``limit / (calls per deal x latency)`` deals a second. That
ceiling is the denominator: ``ratio`` = measured deals/s ÷ ideal deals/s (target ≥ 0.9).

Method: both emulators and ``dealbridge serve`` run as processes (``harness``); NetSuite answers
after ``--latency-ms`` ± ``--jitter`` and refuses the ``--limit + 1``-th request in flight with a
429; the service is configured with the same limit, as a user would configure it. The deals are
closed through the Salesforce REST API in sObject Collections PATCHes of 200, Salesforce pushes
Outbound Messages, and the clock runs from just before the first PATCH to the last run's
``finished_at`` in the ledger (NetSuite written and Salesforce written back). NetSuite calls per
deal are the emulator's governed requests (token requests excluded, 429s excluded) ÷ deals, so
SuiteQL lookups count, amortised. 429s *seen* come from the emulator; *surfaced* are the deals
that ended failed or invalid, with an open error, or without an outcome: must be 0. NetSuite
requests in flight are sampled from the emulator's statistics at 20 Hz for the chart.

Run: ``.venv/bin/python -m bench.throughput`` (``--deals 200`` for a quick run).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from bench.harness import LedgerRun, Sampler, Stack, StackOptions, cpu_seconds, running_stack
from bench.results_io import add_output_arguments, document, per_second, publish, summary

NAME = "throughput"
SUCCESS = frozenset({"synced", "unchanged"})
IN_FLIGHT_HZ = 20.0
QUEUED_HZ = 2.0
GUESSED_CALLS_PER_DEAL = 25  # only to size the default timeout
QUEUED_SQL = "SELECT count(*) FROM workflow_status WHERE status = 'ENQUEUED'"


def ideal_deals_per_second(limit: int, calls_per_deal: float, latency_ms: float) -> float:
    """The physical ceiling: ``limit / (NetSuite calls per deal x latency)``."""
    if calls_per_deal <= 0 or latency_ms <= 0:
        return float("inf")
    return limit / (calls_per_deal * latency_ms / 1000.0)


def steady_rate(finish_offsets: list[float], low: float = 0.1, high: float = 0.9) -> float | None:
    """Deals/s between the ``low`` and ``high`` fractions finished: the rate without ramps.

    The first deals finish after one deal's latency and the last ones trickle out as the queue
    drains; the middle of the run is what the engine sustains.
    """
    if len(finish_offsets) < 10:
        return None
    ordered = sorted(finish_offsets)
    first, last = round(low * (len(ordered) - 1)), round(high * (len(ordered) - 1))
    span = ordered[last] - ordered[first]
    return (last - first) / span if span > 0 else None


@dataclass
class Burst:
    """One burst's raw facts."""

    deals: list[str]
    started: float
    runs: list[LedgerRun]
    netsuite: dict[str, Any]
    salesforce_calls: int
    open_errors: int
    service_cpu_seconds: float
    in_flight: list[tuple[float, float]] = field(default_factory=list)
    queued: list[tuple[float, float]] = field(default_factory=list)

    @property
    def finish_offsets(self) -> list[float]:
        """Seconds from the first PATCH to each run's end."""
        return [r.finished_at.timestamp() - self.started for r in self.runs if r.finished_at]

    @property
    def elapsed(self) -> float:
        """First PATCH → last deal finished."""
        return max(self.finish_offsets, default=float("nan"))

    @property
    def succeeded(self) -> int:
        """Deals whose run ended synced or unchanged."""
        return len({r.opportunity_id for r in self.runs if r.status in SUCCESS})

    @property
    def surfaced(self) -> int:
        """Deals a person would have to look at: failed, invalid, an open error, or no outcome."""
        bad = {r.opportunity_id for r in self.runs if r.status not in SUCCESS}
        missing = len(self.deals) - len({r.opportunity_id for r in self.runs})
        return len(bad) + missing + self.open_errors

    @property
    def netsuite_calls(self) -> int:
        """Governed NetSuite requests answered other than 429 (token requests never count)."""
        return int(self.netsuite["total_requests"]) - int(self.netsuite["responses_429"])


def in_flight_probe(rig: Stack) -> Callable[[], float]:
    """NetSuite requests in flight, on a connection of its own (the sampler's thread)."""
    client = httpx.Client(timeout=30)
    url = rig.netsuite.info["control_url"] + "/stats"
    return lambda: float(client.get(url).json()["in_flight"])


def queued_probe(rig: Stack) -> Callable[[], float]:
    """Deals waiting in DBOS's queue (enqueued, not started), read-only from its database."""

    def queued() -> float:
        with rig.dbos.connect() as connection:
            return float(connection.execute(text(QUEUED_SQL)).scalar_one())

    return queued


def run_burst(rig: Stack, deals: list[str], timeout: float) -> Burst:
    """Close ``deals`` at once and wait for every outcome, sampling NetSuite and the queue."""
    rig.control(rig.netsuite, "POST", "/stats/reset")
    sf_before = int(rig.stats(rig.salesforce)["api_calls"])
    cpu_before = cpu_seconds(rig.service.pid)
    in_flight = Sampler(in_flight_probe(rig), IN_FLIGHT_HZ)
    queued = Sampler(queued_probe(rig), QUEUED_HZ)
    with in_flight, queued:
        sampling_began = started = time.time()
        rig.close_won(deals)
        runs = rig.wait_finished(deals, timeout)
    shift = started - sampling_began  # ~0: sample times are relative to the sampler's start
    return Burst(
        deals=deals,
        started=started,
        runs=runs,
        netsuite=rig.stats(rig.netsuite),
        salesforce_calls=int(rig.stats(rig.salesforce)["api_calls"]) - sf_before,
        open_errors=rig.open_errors(deals),
        service_cpu_seconds=cpu_seconds(rig.service.pid) - cpu_before,
        in_flight=[(t - shift, v) for t, v in in_flight.samples],
        queued=[(t - shift, v) for t, v in queued.samples],
    )


def figures(burst: Burst, limit: int, latency_ms: float) -> dict[str, Any]:
    """Deals/s against the ideal, calls per deal, 429s, utilisation of the limit."""
    n = len(burst.deals)
    calls_per_deal = burst.netsuite_calls / n
    ideal = ideal_deals_per_second(limit, calls_per_deal, latency_ms)
    measured = burst.succeeded / burst.elapsed if burst.elapsed > 0 else 0.0
    busy = [v for t, v in burst.in_flight if 0 <= t <= burst.elapsed]
    return {
        "deals_per_second": round(measured, 3),
        "ideal_deals_per_second": round(ideal, 3),
        "steady_deals_per_second": _rounded(steady_rate(burst.finish_offsets)),
        "seconds": round(burst.elapsed, 2),
        "deals_succeeded": burst.succeeded,
        "netsuite_calls_per_deal": round(calls_per_deal, 2),
        "salesforce_calls_per_deal": round(burst.salesforce_calls / n, 2),
        "responses_429_seen": int(burst.netsuite["responses_429"]),
        "errors_surfaced": burst.surfaced,
        "max_in_flight": int(burst.netsuite["max_in_flight"]),
        "mean_in_flight": round(statistics.fmean(busy), 2) if busy else None,
        "limit_utilisation": round(statistics.fmean(busy) / limit, 3) if busy else None,
        "netsuite_by_status": burst.netsuite["by_status"],
        # is the machine the limit? the service's CPU per deal, and the cores it kept busy
        "service_cpu_ms_per_deal": round(burst.service_cpu_seconds * 1000 / n, 1),
        "service_cpu_cores": round(burst.service_cpu_seconds / burst.elapsed, 2),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def add_stack_arguments(parser: argparse.ArgumentParser, *, deals: int, latency: float) -> None:
    """The rig's knobs, shared by the benchmarks that run a burst."""
    parser.add_argument("--deals", type=int, default=deals, help="deals closed at once")
    parser.add_argument("--latency-ms", type=float, default=latency, help="NetSuite latency")
    parser.add_argument("--jitter", type=float, default=0.2, help="latency jitter, a fraction")
    parser.add_argument("--limit", type=int, default=15, help="NetSuite concurrency limit")
    parser.add_argument(
        "--salesforce-latency-ms", type=float, default=None, help="default: --latency-ms"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated org")
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for outcomes")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a service setting without the DEALBRIDGE_ prefix, e.g. SYNC__QUEUE_CONCURRENCY=8",
    )  # fmt: skip


def stack_options(args: argparse.Namespace, limit: int | None = None) -> StackOptions:
    """``StackOptions`` from the shared arguments."""
    sf_latency = args.salesforce_latency_ms
    if sf_latency is None:
        sf_latency = args.latency_ms
    return StackOptions(
        netsuite_latency_ms=args.latency_ms,
        jitter=args.jitter,
        concurrency_limit=limit or args.limit,
        salesforce_latency_ms=sf_latency,
        deals_needed=args.deals,
        seed=args.seed,
        env=dict(item.split("=", 1) for item in args.set),
    )


def default_timeout(deals: int, limit: int, latency_ms: float) -> float:
    """Generous: five times the ideal duration plus five minutes."""
    ideal = ideal_deals_per_second(limit, GUESSED_CALLS_PER_DEAL, max(latency_ms, 20.0))
    return 5 * deals / ideal + 300


def parameters(args: argparse.Namespace, options: StackOptions, rig: Stack) -> dict[str, Any]:
    """What was run, including what the service derived from its settings."""
    return {
        "deals": args.deals,
        "netsuite_latency_ms": options.netsuite_latency_ms,
        "jitter": options.jitter,
        "concurrency_limit": options.concurrency_limit,
        "salesforce_latency_ms": options.salesforce_latency_ms,
        "seed": options.seed,
        "service_settings": options.env,
        "service_deals_in_flight": rig.service.info.get("deals_in_flight"),
        "service_netsuite_budget": rig.service.info.get("netsuite_budget"),
        "trigger": "Outbound Message after sObject Collections PATCH StageName=Closed Won",
    }


def run(args: argparse.Namespace) -> tuple[dict[str, Any], Burst]:
    """Start the rig, run the burst, return the document and the raw burst (for the chart)."""
    options = stack_options(args)
    timeout = args.timeout or default_timeout(args.deals, args.limit, args.latency_ms)
    with running_stack(options, args.workdir) as rig:
        burst = run_burst(rig, rig.won_candidates[: args.deals], timeout)
        params = parameters(args, options, rig)
    found = figures(burst, args.limit, args.latency_ms)
    result = document(
        NAME,
        ratio=found["deals_per_second"] / found["ideal_deals_per_second"],
        meaning="measured deals/s (first PATCH to last run finished) divided by the ideal "
        "limit / (NetSuite calls per deal x latency); >= 0.9 meets the target",
        parameters=params,
        samples={
            "finish_seconds": summary(burst.finish_offsets),
            "in_flight": summary([v for _, v in burst.in_flight]),
            "in_flight_per_second": per_second(burst.in_flight),
            "queued_per_second": per_second(burst.queued),
        },
        **found,
    )
    return result, burst


def draw(result: dict[str, Any], burst: Burst) -> Any:
    """In-flight NetSuite requests over time against the limit; deals finished alongside."""

    def chart(figure: Any) -> None:
        axes = figure.add_subplot()
        times, values = zip(*burst.in_flight, strict=True) if burst.in_flight else ((), ())
        axes.step(times, values, where="post", linewidth=0.6, label="NetSuite requests in flight")
        limit = result["parameters"]["concurrency_limit"]
        axes.axhline(limit, color="red", linestyle="--", linewidth=1, label=f"limit {limit}")
        axes.set_xlabel("seconds since the deals were closed")
        axes.set_ylabel("requests in flight")
        axes.set_ylim(0, limit * 1.25)
        done = figure.axes[0].twinx()
        offsets = sorted(burst.finish_offsets)
        done.plot(offsets, range(1, len(offsets) + 1), color="green", label="deals finished")
        done.set_ylabel("deals finished")
        done.set_ylim(0, len(burst.deals) * 1.05)
        axes.legend(loc="lower right", fontsize=8)
        axes.set_title(
            f"{len(burst.deals)} deals: {result['deals_per_second']} deals/s, ideal "
            f"{result['ideal_deals_per_second']} (ratio {result['ratio']}); "
            f"429s seen {result['responses_429_seen']}, surfaced {result['errors_surfaced']}",
            fontsize=9,
        )

    return chart


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write ``throughput.json`` and ``throughput.png``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stack_arguments(parser, deals=1000, latency=200.0)
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    result, burst = run(args)
    publish(result, draw(result, burst), args.output_dir)
    return result


if __name__ == "__main__":
    main()
