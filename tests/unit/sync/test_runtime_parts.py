"""The runtime's pure parts: queue sizing, DBOS configuration, call collection, overrides."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from dealbridge.core.calls import CallRecord
from dealbridge.errors import RateLimitedError, RemoteRejectedError, ValidationError
from dealbridge.settings import NetSuiteSettings, Settings, SyncSettings
from dealbridge.sync import system_db
from dealbridge.sync.call_log import collecting_calls, observe_call
from dealbridge.sync.operator import MAX_OVERRIDE_BYTES, check_override_payload
from dealbridge.sync.runtime import (
    ENGINE_VERSION,
    Runtime,
    deals_in_flight,
    is_retryable,
    system_database_url,
)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("limit", "deals"), [(1, 2), (5, 10), (15, 30), (30, 60), (100, 200)])
def test_deals_in_flight_follows_the_netsuite_budget(
    tmp_path: Path, limit: int, deals: int
) -> None:
    settings = _settings(tmp_path, netsuite=NetSuiteSettings(concurrency_limit=limit))
    assert deals_in_flight(settings) == deals


def test_queue_concurrency_setting_wins(tmp_path: Path) -> None:
    settings = _settings(tmp_path, sync=SyncSettings(queue_concurrency=7))
    assert deals_in_flight(settings) == 7


def test_dbos_config_pins_the_version_and_the_executor(tmp_path: Path) -> None:
    runtime = Runtime(_settings(tmp_path, executor_id="worker-3"))
    config = runtime.dbos_config()
    assert config["application_version"] == ENGINE_VERSION
    assert config["executor_id"] == "worker-3"
    assert config["system_database_url"] == f"sqlite:///{(tmp_path / 'dbos.sqlite3').resolve()}"


def test_postgres_shares_the_ledger_database(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/dealbridge"
    assert system_database_url(_settings(tmp_path, database_url=url)) == url


def test_only_retryable_errors_are_retried() -> None:
    assert is_retryable(RateLimitedError("429", system="netsuite"))
    assert not is_retryable(RemoteRejectedError("400", system="netsuite"))
    assert not is_retryable(KeyError("bug"))


def _call(path: str) -> CallRecord:
    return CallRecord("netsuite", "PUT", path, 204, 1.0)


def test_calls_are_collected_per_task_without_mixing() -> None:
    async def deal(name: str) -> list[str]:
        with collecting_calls() as calls:
            await asyncio.gather(*(_report(f"/{name}/{i}") for i in range(3)))
        return sorted(call.path for call in calls)

    async def both() -> list[list[str]]:
        return list(await asyncio.gather(deal("a"), deal("b")))

    first, second = asyncio.run(both())
    assert first == ["/a/0", "/a/1", "/a/2"]
    assert second == ["/b/0", "/b/1", "/b/2"]
    observe_call(_call("/outside"))  # outside any step: logged only, no error


async def _report(path: str) -> None:
    await asyncio.sleep(0)
    observe_call(_call(path))


def test_an_override_is_a_json_object_of_bounded_size() -> None:
    check_override_payload({"companyName": "Acme", "subsidiary": {"id": "1"}})
    for bad in ([1, 2], {1: "x"}, {"x": float("nan")}, {"x": object()}):
        with pytest.raises(ValidationError):
            check_override_payload(bad)
    with pytest.raises(ValidationError, match="1 MB"):
        check_override_payload({"memo": "x" * MAX_OVERRIDE_BYTES})


def test_toml_settings_are_read_but_secrets_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dealbridge.toml").write_text(
        '[sync]\nwrite_back = false\n[netsuite]\naccount = "123_SB1"\n', encoding="utf-8"
    )
    settings = Settings()
    assert settings.sync.write_back is False
    assert settings.netsuite.account == "123_SB1"
    (tmp_path / "dealbridge.toml").write_text('[netsuite]\ntoken_secret = "s"\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"may not hold secrets \(netsuite.token_secret\)"):
        Settings()


def test_dbos_on_sqlite_gets_connections_that_sync_at_checkpoints(tmp_path: Path) -> None:
    config = Runtime(_settings(tmp_path)).dbos_config()
    factory = config["db_engine_kwargs"]["connect_args"]["factory"]  # type: ignore[index]
    connection = sqlite3.connect(tmp_path / "x.sqlite3", factory=factory)
    try:
        assert connection.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    finally:
        connection.close()


def test_dbos_on_postgres_keeps_its_own_engine_options(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/dealbridge"
    assert "db_engine_kwargs" not in Runtime(_settings(tmp_path, database_url=url)).dbos_config()


def test_the_sqlite_system_database_is_put_in_wal_mode_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'dbos.sqlite3'}"
    system_db.prepare_sqlite(url)
    system_db.prepare_sqlite(url)  # idempotent
    connection = sqlite3.connect(tmp_path / "new" / "dbos.sqlite3")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()
