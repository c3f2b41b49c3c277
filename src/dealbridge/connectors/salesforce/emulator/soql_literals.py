r"""SOQL literals: quoted-string escapes, LIKE patterns, dates, datetimes and date literals.

Escapes follow contracts/salesforce.md §1.4 (Salesforce "Quoted String Escape Sequences"):
``\n \r \t \b \f`` in either case, ``\" \' \\``, ``\uXXXX``, and ``\% \_`` only inside a
LIKE pattern; any other backslash is an error. Date literals (``TODAY``, ``LAST_N_DAYS:n`` …)
are ranges of whole days in the running user's time zone; the emulator's integration user is on
UTC, and weeks start on Sunday (en_US) — both simplifications of §1.4's "user's locale/TZ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_SIMPLE_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_UPPER_ESCAPES = ("N", "R", "T", "B", "F")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
WILDCARDS = {"%": ".*", "_": "."}


class LiteralError(ValueError):
    """A literal the grammar accepted but Salesforce refuses; the caller adds the position."""


def unescape(raw: str, *, like: bool = False) -> list[tuple[str, bool]]:
    r"""Decode a quoted string's body into (text, is_wildcard) pieces.

    Outside LIKE every piece is plain text. Inside LIKE a bare ``%`` or ``_`` is a wildcard
    piece and ``\%`` / ``\_`` are the plain characters.

    Raises:
        LiteralError: For a backslash sequence SOQL does not define (§1.4).
    """
    pieces: list[tuple[str, bool]] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            pieces.append((char, like and char in WILDCARDS))
            i += 1
            continue
        decoded, i = _escape(raw, i, like)
        pieces.append((decoded, False))
    return pieces


def _escape(raw: str, i: int, like: bool) -> tuple[str, int]:
    """The character the escape at ``raw[i]`` stands for, and where decoding resumes."""
    follower = raw[i + 1 : i + 2]
    simple = _SIMPLE_ESCAPES.get(follower.lower() if follower in _UPPER_ESCAPES else follower)
    if simple is not None:
        return simple, i + 2
    if like and follower in ("%", "_"):
        return follower, i + 2
    if follower == "u" and _HEX4.fullmatch(raw, i + 2, i + 6):
        return _unicode(raw, i)
    sequence = raw[i : i + 2]
    reason = f"Illegal character sequence '{sequence}' in string literal."
    raise LiteralError(f"Invalid string literal '{raw}'. {reason}")


def _unicode(raw: str, i: int) -> tuple[str, int]:
    r"""``\uXXXX``; a high and a low surrogate written in turn make one astral character."""
    code = int(raw[i + 2 : i + 6], 16)
    low_at = i + 6
    pair = raw[low_at : low_at + 2] == "\\u" and _HEX4.fullmatch(raw, low_at + 2, low_at + 6)
    if 0xD800 <= code <= 0xDBFF and pair:
        low = int(raw[low_at + 2 : low_at + 6], 16)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), i + 12
    return chr(code), i + 6


def plain_string(raw: str) -> str:
    """A quoted string's value outside LIKE."""
    return "".join(text for text, _ in unescape(raw))


def like_pattern(raw: str) -> re.Pattern[str]:
    """A LIKE pattern as a regex over upper-cased text: ``%`` any run, ``_`` one character.

    SOQL's LIKE is case-insensitive; values are upper-cased before matching, as for ``=``.
    """
    pieces = unescape(raw, like=True)
    regex = "".join(WILDCARDS[text] if wild else re.escape(text.upper()) for text, wild in pieces)
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def parse_date(text: str) -> date:
    """An unquoted ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LiteralError(f"Invalid date: {text}") from None


def parse_datetime(text: str) -> datetime:
    """An unquoted dateTime: ``…T12:00:00Z``, ``…+02:00``, optional fraction (§1.4)."""
    normalized = re.sub(r"(?i)z$", "+00:00", text)
    normalized = re.sub(r"\.(\d{6})\d+", r".\1", normalized)  # Python keeps microseconds
    normalized = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", normalized)
    try:
        return datetime.fromisoformat(normalized)
    except ValueError:
        raise LiteralError(f"Invalid datetime: {text}") from None


@dataclass(frozen=True)
class DayRange:
    """Half-open range of days ``[start, end)`` a date literal stands for."""

    start: date
    end: date

    def datetimes(self) -> tuple[datetime, datetime]:
        """The range as UTC instants, for dateTime fields."""
        return _midnight(self.start), _midnight(self.end)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _week_start(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)  # Sunday


FIXED_DATE_LITERALS = (
    "TODAY", "YESTERDAY", "TOMORROW", "THIS_WEEK", "LAST_WEEK", "NEXT_WEEK", "THIS_MONTH",
    "LAST_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_YEAR", "LAST_YEAR",
    "NEXT_YEAR",
)  # fmt: skip
N_DATE_LITERALS = (
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
)  # fmt: skip


def day_range(name: str, n: int | None, now: datetime) -> DayRange:
    """The days ``name`` (``n``) covers relative to ``now`` (read in UTC)."""
    today = now.astimezone(UTC).date()
    if n is None:
        return _fixed_range(name.upper(), today)
    return _n_range(name.upper(), n, today)


def _fixed_range(name: str, today: date) -> DayRange:
    day = timedelta(days=1)
    week, month, year = _week_start(today), _add_months(today, 0), date(today.year, 1, 1)
    ranges = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week, week + 7 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "THIS_MONTH": (month, _add_months(today, 1)),
        "LAST_MONTH": (_add_months(today, -1), month),
        "NEXT_MONTH": (_add_months(today, 1), _add_months(today, 2)),
        # Salesforce: LAST_90_DAYS includes today; NEXT_90_DAYS starts tomorrow.
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_YEAR": (year, date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), year),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
    }
    start, end = ranges[name]
    return DayRange(start, end)


def _n_range(name: str, n: int, today: date) -> DayRange:
    day, week = timedelta(days=1), _week_start(today)
    ranges = {
        "LAST_N_DAYS": (today - n * day, today + day),  # includes today (LAST_N_DAYS:1 = 2 days)
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week - 7 * n * day, week),
        "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (n + 1) * day),
        "LAST_N_MONTHS": (_add_months(today, -n), _add_months(today, 0)),
        "NEXT_N_MONTHS": (_add_months(today, 1), _add_months(today, n + 1)),
    }
    start, end = ranges[name]
    return DayRange(start, end)
