"""Engine overhead of this tree against an earlier commit, back to back on the same machine.

Why: CPU per deal is the one figure of issue 8 measured in absolute terms, and the machines this
project is benchmarked on vary by ±10 % from run to run and by half from day to day. A change to
the engine is only measurable against a baseline run beside it, in pairs, taking turns — which is
how every overhead change since the DBOS floor has been judged, by hand. This does it.

Method: the baseline commit is checked out in a temporary ``git worktree``; ``bench.overhead``
runs ``--pairs`` times for each tree, alternating (baseline, then this tree), the service and its
code from that tree (``PYTHONPATH``), the rig — harness, emulators, the floor — from this one,
so only the engine differs. Each run's figure is the service's CPU per deal divided by the two
emulators' CPU per deal in the same run: the emulators do the same work whatever the engine, so
their CPU is a yardstick of how fast the machine was during that run. ``ratio`` is the mean over
pairs of (this tree ÷ baseline) of that figure: < 1 means this tree costs less CPU per deal.

Run: ``.venv/bin/python -m bench.compare --baseline <commit>`` (``--pairs 3 --deals 600`` by
default: about six minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.results_io import ROOT, add_output_arguments, document, publish, summary

NAME = "compare"
GIT = shutil.which("git") or "git"


@dataclass(frozen=True)
class Run:
    """One ``bench.overhead`` run: the service's and the emulators' CPU per deal."""

    tree: str
    service_ms: float
    emulator_ms: float

    @property
    def normalized(self) -> float:
        """Service CPU per deal in units of the emulators' CPU per deal of the same run."""
        return self.service_ms / self.emulator_ms


def run_of(tree: str, result: dict[str, Any]) -> Run:
    """The figures of one ``overhead.json``.

    Raises:
        ValueError: The run did not finish every deal, or the emulators used no CPU.
    """
    if result.get("errors_surfaced"):
        raise ValueError(f"{tree}: {result['errors_surfaced']} errors surfaced in the run")
    emulators = round(float(sum(result["emulator_cpu_ms_per_deal"].values())), 3)
    if emulators <= 0:
        raise ValueError(f"{tree}: the emulators used no CPU, nothing to measure against")
    return Run(tree, float(result["cpu_ms_per_deal"]), emulators)


def pair_ratios(baseline: Sequence[Run], current: Sequence[Run]) -> list[float]:
    """This tree ÷ baseline, pair by pair, of the normalized figure."""
    if len(baseline) != len(current) or not baseline:
        raise ValueError("need as many baseline runs as current ones, at least one")
    return [now.normalized / then.normalized for then, now in zip(baseline, current, strict=True)]


def measure(tree_src: Path, deals: int, output_dir: Path) -> dict[str, Any]:
    """One ``bench.overhead`` run with the engine from ``tree_src``; its result document."""
    env = {**os.environ, "PYTHONPATH": str(tree_src)}
    command = [
        sys.executable, "-m", "bench.overhead",
        "--deals", str(deals), "--output-dir", str(output_dir),
    ]  # fmt: skip
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our own interpreter and module
    result: dict[str, Any] = json.loads((output_dir / "overhead.json").read_text("utf-8"))
    return result


def checkout(commit: str, into: Path) -> str:
    """A detached worktree of ``commit`` at ``into``; returns the commit's full id."""
    git = [GIT, "-C", str(ROOT)]
    full = subprocess.run(  # noqa: S603 - git with our own arguments
        [*git, "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(  # noqa: S603
        [*git, "worktree", "add", "--detach", "--force", str(into), full],
        check=True, capture_output=True,
    )  # fmt: skip
    return full


def remove(worktree: Path) -> None:
    """Drop the worktree (and git's record of it)."""
    subprocess.run(  # noqa: S603
        [GIT, "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
        check=False, capture_output=True,
    )  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The pairs, taking turns; the result document."""
    baseline: list[Run] = []
    current: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="dealbridge-compare-") as scratch:
        worktree = Path(scratch) / "baseline"
        commit = checkout(args.baseline, worktree)
        try:
            for number in range(1, args.pairs + 1):
                for tree, src, runs in (
                    ("baseline", worktree / "src", baseline),
                    ("current", ROOT / "src", current),
                ):
                    out = Path(scratch) / f"{tree}-{number}"
                    runs.append(run_of(tree, measure(src, args.deals, out)))
                    print(f"pair {number} {tree}: {runs[-1]}", flush=True)
        finally:
            remove(worktree)
    ratios = pair_ratios(baseline, current)
    return document(
        NAME,
        ratio=statistics.fmean(ratios),
        meaning=(
            "mean over pairs of (this tree / baseline) of the service's CPU per deal divided by"
            " the emulators' CPU per deal in the same run; < 1: this tree costs less"
        ),
        parameters={"baseline": commit, "pairs": args.pairs, "deals": args.deals},
        samples={
            "pair_ratios": summary(ratios),
            "baseline_cpu_ms_per_deal": summary([r.service_ms for r in baseline]),
            "current_cpu_ms_per_deal": summary([r.service_ms for r in current]),
        },
        pair_ratios=[round(value, 4) for value in ratios],
        runs=[vars(r) for r in (*baseline, *current)],
    )


def draw(result: dict[str, Any]) -> Any:
    """Normalized CPU per deal, run by run, for both trees."""

    def paint(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        for tree, marker in (("baseline", "o"), ("current", "s")):
            values = [
                r["service_ms"] / r["emulator_ms"] for r in result["runs"] if r["tree"] == tree
            ]
            axes.plot(range(1, len(values) + 1), values, marker=marker, label=tree)
        axes.set_xticks(range(1, result["parameters"]["pairs"] + 1))
        axes.set_xlabel("pair")
        axes.set_ylabel("service CPU ÷ emulators' CPU, per deal")
        axes.set_title(f"Engine CPU against {result['parameters']['baseline'][:10]}")
        axes.legend()

    return paint


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--baseline", required=True, help="commit to compare against")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--deals", type=int, default=600)
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.deals < 1:
        parser.error("--pairs and --deals must be at least 1")
    result = run(args)
    publish(result, draw(result), args.output_dir)
    return result


if __name__ == "__main__":
    main()
