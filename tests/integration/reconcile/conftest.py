"""A synced org for reconciliation: both emulators, a runtime, and every won deal synced.

The emulators start once for the package (each test resets them); every test gets a fresh data
directory and its own launched runtime.

The won deals are synced by the real engine (``sync_deal`` workflows in this process, against
both emulators as real processes), so what reconciliation compares is what a sync really wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS

from dealbridge.sync import Runtime
from tests.integration.reconcile.support import SyncedOrg, sync_all
from tests.integration.sync.harness import Emulators, running_emulators, settings_for

# A 40-deal org has 4 won deals (10 %), in several currencies, some sharing records.
DEALS = 40


@pytest.fixture(scope="package")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("emulators")) as started:
        yield started


@pytest.fixture
def synced(emulators: Emulators, tmp_path: Path) -> Iterator[SyncedOrg]:
    emulators.reset(deals=DEALS)
    DBOS.destroy()
    runtime = Runtime(settings_for(emulators, tmp_path / "data"))
    runtime.launch()
    synced = SyncedOrg(emulators, runtime, [])
    try:
        synced.deals = sync_all(runtime)
        yield synced
    finally:
        synced.runtime.shutdown(0)  # a test may have relaunched it with other settings
