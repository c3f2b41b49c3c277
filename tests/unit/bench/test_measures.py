"""The benchmarks' pure measuring parts: statistics, time series, /proc parsing, CLI wiring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.__main__ import output_arguments
from bench.harness import cpu_seconds, memory_kib, parse_proc_stat_ticks, parse_proc_status_kib
from bench.overhead import cpu_ms_per_deal
from bench.results_io import per_second, percentile, summary

# proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
# utime stime …; the command name may hold spaces and parentheses.
STAT = "4242 (python (x) y) S 1 4242 4242 0 -1 4194560 1200 0 3 0 731 152 0 0 20 0 5 0 99"
STATUS = "Name:\tpython\nVmPeak:\t  300000 kB\nVmHWM:\t  151234 kB\nVmRSS:\t  120000 kB\n"


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_summary_rounds_and_counts() -> None:
    result = summary([1.0, 2.0, 3.0, 10.0], digits=1)
    assert result["n"] == 4
    assert result["mean"] == 4.0
    assert result["p50"] == 2.5
    assert result["min"] == 1.0
    assert result["max"] == 10.0
    assert summary([]) == {"n": 0}


def test_per_second_folds_samples_into_mean_and_max() -> None:
    samples = [(0.0, 2.0), (0.5, 4.0), (1.2, 1.0), (3.9, 7.0)]
    assert per_second(samples) == [[0, 3.0, 4.0], [1, 1.0, 1.0], [3, 7.0, 7.0]]


def test_stat_ticks_are_user_plus_system_after_the_command_name() -> None:
    assert parse_proc_stat_ticks(STAT) == 731 + 152


def test_status_lines_in_kib() -> None:
    assert parse_proc_status_kib(STATUS, "VmHWM") == 151234
    assert parse_proc_status_kib(STATUS, "VmRSS") == 120000
    with pytest.raises(KeyError):
        parse_proc_status_kib(STATUS, "VmSwap")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_this_process_can_be_read_from_proc() -> None:
    assert cpu_seconds(os.getpid()) >= 0
    # two reads: the resident set may grow between them, so no ordering is asserted
    assert memory_kib(os.getpid(), "VmRSS") > 0
    assert memory_kib(os.getpid(), "VmHWM") > 0


def test_cpu_ms_per_deal() -> None:
    assert cpu_ms_per_deal(1.5, 100) == pytest.approx(15.0)


def test_mapping_names_its_output_file(tmp_path: Path) -> None:
    assert output_arguments("mapping", tmp_path) == ["--output", str(tmp_path / "mapping.json")]
    assert output_arguments("latency", tmp_path) == ["--output-dir", str(tmp_path)]
