"""The engine comparison: figures normalized by the emulators, taken pair by pair."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bench.compare import GIT, Run, checkout, pair_ratios, remove, run_of
from bench.results_io import ROOT


def _result(
    service: float, salesforce: float, netsuite: float, errors: int = 0
) -> dict[str, object]:
    return {
        "cpu_ms_per_deal": service,
        "emulator_cpu_ms_per_deal": {"salesforce": salesforce, "netsuite": netsuite},
        "errors_surfaced": errors,
    }


def test_a_run_is_measured_in_units_of_the_emulators_cpu() -> None:
    run = run_of("current", _result(40.0, 7.5, 8.5))
    assert run == Run("current", 40.0, 16.0)
    assert run.normalized == pytest.approx(2.5)


def test_a_slower_machine_in_one_run_does_not_read_as_a_slower_engine() -> None:
    """Both trees' figures doubled by a slow spell of the machine: the ratio stays 1."""
    baseline = [run_of("baseline", _result(40.0, 8.0, 8.0))]
    current = [run_of("current", _result(80.0, 16.0, 16.0))]
    assert pair_ratios(baseline, current) == [pytest.approx(1.0)]


def test_pairs_are_compared_in_order() -> None:
    baseline = [Run("baseline", 50.0, 20.0), Run("baseline", 40.0, 16.0)]
    current = [Run("current", 45.0, 20.0), Run("current", 44.0, 16.0)]
    assert pair_ratios(baseline, current) == [pytest.approx(0.9), pytest.approx(1.1)]


def test_uneven_or_empty_pairs_are_refused() -> None:
    with pytest.raises(ValueError, match="as many"):
        pair_ratios([Run("baseline", 1.0, 1.0)], [])
    with pytest.raises(ValueError, match="as many"):
        pair_ratios([], [])


def test_a_run_with_errors_or_without_a_yardstick_is_refused() -> None:
    with pytest.raises(ValueError, match="2 errors surfaced"):
        run_of("current", _result(40.0, 8.0, 8.0, errors=2))
    with pytest.raises(ValueError, match="no CPU"):
        run_of("baseline", _result(40.0, 0.0, 0.0))


def test_the_baseline_is_checked_out_beside_this_tree_and_removed(tmp_path: Path) -> None:
    worktree = tmp_path / "baseline"
    head = subprocess.run(  # noqa: S603 - git with our own arguments
        [GIT, "-C", str(ROOT), "rev-parse", "HEAD"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert checkout("HEAD", worktree) == head
    try:
        assert (worktree / "src" / "dealbridge" / "__init__.py").is_file()
    finally:
        remove(worktree)
    assert not worktree.exists()


def test_an_unknown_baseline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError):
        checkout("no-such-commit-anywhere", tmp_path / "baseline")
    assert not (tmp_path / "baseline").exists()
