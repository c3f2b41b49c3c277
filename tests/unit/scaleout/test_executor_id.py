"""Executor ids: from settings, else stable per host and slot on PostgreSQL, ``local`` on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings
from dealbridge.sync.liveness import executor_id_for, libpq_url

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/dealbridge"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_the_setting_wins(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url=PG, executor_id="billing-7", worker_slot="3")
    assert executor_id_for(settings, hostname="node-a") == "billing-7"


def test_postgres_derives_host_and_slot(tmp_path: Path) -> None:
    assert executor_id_for(_settings(tmp_path, database_url=PG), hostname="node-a") == "node-a-0"
    settings = _settings(tmp_path, database_url=PG, worker_slot="2")
    assert executor_id_for(settings, hostname="node-a") == "node-a-2"


def test_the_slot_comes_from_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEALBRIDGE_WORKER_SLOT", "5")
    settings = Settings(data_dir=tmp_path, database_url=PG)
    assert executor_id_for(settings, hostname="node-b") == "node-b-5"


def test_a_derived_id_is_the_same_after_a_restart(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url=PG, worker_slot="1")
    assert executor_id_for(settings) == executor_id_for(settings.model_copy())


def test_odd_host_names_are_made_safe_and_short(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url=PG, worker_slot="a b")
    assert executor_id_for(settings, hostname="My Host/(x)") == "My-Host-x-a-b"
    assert len(executor_id_for(settings, hostname="h" * 300)) == 100


def test_sqlite_keeps_one_local_executor(tmp_path: Path) -> None:
    assert executor_id_for(_settings(tmp_path), hostname="node-a") == "local"
    sqlite_url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert executor_id_for(_settings(tmp_path, database_url=sqlite_url)) == "local"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 101, "semi;colon"])
def test_a_malformed_executor_id_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(PydanticValidationError, match="executor_id"):
        _settings(tmp_path, database_url=PG, executor_id=bad)
    unchecked = _settings(tmp_path, database_url=PG).model_copy(update={"executor_id": bad})
    with pytest.raises(ConfigError, match="executor_id"):
        executor_id_for(unchecked)


def test_the_lock_connection_speaks_plain_libpq() -> None:
    assert libpq_url(PG) == "postgresql://postgres@127.0.0.1:5432/dealbridge"
    assert libpq_url("postgresql://u:p@h/d?sslmode=require") == (
        "postgresql://u:p@h/d?sslmode=require"
    )
