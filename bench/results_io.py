"""What every benchmark writes: one JSON document and one PNG chart under ``bench/results``.

The document's shape is shared so runs can be compared side by side (issue 8): ``benchmark``,
``ratio`` (the figure of merit) with ``ratio_meaning`` (what it divides by what), ``machine``,
``parameters``, ``samples`` (summaries of the raw samples), and whatever the benchmark adds.
Ratios, not absolute times, are the figures of merit: the same code on a faster machine should
give about the same ratio.

matplotlib is imported inside ``write_chart`` only, with the non-interactive Agg backend, so the
pure parts (statistics, the document) import without the ``bench`` extra installed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
SCRATCH_DIR = Path(tempfile.gettempdir()) / "dealbridge-bench"


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as numpy's default and the ledger's dashboard
    (``dealbridge.db.runs``), so the figures agree with what the console shows.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100.0
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summary(values: Sequence[float], digits: int = 3) -> dict[str, float | int]:
    """Count, mean, spread and percentiles of the raw samples, rounded for the document."""
    if not values:
        return {"n": 0}
    result: dict[str, float | int] = {
        "n": len(values),
        "mean": statistics.fmean(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "max": max(values),
    }
    return {k: v if isinstance(v, int) else round(v, digits) for k, v in result.items()}


def per_second(samples: Sequence[tuple[float, float]]) -> list[list[float]]:
    """Samples ``(seconds, value)`` folded into whole seconds: ``[second, mean, max]``.

    Keeps the document small (a 20 Hz series of a ten-minute run is 12,000 points) while the
    chart, drawn from the full series, keeps every sample.
    """
    buckets: dict[int, list[float]] = {}
    for at, value in samples:
        buckets.setdefault(int(at), []).append(value)
    return [
        [second, round(statistics.fmean(v), 2), max(v)] for second, v in sorted(buckets.items())
    ]


def machine_info(database: str = "sqlite") -> dict[str, Any]:
    """Where the figures were measured: cores, Python, database, and the load at the time.

    The load average matters on a shared machine: the service competes for the same cores as
    the emulators and anything else running, and a ratio measured under load is a lower bound.
    """
    return {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "database": database,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def document(
    name: str,
    *,
    ratio: float,
    meaning: str,
    parameters: dict[str, Any],
    samples: dict[str, Any],
    **figures: Any,
) -> dict[str, Any]:
    """The result document, with the shared keys first."""
    return {
        "benchmark": name,
        "ratio": round(ratio, 3),
        "ratio_meaning": meaning,
        "machine": machine_info(),
        "parameters": parameters,
        **figures,
        "samples": samples,
    }


def write_json(result: dict[str, Any], output_dir: Path) -> Path:
    """``<output_dir>/<benchmark>.json``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{result['benchmark']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


Draw = Callable[[Any], None]  # receives a matplotlib Figure


def write_chart(name: str, draw: Draw, output_dir: Path) -> Path:
    """``<output_dir>/<name>.png``, drawn by ``draw(figure)``; small enough to commit."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    output_dir.mkdir(parents=True, exist_ok=True)
    figure = pyplot.figure(figsize=(8, 4.5), dpi=100)
    try:
        draw(figure)
        figure.tight_layout()
        path = output_dir / f"{name}.png"
        figure.savefig(path)
    finally:
        pyplot.close(figure)
    return path


def add_output_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """``--output-dir`` (results) and ``--workdir`` (the processes' state and logs)."""
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--workdir", type=Path, default=SCRATCH_DIR / name)


def publish(result: dict[str, Any], draw: Draw, output_dir: Path) -> None:
    """Write the JSON and the chart, and print where they are with the ratio."""
    json_path = write_json(result, output_dir)
    chart_path = write_chart(result["benchmark"], draw, output_dir)
    print(f"{result['benchmark']}: ratio {result['ratio']} ({result['ratio_meaning']})")
    print(f"  {json_path}\n  {chart_path}")
