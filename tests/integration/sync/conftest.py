"""The runtime against both emulators (real processes), on a temporary SQLite data directory.

The emulators start once per session and are reset before each test; every test gets a fresh
data directory and its own launched runtime (``DBOS.destroy()`` around it, contracts/dbos.md §6).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS

from dealbridge.sync import Runtime
from tests.integration.sync.harness import Emulators, running_emulators, settings_for


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("emulators")) as started:
        yield started


@pytest.fixture
def org(emulators: Emulators) -> Emulators:
    """Both emulators reset: NetSuite's reference data, a freshly seeded Salesforce org."""
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
