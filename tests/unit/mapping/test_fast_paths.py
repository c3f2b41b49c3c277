"""Closures specialised for speed give exactly what the general ones give, errors included.

The compiler binds literal arguments, reads one-step paths inline and calls ``concat``,
``truncate`` and ``lookup`` through shortcuts; each case here checks a shortcut against the
plain function (or the general path walk) on ordinary and odd values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealbridge.mapping.expression_operators import path, step
from dealbridge.mapping.expressions import (
    LOOKUP_SCOPE_KEY,
    ExpressionError,
    compile_expression,
    compile_template,
)
from dealbridge.mapping.functions import concat, lookup
from dealbridge.mapping.transforms import truncate

ODD_VALUES = [
    None,
    "",
    "  ",
    "text",
    "a" * 90,
    0,
    12,
    12.0,
    -1.5,
    True,
    False,
    Decimal("2.50"),
    [],
    ["x", 1],
    {"k": "v"},
    ("t",),
]
values = st.sampled_from(ODD_VALUES) | st.text(max_size=8) | st.floats() | st.integers()


def outcome(run: Any) -> Any:
    """The value, or the error's type and reason (its message without the expression)."""
    try:
        return ("value", run())
    except ExpressionError as error:
        return ("error", type(error).__name__, error.reason)


def general_walk(root: str, keys: tuple[str | int, ...], scope: dict[str, Any]) -> Any:
    value = scope.get(root)
    for key in keys:
        if value is None:
            return None
        value = step(value, key)
    return value


@given(values, values)
def test_concat_shortcut_shows_values_as_the_function_does(a: Any, b: Any) -> None:
    scope = {"x": {"a": a}, "b": b}
    expected = concat("<", a, 1.0, b, None, True)
    assert compile_expression("concat('<', x.a, 1.0, b, null, true)").evaluate(scope) == expected


@given(values)
def test_truncate_shortcut_matches_the_transform(value: Any) -> None:
    scope = {"line": {"name": value}, "three": 3}
    shortcut = outcome(lambda: compile_expression("line.name | truncate(3)").evaluate(scope))
    general = outcome(lambda: compile_expression("line.name | truncate(three)").evaluate(scope))
    assert repr(shortcut) == repr(general)
    if isinstance(value, str):
        assert shortcut == ("value", truncate(value, 3))


@given(values)
def test_lookup_shortcut_resolves_as_the_function_does(key: Any) -> None:
    asked: list[tuple[str, Any]] = []

    def resolve(table: str, found: Any) -> Any:
        asked.append((table, found))
        return f"{table}:{found!r}"

    scope = {"line": {"code": key}, LOOKUP_SCOPE_KEY: resolve}
    assert compile_expression("lookup('item', line.code)").evaluate(scope) == lookup(
        scope, "item", key
    )
    assert asked == [("item", key), ("item", key)]


def test_lookup_shortcut_without_a_resolver_fails_like_the_function() -> None:
    scope = {"line": {"code": "P-1"}}
    shortcut = outcome(lambda: compile_expression("lookup('item', line.code)").evaluate(scope))
    general = outcome(
        lambda: compile_expression("lookup('item', coalesce(line.code))").evaluate(scope)
    )
    assert shortcut == general
    assert shortcut[0] == "error"


@pytest.mark.parametrize("source", ["'P-' + x.a", "x.a + '-P'", "x.a * 2", "2 - x.a", "x.a / 0"])
@given(value=values)
def test_arithmetic_with_a_literal_matches_the_general_operator(source: str, value: Any) -> None:
    scope = {"x": {"a": value}, "two": 2, "zero": 0, "p": "P-", "s": "-P"}
    general = source.replace("'P-'", "p").replace("'-P'", "s").replace("2", "two")
    general = general.replace("0", "zero")
    expected = outcome(lambda: compile_expression(general).evaluate(scope))
    actual = outcome(lambda: compile_expression(source).evaluate(scope))
    assert repr(actual) == repr(expected)  # nan is not equal to itself


@given(values, values)
def test_two_step_paths_read_like_the_general_walk(first: Any, second: Any) -> None:
    for scope in (
        {"a": {"b": {"c": first}}},
        {"a": {"b": first}},
        {"a": [first, second]},
        {"a": first},
        {"a": {"b": [first, second]}},
    ):
        for keys in (("b", "c"), ("b", 1)):
            assert repr(path("a", keys)(scope)) == repr(general_walk("a", keys, scope))


@given(values)
def test_a_template_hole_that_is_a_path_renders_like_any_hole(value: Any) -> None:
    scope = {"plan": {"key": value}}
    inline = compile_template("SFPP-{{ plan.key }}").render(scope)
    assert inline == compile_template("SFPP-{{ plan.key or plan.key }}").render(scope)
    assert compile_template("{{ plan.key }}-x").render(scope) == inline[5:] + "-x"


def test_an_expression_knows_when_it_is_a_one_step_path() -> None:
    assert compile_expression("line.code").read == ("line", "code")
    assert compile_expression("lines[0]").read == ("lines", 0)
    assert compile_expression("line.product.code").read is None
    assert compile_expression("line").read is None
    assert compile_expression("line.code | trim").read is None
