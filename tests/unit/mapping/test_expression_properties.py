"""Properties: any text compiles or fails with ExpressionError; paths never fail on any data."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealbridge.mapping.expressions import (
    LOOKUP_SCOPE_KEY,
    ExpressionError,
    compile_expression,
    compile_stage,
    compile_template,
)

NAMES = ["a", "b", "lines", "const", "x_1", "Id", "not", "and", "in", "null", "true"]
FUNCTIONS = ["trim", "upper", "round", "sum", "date", "coalesce", "lookup", "len", "nope"]
TOKENS = [
    *NAMES,
    *FUNCTIONS,
    "0", "1", "-1", "2.5", "100000000000000000000", "'s'", '"t"', "'\\n'", "'\\q'", "'open",
    "+", "-", "*", "/", "==", "!=", "<", ">=", "|", ".", ",", "(", ")", "[", "]",
    "or", "not in", "{{", "}}", " ", "$",
]  # fmt: skip

token_soup = st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join)
any_text = st.one_of(st.text(max_size=40), token_soup)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
keys = st.sampled_from(["a", "b", "Id", "lines", "x_1"])
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)
    ),
    max_leaves=12,
)
scopes = st.dictionaries(keys, values, max_size=5)


def _lookup(table: str, key: Any) -> Any:
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=any_text, scope=scopes)
def test_any_source_compiles_or_raises_expression_error(source: str, scope: dict[str, Any]) -> None:
    for compile_text in (compile_expression, compile_template, compile_stage):
        try:
            compiled = compile_text(source)
        except ExpressionError:
            continue
        try:
            if hasattr(compiled, "evaluate"):
                compiled.evaluate({**scope, LOOKUP_SCOPE_KEY: _lookup})
            elif hasattr(compiled, "render"):
                compiled.render({**scope, LOOKUP_SCOPE_KEY: _lookup})
            else:
                compiled.apply(scope.get("a"), {**scope, LOOKUP_SCOPE_KEY: _lookup})
        except ExpressionError:
            pass


steps = st.lists(
    st.one_of(
        keys.map(lambda key: ("attr", key)),
        st.integers(-3, 3).map(lambda index: ("index", index)),
        keys.map(lambda key: ("key", key)),
    ),
    max_size=5,
)


def _source(root: str, path: list[tuple[str, Any]]) -> str:
    text = root
    for kind, step in path:
        text += f".{step}" if kind == "attr" else f"[{step!r}]"
    return text


def _reference_walk(value: Any, path: list[tuple[str, Any]]) -> Any:
    for _, step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
    return value


@settings(max_examples=200, deadline=None)
@given(root=keys, path=steps, scope=scopes)
def test_paths_never_raise_and_walk_like_the_data(
    root: str, path: list[tuple[str, Any]], scope: dict[str, Any]
) -> None:
    expression = compile_expression(_source(root, path))
    assert expression.evaluate(scope) == _reference_walk(scope.get(root), path)
    template = compile_template("{{ " + _source(root, path) + " }}")
    assert isinstance(template.render(scope), str)
