"""A migrated SQLite ledger per test (migrated once, copied), and local alert receivers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.migrate import upgrade
from dealbridge.db.session import make_engine, make_session_factory


@pytest.fixture(scope="session")
def alerts_ledger_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts-ledger") / "ledger.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def ledger(tmp_path: Path, alerts_ledger_template: Path) -> Iterator[sessionmaker[Session]]:
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(alerts_ledger_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def fresh_structlog() -> None:
    """Start from structlog's defaults (another test may have left it on a closed stream)."""
    structlog.reset_defaults()
