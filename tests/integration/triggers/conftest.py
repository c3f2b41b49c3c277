"""Triggers against both emulators (real processes) and a launched runtime on SQLite.

The emulators start once per module and are reset before each test; each test gets a fresh data
directory and runtime. The poller's schedule is not applied: tests call the poll workflow
themselves, at the times they choose.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS

import dealbridge.sync.poller  # noqa: F401 - registers the poll workflow before launch
from dealbridge.sync import Runtime
from tests.integration.sync.harness import Emulators, running_emulators, settings_for


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("emulators")) as started:
        yield started


@pytest.fixture
def org(emulators: Emulators) -> Emulators:
    emulators.reset()
    return emulators


@pytest.fixture
def runtime(org: Emulators, tmp_path: Path) -> Iterator[Runtime]:
    DBOS.destroy()
    started = Runtime(settings_for(org, tmp_path / "data"))
    started.launch()
    try:
        yield started
    finally:
        started.shutdown(0)
