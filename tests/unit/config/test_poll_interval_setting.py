"""One poll interval setting: ``poller.interval_seconds``; the old duplicate is refused loudly."""

from __future__ import annotations

import pytest

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings


def test_the_poll_interval_is_the_pollers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALBRIDGE_POLLER__INTERVAL_SECONDS", "30")
    settings = Settings()
    assert settings.poller.interval_seconds == 30
    assert "poll_interval_seconds" not in type(settings.sync).model_fields


def test_the_removed_sync_setting_names_its_replacement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALBRIDGE_SYNC__POLL_INTERVAL_SECONDS", "30")
    with pytest.raises(ConfigError, match=r"poller\.interval_seconds"):
        Settings()
