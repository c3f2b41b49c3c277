"""The expression language: values, null-safety, operators, calls, pipes, templates, errors."""

from __future__ import annotations

import pickle
from decimal import Decimal
from typing import Any

import pytest

from dealbridge.errors import ConfigError, TransientError
from dealbridge.mapping.expressions import (
    DEFAULT_FUNCTIONS,
    LOOKUP_SCOPE_KEY,
    ExpressionError,
    FunctionRegistry,
    TransformError,
    compile_expression,
    compile_stage,
    compile_template,
)

TABLES = {"frequency": {"monthly": "MONTHLY", "annual": "ANNUAL"}}


def _lookup(table: str, key: Any) -> Any:
    return TABLES.get(table, {}).get(str(key).lower())


SCOPE: dict[str, Any] = {
    "opportunity": {"Id": "006A", "IsWon": True, "Amount": 1200.0, "Type": "New Business"},
    "account": {"Id": "001A", "Name": "  Acme Corp  ", "BillingCountry": None, "Parent": None},
    "lines": [
        {"Id": "a0L1", "Qty": 2.0, "Price": 10.5, "Product": {"Code": "P-1"}, "Freq": "Monthly"},
        {"Id": "a0L2", "Qty": 1.0, "Price": 99.99, "Product": None, "Freq": "Annual"},
    ],
    "const": {"currency": "USD", "limit": 4, "codes": ["P-1", "P-9"]},
    "empty": [],
    "flag": False,
    "zero": 0,
    "text": "abc",
    LOOKUP_SCOPE_KEY: _lookup,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # paths
        ("account.Id", "001A"),
        ("account.Name", "  Acme Corp  "),
        ("lines[0].Product.Code", "P-1"),
        ("lines[1].Product.Code", None),
        ("lines[-1].Id", "a0L2"),
        ("lines[5].Id", None),
        ("account.Missing", None),
        ("account.Missing.Deeper.Still", None),
        ("nobody.knows", None),
        ("account.Parent.Name", None),
        ("text.length", None),
        ("lines.Id", None),
        ("account['Id']", "001A"),
        ("lines[zero].Id", "a0L1"),
        ("(lines | first).Id", "a0L1"),
        ("const.currency", "USD"),
        # literals
        ("'single'", "single"),
        ('"double"', "double"),
        (r"'it\'s'", "it's"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'a\\b'", "a\\b"),
        (r"'line\nbreak'", "line\nbreak"),
        ("42", 42),
        ("3.25", 3.25),
        ("true", True),
        ("false", False),
        ("null", None),
        ("['A', 'B']", ["A", "B"]),
        ("[]", []),
        ("[account.Id, 1]", ["001A", 1]),
        # arithmetic
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("lines[0].Qty * lines[0].Price", 21.0),
        ("-lines[0].Qty", -2.0),
        ("- -3", 3),
        ("10 - 4 - 3", 3),
        ("'SF' + 'ACC'", "SFACC"),
        ("account.BillingCountry + 1", None),
        ("opportunity.Amount / 12", 100.0),
        # comparison
        ("opportunity.Amount == 1200", True),
        ("opportunity.Amount != 1200", False),
        ("account.BillingCountry == null", True),
        ("account.BillingCountry != null", False),
        ("null == null", True),
        ("0 == null", False),
        ("account.BillingCountry < 3", False),
        ("account.BillingCountry >= 3", False),
        ("'2024-03-01' <= '2024-12-31'", True),
        ("2 > 1", True),
        ("2 >= 2.0", True),
        # membership
        ("lines[0].Product.Code in const.codes", True),
        ("lines[0].Product.Code not in const.codes", False),
        ("opportunity.Type in ['New Business', 'Renewal']", True),
        ("opportunity.Type not in ['Renewal']", True),
        ("'Acme' in account.Name", True),
        ("'x' in account.BillingCountry", False),
        ("'Id' in account", True),
        ("account.Parent in ['A']", False),
        # logic: short-circuit, Python truthiness, operand values
        ("opportunity.IsWon and opportunity.Amount > 0", True),
        ("flag and missing_function_is_never_called", False),
        ("account.BillingCountry or 'Unknown'", "Unknown"),
        ("account.Id or 'Unknown'", "001A"),
        ("not empty", True),
        ("not lines", False),
        ("not zero", True),
        ("not text", False),
        ("empty or 'none'", "none"),
        ("not account.Id == '001A'", False),
        # calls and pipes
        ("coalesce(account.BillingCountry, account.Parent, 'US')", "US"),
        ("coalesce()", None),
        ("concat(account.Id, '-', opportunity.Amount)", "001A-1200"),
        ("concat(account.BillingCountry, 'x')", "x"),
        ("len(account.Id)", 4),
        ("len(lines)", 2),
        ("len(account.BillingCountry)", 0),
        ("lower(opportunity.Type)", "new business"),
        ("account.Name | trim", "Acme Corp"),
        ("account.Name | trim | upper | truncate(4)", "ACME"),
        ("account.Name | trim | truncate(const.limit)", "Acme"),
        ("lines | pluck('Price') | sum", 110.49),
        ("lines | pluck('Qty') | sum | integer", 3),
        ("lines[0].Qty * lines[0].Price | round(1)", 21.0),
        ("(opportunity.Type | lower) == 'new business'", True),
        ("lookup('frequency', lines[0].Freq)", "MONTHLY"),
        ("lookup('frequency', 'weekly')", None),
        ("coalesce(account.BillingCountry | upper, 'none')", "none"),
        ("'%Y' | upper", "%Y"),
        ("[1, 2, 1] | unique | count", 2),
        ("trim(account.Name) | upper", "ACME CORP"),
    ],
)
def test_evaluates(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate(SCOPE) == expected


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("account.", 9, "expected a name"),
        ("account +", 10, "unexpected end of expression"),
        ("1 < 2 < 3", 7, "unexpected '<'"),
        ("a b", 3, "unexpected 'b'"),
        ("a $ b", 3, "unexpected character '$'"),
        ("'unterminated", 1, "unterminated string"),
        ("f(1,", 5, "unexpected end of expression"),
        ("(a", 3, "expected ')'"),
        ("x | lower == 'a'", 11, "unexpected '=='"),
        ("nope(1)", 1, "unknown function 'nope'"),
        ("a | trm", 5, "did you mean 'trim'?"),
        ("a | truncate", 5, "truncate(value, length) cannot take 1 argument"),
        ("coalesce(a) | round(1, 2, 3)", 15, "round(value, places=2) cannot take 4 arguments"),
        (r"'bad \q escape'", 6, r"unknown escape '\q'"),
        ("   ", 1, "the expression is empty"),
        ("'abc' | integer", 1, "integer: expects numeric text"),
        ("1 / 0", 1, "division by zero"),
        ("x + ('a' < 1)", 6, "cannot compare text with number using '<'"),
        ("-'a'", 1, "cannot negate text"),
        ("[1] + 1", 1, "cannot apply '+' to list and number"),
        ("1 in 'abc'", 1, "cannot look for number in text"),
        ("'a' in 5", 1, "'in' needs a list or text on its right"),
    ],
)
def test_compile_errors_name_source_and_column(source: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert caught.value.column == column
    assert fragment in str(caught.value)
    assert repr(source) in str(caught.value)


def test_syntax_error_lists_what_was_expected() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("account +")
    assert "a name" in caught.value.expected
    assert "a number" in caught.value.expected
    assert "'('" in caught.value.expected


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("text + 1", "cannot apply '+' to text and number"),
        ("lines[0].Price / zero", "division by zero"),
        ("text < 1", "cannot compare text with number"),
        ("-text", "cannot negate text"),
        ("flag + 1", "cannot apply '+' to boolean and number"),
        ("text | integer", "integer: expects numeric text, got text 'abc'"),
        ("lines | upper", "upper: expects text, got list"),
        ("1 in text", "cannot look for number in text"),
        ("'a' in zero", "'in' needs a list or text"),
    ],
)
def test_evaluation_errors_name_the_expression(source: str, fragment: str) -> None:
    expression = compile_expression(source)
    with pytest.raises(ExpressionError) as caught:
        expression.evaluate(SCOPE)
    assert fragment in str(caught.value)
    assert caught.value.source == source
    assert str(caught.value).startswith(f"expression {source!r}")


