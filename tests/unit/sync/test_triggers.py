"""Workflow ids and trigger data: one change of a deal, one id, however it is spelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dealbridge.errors import ValidationError
from dealbridge.sync.stamps import salesforce_instant
from dealbridge.sync.triggers import opportunity_id18, trigger_info, workflow_id_for

OPPORTUNITY_15 = "0065g00000AbCdE"
OPPORTUNITY_18 = "0065g00000AbCdEAAV"


def test_workflow_id_is_deal_id18_and_normalised_stamp() -> None:
    assert workflow_id_for(OPPORTUNITY_18, "2025-05-01T10:00:00.000+0000") == (
        f"deal:{OPPORTUNITY_18}:2025-05-01T10:00:00.000Z"
    )


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-05-01T10:00:00.000Z",
        "2025-05-01T10:00:00.000+0000",
        "2025-05-01T12:00:00.000+02:00",
        datetime(2025, 5, 1, 10, tzinfo=UTC),
        datetime(2025, 5, 1, 5, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_every_spelling_of_one_instant_gives_one_id(stamp: str | datetime) -> None:
    assert workflow_id_for(OPPORTUNITY_15, stamp) == (
        f"deal:{OPPORTUNITY_18}:2025-05-01T10:00:00.000Z"
    )


def test_milliseconds_are_kept() -> None:
    assert salesforce_instant("2025-05-01T10:00:00.123Z") == "2025-05-01T10:00:00.123Z"


def test_a_15_character_id_becomes_18() -> None:
    assert opportunity_id18(OPPORTUNITY_15) == OPPORTUNITY_18


@pytest.mark.parametrize("bad", ["", "not-an-id", "0065g00000AbCd"])
def test_a_malformed_id_is_a_validation_error(bad: str) -> None:
    with pytest.raises(ValidationError, match="not a Salesforce Opportunity id"):
        workflow_id_for(bad, "2025-05-01T10:00:00Z")


@pytest.mark.parametrize("stamp", ["2025-05-01T10:00:00", "yesterday"])
def test_a_stamp_without_zone_is_refused(stamp: str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        workflow_id_for(OPPORTUNITY_18, stamp)


def test_trigger_info_is_plain_data() -> None:
    info = trigger_info(
        "poller",
        account_id="0015g00000XyZaB",
        system_modstamp="2025-05-01T10:00:00.000+0000",
        trigger_ref="poll:1",
    )
    assert info["kind"] == "poller"
    assert info["account_id"] == "0015g00000XyZaBAAV"
    assert info["system_modstamp"] == "2025-05-01T10:00:00.000Z"
    assert datetime.fromisoformat(info["received_at"]).tzinfo is not None


def test_an_unknown_trigger_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown trigger"):
        trigger_info("carrier-pigeon", account_id=None, system_modstamp=None)
