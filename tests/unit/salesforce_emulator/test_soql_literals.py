"""SOQL literals: escapes (§1.4), date and dateTime forms, and the days each date literal covers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from dealbridge.connectors.salesforce.emulator.soql_literals import (
    LiteralError,
    day_range,
    like_pattern,
    parse_datetime,
    plain_string,
)

TUESDAY = datetime(2025, 7, 15, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (r"a\nb", "a\nb"),
        (r"a\Nb", "a\nb"),
        (r"\r\R\t\T\b\B\f\F", "\r\r\t\t\b\b\f\f"),
        (r"\"quoted\"", '"quoted"'),
        (r"O\'Brien", "O'Brien"),
        (r"back\\slash", "back\\slash"),
        (r"caf\u00e9", "café"),
        (r"\u00E9", "é"),
        (r"\uD83D\uDE00", "\U0001f600"),  # a surrogate pair is one character
        ("raw\ttab", "raw\ttab"),
        ("", ""),
    ],
)
def test_escapes_decode(raw: str, value: str) -> None:
    assert plain_string(raw) == value


@pytest.mark.parametrize("raw", [r"\q", r"\%", r"\_", r"\u12", r"\U00e9", r"\x41", r"a\ b"])
def test_other_backslashes_are_errors(raw: str) -> None:
    with pytest.raises(LiteralError, match="Illegal character sequence"):
        plain_string(raw)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("a%", "ABC", True),
        ("%c", "abC", True),
        ("a_c", "abc", True),
        ("a_c", "abbc", False),
        (r"a\%", "a%", True),
        (r"a\%", "ab", False),
        (r"a\_c", "a_c", True),
        (r"a\_c", "abc", False),
        ("%.*%", "x.*y", True),  # regex characters are plain text
        ("%", "", True),
        ("", "", True),
        ("line%", "line\nbreak", True),
    ],
)
def test_like_patterns(pattern: str, text: str, matches: bool) -> None:
    assert (like_pattern(pattern).fullmatch(text.upper()) is not None) is matches


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2025-06-30T12:00:00Z", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T12:00:00z", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T12:00:00.123Z", datetime(2025, 6, 30, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2025-06-30T14:00:00+02:00", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T04:00:00-0800", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T12:00:00.1234567Z", datetime(2025, 6, 30, 12, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_datetimes_parse_to_instants(text: str, value: datetime) -> None:
    assert parse_datetime(text) == value


def test_offsets_are_kept() -> None:
    assert parse_datetime("2025-06-30T14:00:00+02:00").utcoffset() == timezone(
        timedelta(hours=2)
    ).utcoffset(None)


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("TODAY", None, "2025-07-15", "2025-07-16"),
        ("YESTERDAY", None, "2025-07-14", "2025-07-15"),
        ("TOMORROW", None, "2025-07-16", "2025-07-17"),
        ("THIS_WEEK", None, "2025-07-13", "2025-07-20"),  # weeks start on Sunday
        ("LAST_WEEK", None, "2025-07-06", "2025-07-13"),
        ("NEXT_WEEK", None, "2025-07-20", "2025-07-27"),
        ("THIS_MONTH", None, "2025-07-01", "2025-08-01"),
        ("LAST_MONTH", None, "2025-06-01", "2025-07-01"),
        ("NEXT_MONTH", None, "2025-08-01", "2025-09-01"),
        ("LAST_90_DAYS", None, "2025-04-16", "2025-07-16"),
        ("NEXT_90_DAYS", None, "2025-07-16", "2025-10-14"),
        ("THIS_YEAR", None, "2025-01-01", "2026-01-01"),
        ("LAST_YEAR", None, "2024-01-01", "2025-01-01"),
        ("NEXT_YEAR", None, "2026-01-01", "2027-01-01"),
        ("LAST_N_DAYS", 1, "2025-07-14", "2025-07-16"),  # yesterday and today
        ("NEXT_N_DAYS", 2, "2025-07-16", "2025-07-18"),
        ("N_DAYS_AGO", 3, "2025-07-12", "2025-07-13"),
        ("LAST_N_WEEKS", 2, "2025-06-29", "2025-07-13"),
        ("NEXT_N_WEEKS", 1, "2025-07-20", "2025-07-27"),
        ("LAST_N_MONTHS", 2, "2025-05-01", "2025-07-01"),
        ("NEXT_N_MONTHS", 6, "2025-08-01", "2026-02-01"),
        ("last_n_days", 0, "2025-07-15", "2025-07-16"),
    ],
)
def test_date_literal_ranges(name: str, n: int | None, start: str, end: str) -> None:
    days = day_range(name, n, TUESDAY)
    assert (days.start, days.end) == (date.fromisoformat(start), date.fromisoformat(end))


def test_month_literals_cross_the_year() -> None:
    january = datetime(2025, 1, 10, tzinfo=UTC)
    assert day_range("LAST_MONTH", None, january).start == date(2024, 12, 1)
    assert day_range("LAST_N_MONTHS", 13, january).start == date(2023, 12, 1)


def test_now_is_read_in_utc() -> None:
    late_evening_west = datetime(2025, 7, 14, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert day_range("TODAY", None, late_evening_west).start == date(2025, 7, 15)


def test_ranges_as_instants_for_datetime_fields() -> None:
    start, end = day_range("TODAY", None, TUESDAY).datetimes()
    assert (start, end) == (datetime(2025, 7, 15, tzinfo=UTC), datetime(2025, 7, 16, tzinfo=UTC))
