"""``python -m bench`` (``make bench``): every benchmark in turn, then their ratios side by side.

Sizes follow issue 8 by default (a 1,000-deal burst, …) and take tens of minutes on a small
machine; ``--quick`` runs each at a reduced size to check that the rig works and to see the
shape of the figures. Every benchmark starts its own processes and cleans up after itself, one at
a time, so they do not compete for the machine. A benchmark that fails is reported and the others
still run; the exit status is 1 if any failed.

Examples: ``python -m bench --quick``, ``python -m bench --only latency economy``,
``make bench BENCH_ARGS=--quick``.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import economy, latency, mapping, overhead, scaleout, scaling, throughput
from bench.results_io import RESULTS_DIR

Main = Callable[[list[str]], Any]
BENCHES: dict[str, tuple[Main, list[str]]] = {
    # name: (entry point, arguments of the quick run)
    "mapping": (mapping.main, ["--samples", "5", "--iterations", "20"]),
    "latency": (latency.main, ["--deals", "10"]),
    "economy": (economy.main, ["--deals", "30", "--resync", "5"]),
    "overhead": (overhead.main, ["--deals", "100"]),
    "throughput": (throughput.main, ["--deals", "100"]),
    "scaling": (scaling.main, ["--deals", "60"]),
    "scaleout": (scaleout.main, ["--deals", "30", "--accounts", "15", "--workers", "1", "2"]),
}


def output_arguments(name: str, output_dir: Path) -> list[str]:
    """Where a benchmark writes; ``mapping`` (older) names its file rather than a directory."""
    if name == "mapping":
        return ["--output", str(output_dir / "mapping.json")]
    return ["--output-dir", str(output_dir)]


def run_one(name: str, quick: bool, output_dir: Path) -> float | None:
    """Run one benchmark; its ratio, or None when it failed (the traceback is printed)."""
    entry, quick_args = BENCHES[name]
    argv = [*(quick_args if quick else []), *output_arguments(name, output_dir)]
    print(f"== {name} {' '.join(argv)}", flush=True)
    try:
        entry(argv)
        result = json.loads((output_dir / f"{name}.json").read_text(encoding="utf-8"))
    except Exception:
        traceback.print_exc()
        return None
    return float(result["ratio"])


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; print each ratio; 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES))
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    ratios = {name: run_one(name, args.quick, args.output_dir) for name in args.only}
    print("\nbenchmark    ratio")
    for name, ratio in ratios.items():
        print(f"{name:<12} {'FAILED' if ratio is None else ratio}")
    return 1 if None in ratios.values() else 0


if __name__ == "__main__":
    sys.exit(main())
