"""Latency: one deal at a time, trigger → all records written, against the critical path.

A deal cannot finish sooner than its longest chain of dependent remote calls: the Salesforce
reads of the deal graph, the NetSuite lookups (one round: the tables are read in parallel, and
only when the cache is cold), the longest chain of upserts through the plan's dependencies (a
record is sent once the records it refers to are written; a record found unchanged costs no call
but still waits for what it refers to, as its body holds their ids), and the Salesforce
write-back. The **critical path** of a deal is that chain, counted from the calls its run really
made (the ledger's call log) and the plan's dependencies, times the emulators' configured
latencies::

    critical = salesforce calls x sf_latency + (lookup round + chained writes) x ns_latency

``ratio`` = median over deals of (end-to-end latency ÷ critical path); target ≤ 1.1. With jitter
each call's latency is drawn from ``latency ± jitter``: a round of parallel lookups lasts as long
as its slowest call, and the longest chain of upserts is the longest of several random sums. A
jitter-aware path (``critical_path_jitter_ms``, its expectation estimated by sampling the same
dependency graph) and the ratio to it are reported alongside.

End-to-end is measured from the answer to the PATCH that closes the deal (Salesforce REST API;
the emulator changes the record after its latency, just before answering) to the run's
``finished_at`` in the ledger, after the write-back: it includes the Outbound Message
delivery, the queue, every step and checkpoint. The split is reported too: delivery (PATCH →
the listener's ``received_at``), the queue (→ the first step's start in DBOS's checkpoints), the
steps' own time (``step_timings``), and the rest (checkpoints between steps, scheduling). A
warm-up deal first takes the one-off costs (tokens, lookup tables, first connections) out of
the samples.

Run: ``.venv/bin/python -m bench.latency`` (``--deals 10`` for a quick run).
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bench.harness import LedgerRun, Stack, StackOptions, running_stack
from bench.results_io import add_output_arguments, document, percentile, publish, summary
from bench.throughput import add_stack_arguments, parameters, stack_options
from dealbridge.sync.plan_data import waves_of

NAME = "latency"
SUITEQL = "/query/v1/suiteql"
AUTH = "/oauth2/"  # token requests: outside NetSuite's governance and Salesforce's API count
RECORD_PREFIX = "/record/v1/"
WRITES = frozenset({"PUT", "PATCH", "POST", "DELETE"})


Dependencies = dict[str, tuple[str, ...]]
"""Record key → the keys its payload refers to, dependencies first (the plan's order)."""

JITTER_SAMPLES = 2000


@dataclass(frozen=True)
class Chain:
    """The longest chain of dependent calls of one run.

    ``written`` are the records the run sent; with the plan's dependencies they give the chain of
    upserts, and its expected length under jitter.
    """

    salesforce_calls: int
    lookup_calls: int
    chained_writes: int
    written: frozenset[str] = frozenset()

    @property
    def lookup_rounds(self) -> int:
        """The lookups are read in parallel: one round, when there are any."""
        return min(self.lookup_calls, 1)

    def milliseconds(self, sf_latency_ms: float, ns_latency_ms: float) -> float:
        """The chain's duration at the configured (mean) latencies: issue 8's critical path."""
        netsuite_rounds = self.lookup_rounds + self.chained_writes
        return self.salesforce_calls * sf_latency_ms + netsuite_rounds * ns_latency_ms

    def expected_milliseconds(
        self, dependencies: Dependencies, sf_ms: float, ns_ms: float, jitter: float
    ) -> float:
        """The same chain when every NetSuite call's latency is drawn from ``ns_ms ± jitter``."""
        lookups = expected_slowest(self.lookup_calls, ns_ms, jitter) if self.lookup_calls else 0
        writes = expected_longest_chain(dependencies, self.written, ns_ms, jitter)
        return self.salesforce_calls * sf_ms + lookups + writes

    def as_dict(self) -> dict[str, Any]:
        """For the result document: counts, not the written records themselves."""
        return {
            "salesforce_calls": self.salesforce_calls,
            "lookup_calls": self.lookup_calls,
            "chained_writes": self.chained_writes,
            "written": len(self.written),
        }


def expected_slowest(calls: int, latency_ms: float, jitter: float) -> float:
    """Expected maximum of ``calls`` latencies drawn uniformly from ``latency ± jitter``.

    A round of parallel calls ends with its slowest; the maximum of n uniform draws on
    [low, high] has the mean low + (high - low) x n / (n + 1).
    """
    low, high = latency_ms * (1 - jitter), latency_ms * (1 + jitter)
    return low + (high - low) * calls / (calls + 1)


def longest_chain(dependencies: Dependencies, cost: Mapping[str, float]) -> float:
    """The costliest path through the dependencies; a record missing from ``cost`` costs 0."""
    finish: dict[str, float] = {}
    for key, needs in dependencies.items():
        start = max((finish[need] for need in needs if need in finish), default=0.0)
        finish[key] = start + cost.get(key, 0.0)
    return max(finish.values(), default=0.0)


def expected_longest_chain(
    dependencies: Dependencies, written: frozenset[str], latency_ms: float, jitter: float
) -> float:
    """Mean of ``longest_chain`` over draws of each written record's latency (seeded)."""
    if not written:
        return 0.0
    draw = random.Random(JITTER_SAMPLES).uniform
    low, high = latency_ms * (1 - jitter), latency_ms * (1 + jitter)
    total = 0.0
    for _ in range(JITTER_SAMPLES):
        total += longest_chain(dependencies, {key: draw(low, high) for key in written})
    return total / JITTER_SAMPLES


def record_key(method: str, path: str) -> str | None:
    """``"<type>/<external id>"`` of a NetSuite write by external id, else None."""
    if method.upper() not in WRITES or RECORD_PREFIX not in path:
        return None
    record_type, _, reference = path.split(RECORD_PREFIX, 1)[1].split("?")[0].partition("/")
    return (
        f"{record_type}/{reference.removeprefix('eid:')}" if reference.startswith("eid:") else None
    )


def critical_chain(dependencies: Dependencies, calls: Iterable[tuple[str, str, str]]) -> Chain:
    """The chain of a run from its plan's dependencies and its ``(system, method, path)``.

    Salesforce calls are sequential in the workflow (graph reads, then the write-back); lookups
    are one parallel round. Token requests are left out: the warm-up deal takes them, and they
    are cached for an hour.
    """
    salesforce, lookups, written = 0, 0, set()
    for system, method, path in calls:
        if AUTH in path:
            continue
        if system == "salesforce":
            salesforce += 1
        elif SUITEQL in path:
            lookups += 1
        elif key := record_key(method, path):
            written.add(key)
    chained = longest_chain(dependencies, dict.fromkeys(written, 1.0))
    return Chain(salesforce, lookups, round(chained), frozenset(written))


def plan_dependencies(plan: dict[str, Any] | None) -> Dependencies:
    """The plan's records with the records each refers to, dependencies first."""
    if not plan:
        return {}
    return {
        f"{entry['type']}/{entry['external_id']}": tuple(entry.get("depends_on", []))
        for wave in waves_of(plan)
        for entry in wave
    }


def measure(rig: Stack, deals: list[str], timeout: float) -> list[tuple[float, LedgerRun]]:
    """Close each deal alone and wait for it: ``(closing time, finished run)`` per deal."""
    measured = []
    for deal in deals:
        started = rig.close_won([deal])
        runs = rig.wait_finished([deal], timeout)
        if not runs:
            raise RuntimeError(f"deal {deal} did not finish within {timeout} s")
        measured.append((started, runs[-1]))
    return measured


def latency_split(
    closed: float, received: float, first_step: float | None, finished: float, steps_ms: float
) -> dict[str, float | None]:
    """Where one deal's time went, in ms, from instants in epoch seconds.

    ``delivery``: the PATCH's answer to the listener's ``received_at``; ``queue``: from there to
    the first step's start (the queue's poll interval and DBOS's dequeue); ``steps``: the steps'
    own durations; ``checkpoints``: the rest (DBOS's checkpoints between steps, the final
    ledger transaction, scheduling). Without a first-step time ``queue`` is ``None`` and its
    share stays in ``checkpoints``.
    """
    end_to_end = (finished - closed) * 1000
    delivery = (received - closed) * 1000
    queue = (first_step - received) * 1000 if first_step is not None else None
    rest = end_to_end - delivery - (queue or 0.0) - steps_ms
    return {
        "end_to_end_ms": round(end_to_end, 1),
        "delivery_ms": round(delivery, 1),
        "queue_ms": round(queue, 1) if queue is not None else None,
        "steps_ms": round(steps_ms, 1),
        "checkpoints_ms": round(rest, 1),
    }


def deal_sample(
    rig: Stack, started: float, run: LedgerRun, options: StackOptions
) -> dict[str, Any]:
    """One deal's end-to-end latency, its split, and its critical path."""
    assert run.finished_at is not None
    calls = [(c.system, c.method, c.path) for c in rig.calls([run.id])]
    dependencies = plan_dependencies(run.plan)
    chain = critical_chain(dependencies, calls)
    split = latency_split(
        started,
        run.received_at.timestamp(),
        rig.first_step_started(run.workflow_id),
        run.finished_at.timestamp(),
        sum(float(step.get("ms") or 0) for step in run.step_timings),
    )
    sf_ms, ns_ms = options.salesforce_latency_ms, options.netsuite_latency_ms
    critical = chain.milliseconds(sf_ms, ns_ms)
    end_to_end = float(split["end_to_end_ms"] or 0)
    return {
        "opportunity_id": run.opportunity_id,
        "status": run.status,
        **split,
        "step_ms": {str(s.get("step")): float(s.get("ms") or 0) for s in run.step_timings},
        "critical_path_ms": round(critical, 1),
        "critical_path_jitter_ms": round(
            chain.expected_milliseconds(dependencies, sf_ms, ns_ms, options.jitter), 1
        ),
        "chain": chain.as_dict(),
        "ratio": round(end_to_end / critical, 3) if critical else None,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the rig, warm up, measure ``--deals`` deals one at a time."""
    options = replace(stack_options(args), deals_needed=args.deals + args.warmup)
    timeout = args.timeout or 300.0
    with running_stack(options, args.workdir) as rig:
        candidates = rig.won_candidates
        measure(rig, candidates[: args.warmup], timeout)
        measured = measure(rig, candidates[args.warmup : args.warmup + args.deals], timeout)
        deals = [deal_sample(rig, started, r, options) for started, r in measured]
        params = {**parameters(args, options, rig), "warmup_deals": args.warmup}
    params["trigger"] = "Outbound Message after one PATCH StageName=Closed Won per deal"
    return result_of(deals, params)


def result_of(deals: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The document: percentiles of latency and critical path, and their ratio."""
    ratios = [d["ratio"] for d in deals if d["ratio"]]
    e2e = [d["end_to_end_ms"] for d in deals]
    critical = [d["critical_path_ms"] for d in deals]
    jitter_ratios = [d["end_to_end_ms"] / d["critical_path_jitter_ms"] for d in deals]
    return document(
        NAME,
        ratio=statistics.median(ratios),
        meaning="median over deals of end-to-end latency (deal closed to run finished) divided by "
        "the deal's critical path (dependent calls x latency); <= 1.1 meets the target",
        parameters=params,
        p50_ms=round(percentile(e2e, 50), 1),
        p95_ms=round(percentile(e2e, 95), 1),
        critical_path_p50_ms=round(percentile(critical, 50), 1),
        critical_path_p95_ms=round(percentile(critical, 95), 1),
        ratio_to_jitter_aware_path=round(statistics.median(jitter_ratios), 3),
        ratio_p95=round(percentile(ratios, 95), 3),
        samples={
            "end_to_end_ms": summary(e2e, 1),
            "critical_path_ms": summary(critical, 1),
            "critical_path_jitter_ms": summary([d["critical_path_jitter_ms"] for d in deals], 1),
            "delivery_ms": summary([d["delivery_ms"] for d in deals], 1),
            "queue_ms": summary([d["queue_ms"] for d in deals if d["queue_ms"] is not None], 1),
            "steps_ms": summary([d["steps_ms"] for d in deals], 1),
            "checkpoints_ms": summary([d["checkpoints_ms"] for d in deals], 1),
            "step_ms": step_summaries(deals),
            "ratio": summary(ratios),
            "deals": deals,
        },
    )


def step_summaries(deals: list[dict[str, Any]]) -> dict[str, Any]:
    """Each workflow step's duration across deals (where the time goes inside the engine)."""
    names = dict.fromkeys(name for d in deals for name in d["step_ms"])
    return {
        name: summary([d["step_ms"][name] for d in deals if name in d["step_ms"]], 1)
        for name in names
    }


def draw(result: dict[str, Any]) -> Any:
    """Per deal: latency split into delivery, steps and the rest; the critical path marked."""

    def chart(figure: Any) -> None:
        deals = result["samples"]["deals"]
        x = range(1, len(deals) + 1)
        axes = figure.add_subplot()
        bottom = [0.0] * len(deals)
        parts = (
            ("delivery_ms", "Outbound Message delivery"),
            ("queue_ms", "queue (poll, dequeue)"),
            ("steps_ms", "workflow steps"),
            ("checkpoints_ms", "checkpoints, scheduling"),
        )
        for key, label in parts:
            heights = [max(0.0, d[key] or 0.0) / 1000 for d in deals]
            axes.bar(x, heights, bottom=bottom, label=label, width=0.8)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        critical = [d["critical_path_ms"] / 1000 for d in deals]
        axes.plot(x, critical, "k_", markersize=14, markeredgewidth=2, label="critical path")
        axes.set_xlabel("deal (closed one at a time)")
        axes.set_ylabel("seconds, deal closed to run finished")
        axes.legend(fontsize=8)
        axes.set_title(
            f"p50 {result['p50_ms'] / 1000:.2f} s, p95 {result['p95_ms'] / 1000:.2f} s; critical "
            f"path p50 {result['critical_path_p50_ms'] / 1000:.2f} s; ratio {result['ratio']}",
            fontsize=9,
        )

    return chart


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write ``latency.json`` and ``latency.png``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stack_arguments(parser, deals=30, latency=200.0)
    parser.add_argument("--warmup", type=int, default=1, help="deals synced before measuring")
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    result = run(args)
    publish(result, draw(result), args.output_dir)
    return result


if __name__ == "__main__":
    main()
