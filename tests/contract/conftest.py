"""Fixtures that start the emulators as real processes on free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import dealbridge_process

NetSuiteFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def start_netsuite_emulator(tmp_path: Path) -> Iterator[NetSuiteFactory]:
    """Start ``dealbridge emulate netsuite`` with the given options; returns its first line."""
    with ExitStack() as stack:

        def start(**options: Any) -> dict[str, Any]:
            args = [
                "emulate",
                "netsuite",
                "--port",
                "0",
                "--state-dir",
                str(tmp_path / f"ns-{len(stack._exit_callbacks)}"),
            ]
            for name, value in options.items():
                args += [f"--{name.replace('_', '-')}", str(value)]
            started = stack.enter_context(dealbridge_process(args))
            return started.info

        yield start


@pytest.fixture
def netsuite_emulator(start_netsuite_emulator: NetSuiteFactory) -> dict[str, Any]:
    """A NetSuite emulator with default options (concurrency limit 15, no latency)."""
    return start_netsuite_emulator()


SalesforceFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def start_salesforce_emulator(tmp_path: Path) -> Iterator[SalesforceFactory]:
    """Start ``dealbridge emulate salesforce`` with the given options; returns its first line.

    ``tls=True`` becomes ``--tls``; ``state_dir`` reuses a directory (a restart).
    """
    with ExitStack() as stack:
        started_dirs: list[Path] = []

        def start(**options: Any) -> dict[str, Any]:
            default_dir = tmp_path / f"sf-{len(started_dirs)}"
            started_dirs.append(default_dir)
            args = ["emulate", "salesforce", "--port", "0"]
            args += ["--state-dir", str(options.pop("state_dir", default_dir))]
            for name, value in options.items():
                flag = name.replace("_", "-")
                if isinstance(value, bool):
                    args.append(f"--{flag}" if value else f"--no-{flag}")
                else:
                    args += [f"--{flag}", str(value)]
            started = stack.enter_context(dealbridge_process(args))
            return started.info

        yield start


@pytest.fixture
def salesforce_emulator(start_salesforce_emulator: SalesforceFactory) -> dict[str, Any]:
    """A Salesforce emulator over plain HTTP with a small generated org (10 deals)."""
    return start_salesforce_emulator(deals=10)
