"""The SOQL formatter: every escape of contracts §1.4, types, LIKE, identifiers, injection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.soql import Soql, identifier, quote, quote_like, soql
from dealbridge.errors import ConfigError, ValidationError

_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def read_literal(text: str, start: int = 0, *, like: bool = False) -> tuple[str, int]:
    """What a SOQL parser does: decode the string literal at ``start``; return it and its end.

    Raises AssertionError on any escape §1.4 does not allow, as Salesforce would.
    """
    assert text[start] == "'"
    out: list[str] = []
    i = start + 1
    while True:
        char = text[i]
        if char == "'":
            return "".join(out), i + 1
        if char == "\\":
            nxt = text[i + 1]
            if nxt in _UNESCAPE:
                out.append(_UNESCAPE[nxt])
                i += 2
            elif nxt == "u":
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
            elif like and nxt in "%_":
                out.append(nxt)
                i += 2
            else:
                raise AssertionError(f"invalid escape \\{nxt}")
            continue
        assert ord(char) >= 0x20, "raw control character in a literal"
        out.append(char)
        i += 1


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("\\", "\\\\"),
        ("'", "\\'"),
        ('"', '\\"'),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\b", "\\b"),
        ("\f", "\\f"),
        ("\x00", "\\u0000"),
        ("\x01", "\\u0001"),
        ("\x1b", "\\u001b"),
        ("\x7f", "\\u007f"),
        ("\x85", "\\u0085"),
    ],
)
def test_every_escape_of_section_1_4(raw: str, escaped: str) -> None:
    assert quote(f"a{raw}b") == f"'a{escaped}b'"


def test_ordinary_unicode_passes_unchanged() -> None:
    assert quote("Müller & Söhne 株式会社 🚀") == "'Müller & Söhne 株式会社 🚀'"


@pytest.mark.parametrize(
    "attack",
    [
        "' OR Name != '",
        "x' OR Id != null OR Name = 'y",
        "\\' OR Name != \\'",
        "'; DELETE FROM Account; --",
        "') OR (Name = '",
        "\\",
        "%' OR Name LIKE '%",
    ],
)
def test_injection_attempts_stay_inside_one_literal(attack: str) -> None:
    text = soql("SELECT Id FROM Account WHERE Name = {} LIMIT 1", attack)
    prefix = "SELECT Id FROM Account WHERE Name = "
    value, end = read_literal(text, len(prefix))
    assert value == attack
    assert text[end:] == " LIMIT 1"


@given(st.text())
def test_any_string_round_trips_through_one_literal(value: str) -> None:
    text = quote(value)
    decoded, end = read_literal(text)
    assert decoded == value
    assert end == len(text)


@given(st.text())
def test_any_like_pattern_round_trips_with_wildcards_escaped(value: str) -> None:
    text = quote_like(value)
    decoded, end = read_literal(text, like=True)
    assert decoded == value
    assert end == len(text)
    unescaped = text.replace("\\\\", "").replace("\\%", "").replace("\\_", "")
    assert "%" not in unescaped
    assert "_" not in unescaped


def test_like_spec_escapes_percent_and_underscore() -> None:
    text = soql("SELECT Id FROM Contact WHERE Email LIKE {:like}", "50%_off's")
    assert text == "SELECT Id FROM Contact WHERE Email LIKE '50\\%\\_off\\'s'"


def test_plain_strings_keep_percent_and_underscore() -> None:
    assert quote("50%_off") == "'50%_off'"


def test_like_takes_only_strings() -> None:
    with pytest.raises(ConfigError, match="like"):
        soql("X LIKE {:like}", 5)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-42, "-42"),
        (3.5, "3.5"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "0.00000015"),
        (Decimal("1E+3"), "1000"),
        (Decimal("45000.00"), "45000.00"),
        (date(2025, 6, 30), "2025-06-30"),
        (datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC), "2025-06-30T12:00:00Z"),
        (
            datetime(2025, 6, 30, 14, 0, 5, 999, tzinfo=timezone(timedelta(hours=2))),
            "2025-06-30T12:00:05Z",
        ),
    ],
)
def test_values_are_quoted_by_type(value: object, literal: str) -> None:
    assert quote(value) == literal


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        quote(datetime(2025, 6, 30, 12, 0))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), object(), b"x"])
def test_unsupported_values_are_refused(value: object) -> None:
    with pytest.raises(ConfigError):
        quote(value)


def test_lists_tuples_and_sets_become_in_lists() -> None:
    assert soql("Id IN {}", ["a", "b'c"]) == "Id IN ('a', 'b\\'c')"
    assert soql("N IN {}", (1, 2)) == "N IN (1, 2)"
    assert soql("Id IN {}", {"b", "a"}) == "Id IN ('a', 'b')"


def test_empty_and_nested_in_lists_are_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        soql("Id IN {}", [])
    with pytest.raises(ConfigError, match="nested"):
        soql("Id IN {}", [["a"]])


def test_named_and_positional_placeholders() -> None:
    text = soql(
        "SELECT Id FROM Opportunity WHERE IsWon = {} AND SystemModstamp > {since} LIMIT {}",
        True,
        10,
        since=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert text == (
        "SELECT Id FROM Opportunity WHERE IsWon = true AND SystemModstamp > "
        "2025-01-01T00:00:00Z LIMIT 10"
    )
    assert isinstance(text, Soql)


def test_doubled_braces_are_literal_braces() -> None:
    assert soql("'{{x}}' = {}", "y") == "'{x}' = 'y'"


def test_literal_spec_inserts_checked_identifiers() -> None:
    text = soql("SELECT {:literal} FROM {:literal}", "Account.Name", "Opportunity")
    assert text == "SELECT Account.Name FROM Opportunity"


@pytest.mark.parametrize(
    "bad", ["Name, Id", "Name'", "a b", "1abc", "", "Name)--", "Name;DROP", "x\ny", 7]
)
def test_literal_spec_refuses_anything_but_identifiers(bad: object) -> None:
    with pytest.raises(ConfigError, match="identifier"):
        soql("SELECT {:literal} FROM Account", bad)
    with pytest.raises(ConfigError):
        identifier(bad)


def test_unknown_spec_conversion_and_missing_value_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="format spec"):
        soql("X = {:>10}", "a")
    with pytest.raises(ConfigError, match="conversion"):
        soql("X = {!r}", "a")
    with pytest.raises(ConfigError, match="placeholder"):
        soql("X = {} AND Y = {}", "a")
    with pytest.raises(ConfigError, match="placeholder"):
        soql("X = {name}")


def test_statement_length_is_capped_at_100000_characters() -> None:
    head = "SELECT Id FROM Account WHERE Name = "
    fits = "x" * (models.SOQL_MAX_LENGTH - len(head) - 2)
    assert len(soql(head + "{}", fits)) == models.SOQL_MAX_LENGTH
    with pytest.raises(ValidationError, match="100,000") as caught:
        soql(head + "{}", fits + "x")
    assert caught.value.rule == "soql_max_length"
