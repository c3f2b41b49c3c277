"""The poller's pure parts: its cron expression, its window and its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from croniter import croniter

from dealbridge.errors import ConfigError
from dealbridge.settings import PollerSettings, Settings
from dealbridge.sync.poller import cron_for, latest_stamp, schedule_for, window_start


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (1, "* * * * * *"),
        (10, "*/10 * * * * *"),
        (60, "*/60 * * * * *"),
        (120, "0 */2 * * * *"),
        (900, "0 */15 * * * *"),
        (3600, "0 */60 * * * *"),
        (7200, "0 0 */2 * * *"),
        (86_400, "0 0 */24 * * *"),
    ],
)
def test_cron_for_an_even_interval(seconds: int, cron: str) -> None:
    assert cron_for(seconds) == cron


@pytest.mark.parametrize("seconds", [1, 5, 10, 60, 300, 3600, 21_600])
def test_the_cron_fires_every_interval(seconds: int) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    ticks = croniter(cron_for(seconds), start, second_at_beginning=True)
    first, second = ticks.get_next(datetime), ticks.get_next(datetime)
    assert second - first == timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [7, 45, 90, 5000, 7000])
def test_an_uneven_interval_is_refused(seconds: int) -> None:
    with pytest.raises(ConfigError):
        cron_for(seconds)
    with pytest.raises(ConfigError, match="interval_seconds"):
        PollerSettings(interval_seconds=seconds)


def test_the_schedule_carries_the_overlap() -> None:
    entry = schedule_for(PollerSettings(interval_seconds=30, overlap_seconds=45))
    assert entry["schedule"] == "*/30 * * * * *"
    assert entry["context"] == {"overlap_seconds": 45}


def test_the_window_looks_back_by_the_overlap() -> None:
    since = window_start("2026-05-01T10:00:00.000Z", "2026-05-01T00:00:00.000Z", 120)
    assert since == datetime(2026, 5, 1, 9, 58, tzinfo=UTC)


def test_the_window_never_starts_before_the_first_poll() -> None:
    since = window_start("2026-05-01T10:00:30.000Z", "2026-05-01T10:00:00.000Z", 120)
    assert since == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_latest_stamp_compares_instants_not_text() -> None:
    stamps = [
        "2026-05-01T10:00:00.000+0000",
        "2026-05-01T09:00:00.000Z",
        "2026-05-01T12:00:00+02:00",
    ]
    assert latest_stamp(stamps) == "2026-05-01T10:00:00.000Z"
    assert latest_stamp([]) is None


def test_webhook_token_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEALBRIDGE_WEBHOOK_TOKEN", "short")
    with pytest.raises(ConfigError, match="16 characters"):
        Settings()
    monkeypatch.setenv("DEALBRIDGE_WEBHOOK_TOKEN", "a-long-enough-token-1234")
    settings = Settings()
    assert settings.webhook_token is not None
    assert "a-long-enough" not in repr(settings)


def test_webhook_token_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-a-mounted-secret-file\n", encoding="utf-8")
    monkeypatch.delenv("DEALBRIDGE_WEBHOOK_TOKEN", raising=False)
    monkeypatch.setenv("DEALBRIDGE_WEBHOOK_TOKEN_FILE", str(secret))
    settings = Settings()
    assert settings.webhook_token is not None
    assert settings.webhook_token.get_secret_value() == "from-a-mounted-secret-file"
