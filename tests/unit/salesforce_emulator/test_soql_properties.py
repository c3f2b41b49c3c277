"""Properties of the SOQL engine over generated values (hypothesis)."""

# ruff: noqa: S608 - composing SOQL text from fixture values is what these tests do

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dealbridge.connectors.salesforce.emulator.soql_engine import execute_soql
from tests.unit.salesforce_emulator.soql_support import MemorySource, acc, opp

_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\R", "\t": "\\t"}
_ESCAPES |= {"\b": "\\b", "\f": "\\F"}


def escape(value: str, *, like: bool = False, unicode_from: int = 0x80) -> str:
    r"""Quote ``value`` for SOQL with every escape of §1.4 (``\uXXXX`` above ``unicode_from``)."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif like and char in "%_":
            out.append("\\" + char)
        elif ord(char) >= unicode_from and ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        elif ord(char) > 0xFFFF and unicode_from <= 0xFFFF:
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04X}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def _org(names: list[Any]) -> MemorySource:
    rows = [{"Id": acc(n + 1), "Name": name, "IsDeleted": False} for n, name in enumerate(names)]
    return MemorySource({"Account": rows})


@given(value=st.text(), unicode_from=st.sampled_from([0x80, 0x110000]))
def test_any_string_round_trips_through_escape_parse_and_equality(
    value: str, unicode_from: int
) -> None:
    source = _org([value, "\x00other"])
    soql = f"SELECT Id, Name FROM Account WHERE Name = {escape(value, unicode_from=unicode_from)}"
    result = execute_soql(soql, source, api_version="65.0")
    assert {"Id": acc(1), "Name": value}.items() <= result.records[0].items()


@given(value=st.text(min_size=1))
def test_like_with_escaped_wildcards_matches_the_value_itself(value: str) -> None:
    source = _org([value])
    soql = f"SELECT Id FROM Account WHERE Name LIKE {escape(value, like=True)}"
    assert execute_soql(soql, source, api_version="65.0").total_size == 1


@given(value=st.text(min_size=1), prefix_len=st.integers(min_value=0, max_value=5))
def test_like_prefix_percent_finds_values_starting_with_the_prefix(
    value: str, prefix_len: int
) -> None:
    prefix = value[:prefix_len]
    soql = f"SELECT Id FROM Account WHERE Name LIKE {escape(prefix, like=True)[:-1]}%'"
    assert execute_soql(soql, _org([value]), api_version="65.0").total_size == 1


@given(
    amounts=st.lists(st.one_of(st.none(), st.integers(-(10**6), 10**6)), max_size=12),
    descending=st.booleans(),
    nulls_first=st.booleans(),
)
def test_order_by_sorts_numbers_and_places_nulls(
    amounts: list[int | None], descending: bool, nulls_first: bool
) -> None:
    rows = [
        {"Id": opp(n + 1), "Name": f"o{n}", "Amount": amount, "IsDeleted": False}
        for n, amount in enumerate(amounts)
    ]
    direction = "DESC" if descending else "ASC"
    nulls = "FIRST" if nulls_first else "LAST"
    soql = f"SELECT Amount FROM Opportunity ORDER BY Amount {direction} NULLS {nulls}"
    result = execute_soql(soql, MemorySource({"Opportunity": rows}), api_version="65.0")
    got = [record["Amount"] for record in result.records]
    values: list[float | None] = []
    values += sorted((float(a) for a in amounts if a is not None), reverse=descending)
    empties: list[float | None] = [None] * amounts.count(None)
    assert got == (empties + values if nulls_first else values + empties)


@given(
    limit=st.integers(min_value=0, max_value=8),
    offset=st.integers(min_value=0, max_value=8),
    size=st.integers(min_value=0, max_value=8),
)
def test_limit_and_offset_slice_the_ordered_rows(limit: int, offset: int, size: int) -> None:
    names = [f"n{n:02d}" for n in range(size)]
    soql = f"SELECT Name FROM Account ORDER BY Name LIMIT {limit} OFFSET {offset}"
    result = execute_soql(soql, _org(names[::-1]), api_version="65.0")
    assert [record["Name"] for record in result.records] == names[offset : offset + limit]