def test_transform_errors_keep_their_class_and_transform_name() -> None:
    with pytest.raises(TransformError) as caught:
        compile_expression("text | number").evaluate(SCOPE)
    assert caught.value.transform == "number"
    assert caught.value.value_type == "text"
    assert isinstance(caught.value, ConfigError)


def test_lookup_without_engine_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="__lookup__"):
        compile_expression("lookup('frequency', 'x')").evaluate({})


def test_engine_errors_from_lookup_pass_through_with_their_retry_class() -> None:
    def failing(table: str, key: Any) -> Any:
        raise TransientError("NetSuite is down", system="netsuite")

    with pytest.raises(TransientError):
        compile_expression("lookup('t', 1)").evaluate({LOOKUP_SCOPE_KEY: failing})


def test_foreign_exceptions_become_expression_errors() -> None:
    registry = DEFAULT_FUNCTIONS.copy()
    registry.register("explode", lambda value: {}[value], pure=False)
    with pytest.raises(ExpressionError, match="KeyError") as caught:
        compile_expression("explode(text)", functions=registry).evaluate(SCOPE)
    assert isinstance(caught.value.__cause__, KeyError)


def test_expression_errors_survive_pickling() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("text | integer").evaluate(SCOPE)
    restored = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert str(restored) == str(caught.value)
    assert type(restored) is TransformError


