"""Settings come from DEALBRIDGE_* variables and secret files, and never show secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings


def test_nested_netsuite_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__ACCOUNT", "1234567_SB1")
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__AUTH_MODE", "tba")
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__TOKEN_SECRET", "s3cr3t-token-value")
    settings = Settings()
    assert settings.netsuite.account == "1234567_SB1"
    assert settings.netsuite.auth_mode == "tba"
    assert settings.netsuite.token_secret is not None
    assert settings.netsuite.token_secret.get_secret_value() == "s3cr3t-token-value"
    assert "s3cr3t-token-value" not in repr(settings)


def test_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "consumer_secret"
    secret_file.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__CONSUMER_SECRET_FILE", str(secret_file))
    settings = Settings()
    assert settings.netsuite.consumer_secret is not None
    assert settings.netsuite.consumer_secret.get_secret_value() == "from-a-file"


def test_unreadable_secret_file_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="private_key"):
        Settings()


def test_bounds_are_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__CONCURRENCY_LIMIT", "0")
    with pytest.raises(ValueError, match="concurrency_limit"):
        Settings()
