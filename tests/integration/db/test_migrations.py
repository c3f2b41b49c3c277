"""Migrations on both engines: empty → head, schema equal to the models, concurrent upgrades."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from dealbridge.db.migrate import VERSION_TABLE, alembic_config, current, head, upgrade
from dealbridge.db.models import Base
from dealbridge.db.session import make_engine
from tests.integration.db.conftest import require_postgres
from tests.support import postgres_db

ACTIVE_INDEX = "ux_sync_errors_active_opportunity"


def test_upgrade_from_empty_to_head(empty_url: str) -> None:
    assert current(empty_url) is None
    assert upgrade(empty_url) == head()
    engine = make_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {VERSION_TABLE}
    finally:
        engine.dispose()


def test_schema_matches_the_models(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_active_error_index_is_partial_and_unique(empty_url: str, dialect: str) -> None:
    """Alembic does not compare index predicates, so check this one by hand."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    query = {
        "sqlite": "SELECT sql FROM sqlite_master WHERE name = :name",
        "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = :name",
    }[dialect]
    try:
        with engine.connect() as connection:
            definition = connection.execute(text(query), {"name": ACTIVE_INDEX}).scalar_one()
    finally:
        engine.dispose()
    normalised = " ".join(definition.replace('"', "").split()).lower()
    assert "unique index" in normalised
    assert "where" in normalised
    assert "'open'" in normalised
    assert "'retrying'" in normalised


def test_downgrade_to_base_and_back(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
    finally:
        engine.dispose()
    assert current(empty_url) is None
    assert upgrade(empty_url) == head()


def test_concurrent_upgrades_from_threads(empty_url: str) -> None:
    barrier = threading.Barrier(3)
    results: list[str | None] = []
    failures: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(upgrade(empty_url))
        except BaseException as exc:  # reported below, not swallowed
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert results == [head()] * 3
    assert current(empty_url) == head()


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_upgrades_from_processes(tmp_path: Path) -> None:
    """Three ``dealbridge db upgrade`` processes on one empty PostgreSQL database."""
    require_postgres()
    with postgres_db.fresh_database() as url:
        processes = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "dealbridge", "db", "upgrade", "--url", url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outcomes = [process.communicate(timeout=120) for process in processes]
        codes = [process.returncode for process in processes]
        assert codes == [0, 0, 0], outcomes
        assert all(f"at revision {head()}" in out for out, _err in outcomes)
        assert current(url) == head()
