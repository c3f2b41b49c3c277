"""A web app on a migrated SQLite ledger with three users, example routes and a fake clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.migrate import upgrade
from dealbridge.db.session import dispose_engines, make_engine, make_session_factory, session_scope
from dealbridge.settings import Settings
from dealbridge.web import create_web_app
from dealbridge.web.security.accounts import add_user
from dealbridge.web.security.passwords import Passwords
from tests.integration.web.web_client import PASSWORDS, ROLES, SESSION_SECRET, example_router
from tests.support.alert_receivers import FakeClock


@pytest.fixture(scope="session")
def web_ledger_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once, with the three users (argon2 hashing is deliberately slow)."""
    path = tmp_path_factory.mktemp("web-ledger") / "ledger.sqlite3"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(make_session_factory(engine)) as session:
        for name, password in PASSWORDS.items():
            add_user(
                session,
                username=name,
                password=password,
                role=ROLES[name],
                actor="fixture",
                passwords=Passwords(),
            )
    engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path: Path, web_ledger_template: Path) -> Settings:
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(web_ledger_template, path)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{path}",
        web={
            "session_secret": SESSION_SECRET,
            "lockout_attempts": 3,
            "lockout_minutes": 15,
            "max_body_bytes": 4096,
        },
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[FastAPI]:
    yield create_web_app(settings, routers=[example_router()], clock=clock)
    dispose_engines()


@pytest.fixture
def ledger(app: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = app.state.dealbridge.ledger
    return factory


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def fresh_structlog() -> None:
    """Start from structlog's defaults (another test may have left it on a closed stream)."""
    structlog.reset_defaults()