def test_names_paths_functions_and_lookups_are_reported() -> None:
    expression = compile_expression(
        "lookup('frequency', line.Freq) or coalesce(const.currency, account.Name | trim)"
    )
    assert expression.names == {"line", "const", "account"}
    assert ("const", "currency") in expression.paths
    assert expression.functions == {"lookup", "coalesce", "trim"}
    assert expression.lookups == {"frequency"}


def test_constant_parts_are_folded() -> None:
    assert compile_expression("'a' + 'b' | upper").is_constant
    assert not compile_expression("account.Id").is_constant
    assert not compile_expression("lookup('t', 'k')").is_constant


def test_constant_lists_are_fresh_per_evaluation() -> None:
    expression = compile_expression("['A', 'B']")
    first = expression.evaluate({})
    first.append("C")
    assert expression.evaluate({}) == ["A", "B"]


def test_compiled_expressions_are_cached_by_source_and_registry() -> None:
    assert compile_expression("account.Id") is compile_expression("account.Id")
    other = DEFAULT_FUNCTIONS.copy()
    assert compile_expression("account.Id", functions=other) is not compile_expression("account.Id")


def test_registering_a_function_makes_it_callable_and_invalidates_the_cache() -> None:
    registry = FunctionRegistry()
    with pytest.raises(ExpressionError, match="unknown function 'double'"):
        compile_expression("double(2)", functions=registry)
    registry.register("double", lambda value: value * 2)
    assert compile_expression("2 | double", functions=registry).evaluate({}) == 4


def test_registry_refuses_duplicates_and_bad_names() -> None:
    registry = DEFAULT_FUNCTIONS.copy()
    with pytest.raises(ValueError, match="already registered"):
        registry.register("trim", str.strip)
    with pytest.raises(ValueError, match="not an identifier"):
        registry.register("not-a-name", str.strip)
    assert "trim" in registry
    assert registry.get("nothing") is None


def test_every_default_function_documents_itself() -> None:
    for name in DEFAULT_FUNCTIONS.names():
        function = DEFAULT_FUNCTIONS.get(name)
        assert function is not None
        assert function.doc, name


