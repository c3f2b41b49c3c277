"""The SOAP envelope's values and escaping, the Ack test, and the scaled clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from dealbridge.connectors.salesforce.emulator.outbound_clock import ScaledClock, iso_utc
from dealbridge.connectors.salesforce.emulator.outbound_envelope import (
    SoapHeader,
    SoapNotification,
    build_envelope,
    is_ack,
    soap_value,
)
from dealbridge.connectors.salesforce.models import OUTBOUND_NS
from tests.unit.salesforce_outbound_sender.sender_support import ACK, NACK, NO_ACK, parse

HEADER = SoapHeader("00D5w000004qGTOEA2", "04k5w000000TSwMAAW", "https://e", "https://p")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (45000, "45000.0"),
        (45000.0, "45000.0"),
        (Decimal("12.50"), "12.5"),
        (0.1, "0.1"),
        (None, None),
        ("", None),
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 10, 0, tzinfo=UTC), "2026-03-01T10:00:00.000Z"),
        (datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
         "2026-03-01T10:00:00.000Z"),
        ("2013-05-20T20:49:32.000+0000", "2013-05-20T20:49:32.000Z"),
        ("2013-05-20T20:49:32Z", "2013-05-20T20:49:32.000Z"),
        ("2013-05-20T20:49:32.5+00:00", "2013-05-20T20:49:32.500Z"),
        ("Closed Won", "Closed Won"),
    ],
)  # fmt: skip
def test_values_are_written_as_the_soap_api_types_them(value: Any, text: str | None) -> None:
    assert soap_value(value) == text


def test_hostile_text_is_escaped_and_unencodable_characters_dropped() -> None:
    nasty = "]]></sf:Name><sf:IsWon>true</sf:IsWon>&amp;\x00\x1b\ufffe ok \U0001f600"
    body = build_envelope(HEADER, [SoapNotification("04l000000000001AAA", "Opportunity",
                                                    [("Id", "006"), ("Name", nasty)])])  # fmt: skip
    (item,) = parse(body)["notifications"]
    assert [(name, el.text) for name, el in item["fields"]] == [
        ("Id", "006"), ("Name", "]]></sf:Name><sf:IsWon>true</sf:IsWon>&amp; ok \U0001f600")
    ]  # fmt: skip


def test_names_outside_the_identifier_pattern_are_refused() -> None:
    for sobject, field in (("Opportunity x", "Id"), ("Opportunity", "Id><x")):
        with pytest.raises(ValueError, match="name"):
            build_envelope(HEADER, [SoapNotification("04l", sobject, [(field, "1")])])


def test_many_notifications_share_one_header() -> None:
    items = [SoapNotification(f"04l00000000000{n}AAA", "Opportunity", [("Id", str(n))])
             for n in range(3)]  # fmt: skip
    soap = parse(build_envelope(HEADER, items))
    assert [item["Id"] for item in soap["notifications"]] == [i.notification_id for i in items]
    assert soap["header"]["OrganizationId"].text == HEADER.organization_id


@pytest.mark.parametrize(
    ("body", "acked"),
    [
        (ACK, True),
        (ACK.replace("<Ack>true", "<Ack> true "), True),
        (f'<o:notificationsResponse xmlns:o="{OUTBOUND_NS}"><o:Ack>true</o:Ack>'
         "</o:notificationsResponse>", True),
        (NACK, False),
        (NO_ACK, False),
        ("<Ack>TRUE</Ack>", False),
        ("not xml at all", False),
        ("", False),
        ('<!DOCTYPE r [<!ENTITY t "true">]><Ack>&t;</Ack>', False),  # entities are refused
        ('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Ack>&x;</Ack>', False),
        ("<Ack>true</Ack>" + " " * 1_000_001, False),
    ],
)  # fmt: skip
def test_only_an_ack_of_true_acknowledges(body: str, acked: bool) -> None:
    assert is_ack(body.encode()) is acked


def test_the_scaled_clock_speaks_emulated_seconds() -> None:
    clock = ScaledClock(3600.0, start=1_000.0)
    assert clock.now() >= 1_000.0
    assert iso_utc(0.0) == "1970-01-01T00:00:00.000Z"
    with pytest.raises(ValueError, match="time_scale"):
        ScaledClock(0.0)
