"""A migrated SQLite ledger per test, for the engine's ledger-facing parts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dealbridge.db.migrate import upgrade
from dealbridge.sync.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    opened = Ledger(url)
    yield opened
    opened.dispose()
