"""``reconcile.*`` settings: the interval must divide a day; the cron DBOS gets from them."""

from __future__ import annotations

import pytest

from dealbridge.errors import ConfigError
from dealbridge.settings import ReconcileSettings, Settings
from dealbridge.sync.reconcile_schedule import cron_for, schedule_for


@pytest.mark.parametrize(
    ("hours", "minute", "cron"),
    [(24, 30, "0 30 0 * * *"), (12, 0, "0 0 */12 * * *"), (1, 59, "0 59 */1 * * *")],
)
def test_the_cron_fires_at_the_minute_every_interval(hours: int, minute: int, cron: str) -> None:
    assert cron_for(ReconcileSettings(interval_hours=hours, at_minute=minute)) == cron


@pytest.mark.parametrize("hours", [5, 7, 9, 10, 11, 13, 23])
def test_an_interval_that_does_not_divide_a_day_is_refused_by_name(hours: int) -> None:
    with pytest.raises(ConfigError, match=f"reconcile.interval_hours={hours} does not divide"):
        ReconcileSettings(interval_hours=hours)


def test_defaults_reconcile_every_deal_nightly_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = ReconcileSettings()
    assert (default.enabled, default.since_days) == (True, None)
    assert schedule_for(default)["context"] == {"since_days": None}
    monkeypatch.setenv("DEALBRIDGE_RECONCILE__ENABLED", "false")
    monkeypatch.setenv("DEALBRIDGE_RECONCILE__SINCE_DAYS", "90")
    settings = Settings().reconcile
    assert (settings.enabled, settings.since_days) == (False, 90)
