"""One process per SQLite state: a second one is refused, pointing to PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings
from dealbridge.sync.runtime import Runtime, runtime_is_running, sqlite_lock_path


def _runtime(data_dir: Path, database_url: str | None = None) -> Runtime:
    return Runtime(Settings(data_dir=data_dir, database_url=database_url))


def test_a_second_process_on_one_data_directory_is_refused(tmp_path: Path) -> None:
    first = _runtime(tmp_path)
    first._take_lock()
    try:
        assert runtime_is_running(first.settings)
        with pytest.raises(ConfigError) as refused:
            _runtime(tmp_path)._take_lock()
    finally:
        first._release()
    assert "SQLite allows one process" in refused.value.message
    assert "PostgreSQL" in refused.value.message
    assert "DEALBRIDGE_DATABASE_URL" in refused.value.message
    assert not runtime_is_running(first.settings)


def test_one_sqlite_database_url_is_one_state_whatever_the_data_directories(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'state.sqlite3'}"
    first = _runtime(tmp_path / "a", url)
    first._take_lock()
    try:
        with pytest.raises(ConfigError, match="PostgreSQL"):
            _runtime(tmp_path / "b", url)._take_lock()
        other = _runtime(tmp_path / "c")
        other._take_lock()  # a state of its own: allowed
        other._release()
    finally:
        first._release()
    assert sqlite_lock_path(first.settings) == tmp_path / "shared" / "state.sqlite3.dealbridge.lock"


def test_postgres_takes_no_file_lock(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/x"
    first = _runtime(tmp_path, url)
    first._take_lock()
    _runtime(tmp_path, url)._take_lock()  # liveness locks guard PostgreSQL instead
    assert not runtime_is_running(first.settings)
    assert not (tmp_path / "dealbridge.lock").exists()
