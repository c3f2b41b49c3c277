"""``dealbridge db upgrade`` and ``dealbridge db current``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dealbridge.cli.main import app

runner = CliRunner()


def test_current_of_an_empty_database_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    result = runner.invoke(app, ["db", "current", "--url", url])
    assert result.exit_code == 1
    assert "at revision none (behind, head is 0004)" in result.output


def test_upgrade_then_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert "at revision 0004" in result.output
    result = runner.invoke(app, ["db", "current", "--url", url])
    assert result.exit_code == 0
    assert "at revision 0004 (up to date)" in result.output


def test_database_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEALBRIDGE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DEALBRIDGE_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "dealbridge.sqlite3").is_file()


def test_password_is_never_printed() -> None:
    url = "postgresql://ledger:hunter2@127.0.0.1:1/none"
    result = runner.invoke(app, ["db", "current", "--url", url])
    assert result.exit_code == 2
    assert "postgresql://ledger:***@127.0.0.1:1/none: OperationalError" in result.output
    assert "hunter2" not in result.output
