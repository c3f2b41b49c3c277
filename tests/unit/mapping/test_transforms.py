"""Every registered transform: results, null handling, and the errors for wrong input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from dealbridge.mapping.expressions import DEFAULT_FUNCTIONS, TransformError
from dealbridge.mapping.transforms import TRANSFORMS


def call(name: str, *args: Any) -> Any:
    function = DEFAULT_FUNCTIONS.get(name)
    assert function is not None, name
    return function.fn(*args)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("trim", ("  Acme  ",), "Acme"),
        ("upper", ("eur",), "EUR"),
        ("lower", ("Annual",), "annual"),
        ("title", ("ACME corp",), "Acme Corp"),
        ("truncate", ("abcdef", 3), "abc"),
        ("truncate", ("abc", 83), "abc"),
        ("truncate", ("abcdef", 3.0), "abc"),
        ("truncate", ("Zürich", 2), "Zü"),
        ("default", (None, "n/a"), "n/a"),
        ("default", ("", "n/a"), "n/a"),
        ("default", ("x", "n/a"), "x"),
        ("default", (0, 5), 0),
        ("date", ("2024-03-01",), "2024-03-01"),
        ("date", ("2013-05-20T20:49:32.000+0000",), "2013-05-20"),
        ("date", ("2013-05-20T23:49:32Z",), "2013-05-20"),
        ("date", ("2013-05-20T23:49:32-05:00",), "2013-05-21"),
        ("date", ("2013-05-20T20:49:32",), "2013-05-20"),
        ("date", ("2024-03-01", "%d/%m/%Y"), "01/03/2024"),
        ("date", (dt.date(2024, 2, 29), "%m/%d/%Y"), "02/29/2024"),
        ("date", (dt.datetime(2024, 2, 29, 23, 0, tzinfo=dt.UTC),), "2024-02-29"),
        ("datetime_utc", ("2013-05-20T22:49:32+02:00",), "2013-05-20T20:49:32Z"),
        ("datetime_utc", ("2013-05-20T20:49:32.123+0000",), "2013-05-20T20:49:32Z"),
        ("datetime_utc", ("2024-03-01",), "2024-03-01T00:00:00Z"),
        ("datetime_utc", (dt.datetime(2024, 3, 1, 12, 30),), "2024-03-01T12:30:00Z"),
        ("add_months", ("2024-01-31", 1), "2024-02-29"),
        ("add_months", ("2024-03-15", 12), "2025-03-15"),
        ("add_months", ("2024-03-15", 12.0), "2025-03-15"),
        ("add_months", ("2024-03-31", -1), "2024-02-29"),
        ("add_months", ("2024-11-30", 3), "2025-02-28"),
        ("add_months", ("2013-05-20T20:49:32.000+0000", 1), "2013-06-20"),
        ("add_days", ("2024-02-28", 1), "2024-02-29"),
        ("add_days", ("2025-03-15", -1), "2025-03-14"),
        ("round", (2.675,), 2.68),
        ("round", (2.665, 2), 2.67),
        ("round", (-2.675, 2), -2.68),
        ("round", (1.005, 2), 1.01),
        ("round", (10.5,), 10.5),
        ("round", (2.5, 0), 3),
        ("round", (3.5, 0), 4),
        ("round", (1234.5, -2), 1200),
        ("round", (7, 2), 7.0),
        ("round", (Decimal("2.345"), 2), 2.35),
        ("number", ("1250.50",), 1250.5),
        ("number", (" 12 ",), 12.0),
        ("number", (3,), 3.0),
        ("number", (Decimal("1.25"),), 1.25),
        ("integer", (12.0,), 12),
        ("integer", ("7",), 7),
        ("integer", ("12.0",), 12),
        ("integer", (5,), 5),
        ("string", (12.0,), "12"),
        ("string", (12.5,), "12.5"),
        ("string", (True,), "true"),
        ("string", ("x",), "x"),
        ("bool", ("true",), True),
        ("bool", ("No",), False),
        ("bool", ("1",), True),
        ("bool", (0,), False),
        ("bool", (1.0,), True),
        ("bool", (False,), False),
        ("split_name", ("Mary Ann Smith", "first"), "Mary Ann"),
        ("split_name", ("Mary Ann Smith", "last"), "Smith"),
        ("split_name", ("Cher", "last"), "Cher"),
        ("split_name", ("Cher", "first"), None),
        ("split_name", ("   ", "last"), None),
        ("currency_code", (" usd",), "USD"),
        ("currency_code", ("EUR",), "EUR"),
        ("email", ("  Jane.Doe@Example.COM ",), "jane.doe@example.com"),
        ("phone", ("+1 (555) 010-9999 ext.",), "+1 (555) 010-9999"),
        ("phone", ("0049  30 1234",), "0049 30 1234"),
        ("phone", (5550100,), "5550100"),
        ("digits", ("VAT GB-123 456",), "123456"),
        ("digits", (42,), "42"),
        ("slug", ("Müller & Co.",), "Muller-Co"),
        ("slug", ("  a__b--c  ",), "a__b--c"),
        ("slug", (12.0,), "12"),
        ("join", (["A", None, "B"], " / "), "A / B"),
        ("join", ([1.0, 2.5],), "1, 2.5"),
        ("join", ([],), ""),
        ("pluck", ([{"a": 1}, {"b": 2}, "x"], "a"), [1, None, None]),
        ("sum", ([0.1, 0.2],), 0.3),
        ("sum", ([1, 2, None],), 3),
        ("sum", ([],), 0),
        ("sum", ([1, 2.5, Decimal("0.5")],), 4.0),
        ("min", ([3, None, 1, 2],), 1),
        ("min", (["2024-03-01", "2024-01-01"],), "2024-01-01"),
        ("min", ([],), None),
        ("max", ([3, None, 1, 2],), 3),
        ("max", ([None],), None),
        ("unique", (["A", "B", "A"],), ["A", "B"]),
        ("unique", ([{"a": 1}, {"a": 1}, [1]],), [{"a": 1}, [1]]),
        ("first", ([1, 2],), 1),
        ("first", ([],), None),
        ("last", ([1, 2],), 2),
        ("last", ((),), None),
        ("count", ([1, None],), 2),
        ("count", (None,), 0),
        ("coalesce", (None, "", "x"), ""),
        ("concat", ("a", None, 1.0, True), "a1true"),
        ("len", ("abc",), 3),
        ("len", ({"a": 1},), 1),
        ("len", (None,), 0),
    ],
)
def test_transform_results(name: str, args: tuple[Any, ...], expected: Any) -> None:
    result = call(name, *args)
    assert result == expected
    assert type(result) is type(expected)


NULL_PASSING = sorted(set(TRANSFORMS) - {"default", "count"})
EXTRA_ARGS: dict[str, tuple[Any, ...]] = {
    "truncate": (3,),
    "split_name": ("first",),
    "add_months": (1,),
    "add_days": (1,),
    "pluck": ("a",),
}


@pytest.mark.parametrize("name", NULL_PASSING)
def test_null_passes_through(name: str) -> None:
    assert call(name, None, *EXTRA_ARGS.get(name, ())) is None


def test_every_transform_is_registered_pure_and_documented() -> None:
    for name, fn in TRANSFORMS.items():
        function = DEFAULT_FUNCTIONS.get(name)
        assert function is not None
        assert function.fn is fn
        assert function.pure
        assert (fn.__doc__ or "").strip(), name


@pytest.mark.parametrize(
    ("name", "args", "fragment", "value_type"),
    [
        ("trim", (3,), "trim: expects text", "number"),
        ("upper", ([1],), "upper: expects text", "list"),
        ("lower", (True,), "lower: expects text", "boolean"),
        ("title", ({"a": 1},), "title: expects text", "mapping"),
        ("truncate", ("abc", "3"), "truncate: expects a whole number", "text"),
        ("truncate", ("abc", 2.5), "truncate: expects a whole number", "number"),
        ("truncate", ("abc", -1), "truncate: expects a length of 0 or more", "number"),
        ("truncate", (5, 2), "truncate: expects text", "number"),
        ("date", ("03/01/2024",), "date: expects an ISO date or datetime", "text"),
        ("date", (20240301,), "date: expects text", "number"),
        ("date", ("2024-03-01", 5), "date: expects text", "number"),
        ("datetime_utc", ("yesterday",), "datetime_utc: expects an ISO date", "text"),
        ("add_months", ("2024-01-01", "one"), "add_months: expects a whole number", "text"),
        ("add_months", ("9999-12-01", 1), "add_months: goes past the supported years", "number"),
        ("add_days", ("0001-01-01", -1), "add_days: goes past the supported years", "number"),
        ("round", ("2.5",), "round: expects a number", "text"),
        ("round", (True,), "round: expects a number", "boolean"),
        ("round", (1.5, 11), "round: expects between -10 and 10 places", "number"),
        ("round", (float("inf"), 0), "round: cannot round", "number"),
        ("number", ("12,5",), "number: expects numeric text", "text"),
        ("number", ("nan",), "number: expects a finite number", "text"),
        ("number", (True,), "number: expects a number or numeric text", "boolean"),
        ("integer", (2.5,), "integer: expects a whole number", "number"),
        ("integer", ("x",), "integer: expects numeric text", "text"),
        ("bool", ("maybe",), "bool: expects true/false", "text"),
        ("bool", (2,), "bool: expects true/false", "number"),
        ("split_name", ("A B", "middle"), "split_name: expects 'first' or 'last'", "text"),
        ("split_name", (3, "last"), "split_name: expects text", "number"),
        ("currency_code", ("dollars",), "currency_code: expects a three-letter", "text"),
        ("currency_code", ("US1",), "currency_code: expects a three-letter", "text"),
        ("email", (3,), "email: expects text", "number"),
        ("phone", (1.5,), "phone: expects text", "number"),
        ("digits", ([1],), "digits: expects text", "list"),
        ("slug", ([1],), "slug: expects text", "list"),
        ("join", ("abc", ","), "join: expects a list", "text"),
        ("join", (["a"], 1), "join: expects text", "number"),
        ("pluck", ({"a": 1}, "a"), "pluck: expects a list", "mapping"),
        ("sum", ([1, "2"],), "sum: expects a list of numbers", "text"),
        ("sum", ("12",), "sum: expects a list", "text"),
        ("min", ([1, "a"],), "min: expects items of one comparable kind", "list"),
        ("max", ([{}, {}],), "max: expects items of one comparable kind", "list"),
        ("unique", ("ab",), "unique: expects a list", "text"),
        ("first", ("ab",), "first: expects a list", "text"),
        ("last", (3,), "last: expects a list", "number"),
        ("count", ("ab",), "count: expects a list", "text"),
        ("len", (3,), "len: expects text or a list", "number"),
        ("lookup", ({"__lookup__": print}, 3, "k"), "lookup: expects a table name", "number"),
    ],
)
def test_wrong_input_raises_transform_error(
    name: str, args: tuple[Any, ...], fragment: str, value_type: str
) -> None:
    with pytest.raises(TransformError) as caught:
        call(name, *args)
    assert fragment in str(caught.value)
    assert caught.value.transform == name
    assert caught.value.value_type == value_type


def test_long_values_are_cut_in_error_messages() -> None:
    with pytest.raises(TransformError) as caught:
        call("integer", "x" * 500)
    message = str(caught.value)
    assert "x" * 70 in message
    assert "x" * 100 not in message
    assert len(message) < 200


@pytest.mark.parametrize(
    ("fn", "value"),
    [
        (lambda v: call("round", v, 2), 0.1 + 0.2),
        (lambda v: call("sum", [v, v, v]), 0.1),
    ],
)
def test_finance_arithmetic_is_as_written(fn: Callable[[Any], Any], value: float) -> None:
    assert fn(value) == 0.3
