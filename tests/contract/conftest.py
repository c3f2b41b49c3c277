"""Fixtures that start the emulators as real processes on free ports.

Each emulator kind has a per-test factory (``start_netsuite_emulator``) and a module-scoped
sibling (``start_netsuite_emulator_module``). Starting an emulator costs seconds of CPU (imports,
key generation), so a module whose tests all use default options should share one emulator and
``POST /__emulator__/reset`` it before each test; options that only take effect at start-up
(``--concurrency-limit``, ``--latency-ms``, a seed file) and restarts keep the per-test factory.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import dealbridge_process

Info = dict[str, Any]
NetSuiteFactory = Callable[..., Info]
SalesforceFactory = Callable[..., Info]


def _flags(options: dict[str, Any]) -> list[str]:
    """``latency_ms=5`` becomes ``--latency-ms 5``; ``tls=True`` becomes ``--tls``."""
    args: list[str] = []
    for name, value in options.items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):
            args.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            args += [f"--{flag}", str(value)]
    return args


@contextmanager
def _emulator_factory(system: str, root: Path, prefix: str) -> Iterator[Callable[..., Info]]:
    """Start ``dealbridge emulate SYSTEM`` on demand; every one started stops on exit.

    Each start gets its own state directory ``root/PREFIX-N`` unless ``state_dir`` is given
    (reusing a directory is a restart).
    """
    with ExitStack() as stack:
        started = 0

        def start(**options: Any) -> Info:
            nonlocal started
            default_dir = root / f"{prefix}-{started}"
            started += 1
            state_dir = options.pop("state_dir", default_dir)
            args = ["emulate", system, "--port", "0", "--state-dir", str(state_dir)]
            process = stack.enter_context(dealbridge_process(args + _flags(options)))
            return process.info

        yield start


def reset_emulator(info: Info) -> None:
    """``POST /__emulator__/reset`` on the running emulator (either kind) of ``info``."""
    ca_cert = info.get("ca_cert")
    verify = ssl.create_default_context(cafile=ca_cert) if ca_cert else True
    answer = httpx.post(info["control_url"] + "/reset", timeout=30, verify=verify)
    assert answer.json() == {"status": "reset"}, answer.text


@pytest.fixture
def start_netsuite_emulator(tmp_path: Path) -> Iterator[NetSuiteFactory]:
    """Start ``dealbridge emulate netsuite`` with the given options; returns its first line."""
    with _emulator_factory("netsuite", tmp_path, "ns") as start:
        yield start


@pytest.fixture(scope="module")
def start_netsuite_emulator_module(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NetSuiteFactory]:
    """``start_netsuite_emulator`` whose emulators live until the module's last test ends."""
    with _emulator_factory("netsuite", tmp_path_factory.mktemp("ns-module"), "ns") as start:
        yield start


@pytest.fixture
def netsuite_emulator(start_netsuite_emulator: NetSuiteFactory) -> Info:
    """A NetSuite emulator with default options (concurrency limit 15, no latency)."""
    return start_netsuite_emulator()


@pytest.fixture(scope="module")
def netsuite_emulator_module(start_netsuite_emulator_module: NetSuiteFactory) -> Info:
    """One default NetSuite emulator for the whole module.

    Tests sharing it must start from ``POST /__emulator__/reset`` (records, faults, statistics
    and login failures back to start-up; credentials, issued tokens and used nonces stay).
    """
    return start_netsuite_emulator_module()


@pytest.fixture
def start_salesforce_emulator(tmp_path: Path) -> Iterator[SalesforceFactory]:
    """Start ``dealbridge emulate salesforce`` with the given options; returns its first line.

    ``tls=True`` becomes ``--tls``; ``state_dir`` reuses a directory (a restart).
    """
    with _emulator_factory("salesforce", tmp_path, "sf") as start:
        yield start


@pytest.fixture(scope="module")
def start_salesforce_emulator_module(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SalesforceFactory]:
    """``start_salesforce_emulator`` whose emulators live until the module's last test ends.

    Note its ``POST /__emulator__/reset`` leaves an empty org (not the ``--deals`` one), so tests
    sharing an emulator seed what they need after each reset.
    """
    with _emulator_factory("salesforce", tmp_path_factory.mktemp("sf-module"), "sf") as start:
        yield start


@pytest.fixture
def salesforce_emulator(start_salesforce_emulator: SalesforceFactory) -> Info:
    """A Salesforce emulator over plain HTTP with a small generated org (10 deals)."""
    return start_salesforce_emulator(deals=10)
