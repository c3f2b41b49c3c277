"""``auto_retry.*``: bounds, known classes, a cron DBOS can run."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from dealbridge.errors import ConfigError
from dealbridge.settings import AutoRetrySettings, Settings
from dealbridge.sync.auto_retry import SCHEDULE_NAME, cron_for, schedule_for


def test_defaults_retry_passing_causes_half_an_hour_later_six_times() -> None:
    settings = AutoRetrySettings()
    assert settings.classes == ("rate_limit", "remote_outage")
    assert (settings.after_minutes, settings.max_attempts, settings.interval_minutes) == (30, 6, 10)
    assert cron_for(settings) == "0 */10 * * * *"
    schedule = schedule_for(settings)
    assert schedule["schedule_name"] == SCHEDULE_NAME
    assert schedule["context"] == {
        "classes": ["rate_limit", "remote_outage"],
        "after_minutes": 30,
        "max_attempts": 6,
    }


@pytest.mark.parametrize(("minutes", "cron"), [(1, "0 */1 * * * *"), (60, "0 0 * * * *")])
def test_the_cron_fires_every_interval(minutes: int, cron: str) -> None:
    assert cron_for(AutoRetrySettings(interval_minutes=minutes)) == cron


def test_an_unknown_class_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"unknown failure classes \['outage'\]"):
        AutoRetrySettings(classes=("outage", "rate_limit"))


@pytest.mark.parametrize("minutes", [7, 25, 45])
def test_an_interval_that_does_not_divide_an_hour_is_refused(minutes: int) -> None:
    with pytest.raises(ConfigError, match="does not divide an hour"):
        AutoRetrySettings(interval_minutes=minutes)


@pytest.mark.parametrize(
    "values", [{"after_minutes": 0}, {"max_attempts": 0}, {"interval_minutes": 61}]
)
def test_bounds(values: dict[str, int]) -> None:
    with pytest.raises(PydanticValidationError):
        AutoRetrySettings(**values)  # type: ignore[arg-type]


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALBRIDGE_AUTO_RETRY__ENABLED", "false")
    monkeypatch.setenv("DEALBRIDGE_AUTO_RETRY__AFTER_MINUTES", "90")
    settings = Settings().auto_retry
    assert (settings.enabled, settings.after_minutes) == (False, 90)
