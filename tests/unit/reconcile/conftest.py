"""A migrated SQLite ledger per test (migrated once per session, copied for each test)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dealbridge.db.migrate import upgrade
from dealbridge.sync.ledger import Ledger


@pytest.fixture(scope="session")
def ledger_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reconcile-ledger") / "ledger.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def ledger(tmp_path: Path, ledger_template: Path) -> Iterator[Ledger]:
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(ledger_template, path)
    opened = Ledger(f"sqlite:///{path}")
    yield opened
    opened.dispose()