def test_decimals_from_hooks_mix_with_floats() -> None:
    expression = compile_expression("amount * 2.0 + 1")
    assert expression.evaluate({"amount": Decimal("1.5")}) == 4.0


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises(ExpressionError, match="nests"):
        compile_expression(" + ".join(["a"] * 150))


def test_overlong_source_is_refused() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        compile_expression("a" * 10_001)


def test_non_text_source_is_refused() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        compile_expression(3)  # type: ignore[arg-type]


# --- templates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("SFACC-{{ account.Id }}", "SFACC-001A"),
        ("plain text", "plain text"),
        ("", ""),
        ("{{account.Id}}{{ opportunity.Id }}", "001A006A"),
        ("SFBA-{{ account.Id }}-{{ const.currency }}-{{ lines[0].Qty * 6 }}", "SFBA-001A-USD-12"),
        ("[{{ account.BillingCountry }}]", "[]"),
        ("{{ lines[0].Price }}", "10.5"),
        ("{{ opportunity.IsWon }}", "true"),
        ("{{ '}}' }} and {{ \"{{\" }}", "}} and {{"),
        ("{{ const.codes }}", '["P-1","P-9"]'),
        ("single } brace", "single } brace"),
    ],
)
def test_template_renders(source: str, expected: str) -> None:
    assert compile_template(source).render(SCOPE) == expected


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("SFACC-{{ account.Id", 7, "'{{' is never closed"),
        ("x{{ }}", 4, "the expression is empty"),
        ("id-{{ account. }}", 16, "expected a name"),
        ("{{ nope() }}", 4, "unknown function 'nope'"),
    ],
)
def test_template_errors_count_columns_from_the_template(
    source: str, column: int, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_template(source)
    assert caught.value.column == column
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"template {source!r}")


def test_template_facts_and_constancy() -> None:
    template = compile_template("SFSUB-{{ item.Id }}-{{ lookup('t', const.x) }}")
    assert template.names == {"item", "const"}
    assert template.lookups == {"t"}
    assert ("const", "x") in template.paths
    assert compile_template("no holes").is_constant
    assert compile_template("{{ 1 + 1 }}").is_constant
    assert not template.is_constant


def test_template_render_errors_name_the_template() -> None:
    template = compile_template("X-{{ text | integer }}")
    with pytest.raises(TransformError) as caught:
        template.render(SCOPE)
    assert str(caught.value).startswith("template 'X-{{ text | integer }}'")


# --- pipeline stages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "value", "expected"),
    [
        ("trim", "  a ", "a"),
        ("truncate(3)", "abcdef", "abc"),
        ("truncate(const.limit)", "abcdef", "abcd"),
        ("default('n/a')", None, "n/a"),
        ("date('%d/%m/%Y')", "2024-03-01", "01/03/2024"),
        ("lookup('annual')", "frequency", "ANNUAL"),
    ],
)
def test_stage_applies_with_value_first(stage: str, value: Any, expected: Any) -> None:
    assert compile_stage(stage).apply(value, SCOPE) == expected


@pytest.mark.parametrize(
    ("stage", "fragment"),
    [
        ("truncate", "truncate(value, length) cannot take 1 argument (the piped value"),
        ("nope", "unknown function 'nope'"),
        ("trim | upper", "unexpected '|'"),
        ("account.Name", "unexpected '.'"),
    ],
)
def test_stage_compile_errors(stage: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_stage(stage)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"transform {stage!r}")


def test_stage_facts() -> None:
    stage = compile_stage("truncate(const.limit)")
    assert stage.name == "truncate"
    assert stage.names == {"const"}
    assert ("const", "limit") in stage.paths
    assert compile_stage("lookup('annual')").lookups == frozenset()


def test_stage_errors_name_the_stage() -> None:
    with pytest.raises(TransformError) as caught:
        compile_stage("upper").apply(3, {})
    assert str(caught.value).startswith("transform 'upper': upper: expects text")
