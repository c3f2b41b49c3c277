"""Scaling: burst throughput as NetSuite's concurrency limit goes 5 → 15 → 45.

NetSuite's limit grows with the account's tier (contracts/netsuite.md §6); a design that lives at
the physical ceiling should turn three times the limit into three times the deals per second,
until the machine — not the design — runs out. Each limit gets a fresh rig (``harness``) whose
emulator enforces the limit and whose service is configured with it, and the same burst as
``throughput`` (``--deals`` closed at once, NetSuite ``--latency-ms`` ± 20 %).

``ratio`` = scaling efficiency = (deals/s at the highest limit ÷ deals/s at the lowest) ÷
(highest limit ÷ lowest limit); 1.0 is linear. Each limit's deals/s against its own ideal
``limit / (calls per deal x latency)`` is reported too, with the share of the limit kept busy.

Run: ``.venv/bin/python -m bench.scaling`` (``--deals 60`` for a quick run).
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.harness import running_stack
from bench.results_io import add_output_arguments, document, publish
from bench.throughput import (
    add_stack_arguments,
    default_timeout,
    figures,
    parameters,
    run_burst,
    stack_options,
)

NAME = "scaling"
LIMITS = (5, 15, 45)


def efficiency(points: list[tuple[int, float]]) -> float:
    """(rate at the highest limit ÷ rate at the lowest) ÷ (highest ÷ lowest limit); 1 = linear."""
    (low_limit, low_rate), (high_limit, high_rate) = min(points), max(points)
    if low_rate <= 0 or high_limit == low_limit:
        return float("nan")
    return (high_rate / low_rate) / (high_limit / low_limit)


def measure_limit(args: argparse.Namespace, limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One fresh rig at ``limit``: the burst's figures and the parameters used."""
    options = stack_options(args, limit=limit)
    timeout = args.timeout or default_timeout(args.deals, limit, args.latency_ms)
    workdir = args.workdir / f"limit-{limit}"
    with running_stack(options, workdir) as rig:
        burst = run_burst(rig, rig.won_candidates[: args.deals], timeout)
        params = parameters(args, options, rig)
    found = figures(burst, limit, args.latency_ms)
    found["ratio_to_ideal"] = round(found["deals_per_second"] / found["ideal_deals_per_second"], 3)
    return found, params


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every limit in turn; the efficiency of the extremes.

    A limit whose rig fails (a process that would not start) is recorded under ``failed`` and
    the others still count: each limit takes minutes, and one failure should not waste them.
    """
    by_limit: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    params: dict[str, Any] = {"deals": args.deals}
    deals_in_flight: dict[str, Any] = {}
    for limit in args.limits:
        try:
            found, params = measure_limit(args, limit)
        except RuntimeError as error:
            failed[str(limit)] = str(error)
            continue
        by_limit[str(limit)] = found
        deals_in_flight[str(limit)] = params.pop("service_deals_in_flight")
        params.pop("service_netsuite_budget", None)
    if len(by_limit) < 2:
        raise RuntimeError(f"fewer than two limits measured: {failed}")
    points = [(int(k), v["deals_per_second"]) for k, v in by_limit.items()]
    params.update(concurrency_limit=list(args.limits), service_deals_in_flight=deals_in_flight)
    return document(
        NAME,
        ratio=efficiency(points),
        meaning="(deals/s at the highest limit / deals/s at the lowest) divided by (highest "
        "limit / lowest limit); 1.0 is linear scaling",
        parameters=params,
        deals_per_second={k: v["deals_per_second"] for k, v in by_limit.items()},
        ideal_deals_per_second={k: v["ideal_deals_per_second"] for k, v in by_limit.items()},
        ratio_to_ideal={k: v["ratio_to_ideal"] for k, v in by_limit.items()},
        failed=failed,
        samples=by_limit,
    )


def draw(result: dict[str, Any]) -> Any:
    """Deals/s against the limit: measured, ideal, and linear from the lowest limit."""

    def chart(figure: Any) -> None:
        limits = [int(k) for k in result["deals_per_second"]]
        measured = list(result["deals_per_second"].values())
        ideal = list(result["ideal_deals_per_second"].values())
        linear = [measured[0] * limit / limits[0] for limit in limits]
        axes = figure.add_subplot()
        axes.plot(limits, measured, "o-", label="measured")
        axes.plot(limits, ideal, "s--", label="ideal: limit / (calls per deal x latency)")
        axes.plot(limits, linear, ":", color="grey", label="linear from the lowest limit")
        axes.set_xticks(limits)
        axes.set_xlabel("NetSuite concurrency limit")
        axes.set_ylabel("deals per second")
        axes.legend(fontsize=8)
        axes.set_title(
            f"{result['parameters']['deals']} deals per limit: scaling efficiency "
            f"{result['ratio']}",
            fontsize=9,
        )

    return chart


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write ``scaling.json`` and ``scaling.png``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stack_arguments(parser, deals=300, latency=200.0)
    parser.add_argument(
        "--limits", type=int, nargs="+", default=list(LIMITS), help="concurrency limits to run"
    )
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    result = run(args)
    publish(result, draw(result), args.output_dir)
    return result


if __name__ == "__main__":
    main()
