"""Every rule kind of ``spec.Rule``, its default sentence, truncation, warnings and checks."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.core.records import SourceRecord, Violation
from dealbridge.errors import ConfigError
from dealbridge.mapping.expressions import compile_expression, compile_template
from dealbridge.mapping.spec import CheckSpec, Rule
from dealbridge.mapping.validate import (
    CompiledCheck,
    CompiledRule,
    Subject,
    check_value,
    compile_rules,
    run_checks,
)

SOURCE = SourceRecord("Account", "001000000000001AAA")
SUBJECT = Subject(SOURCE, "customer", "companyName", "account name")


def run(
    rule: dict[str, Any], value: Any, scope: dict[str, Any] | None = None
) -> tuple[Any, list[Violation]]:
    out: list[Violation] = []
    rules = compile_rules([Rule(**rule)], compile_template)
    result = check_value(rules, value, SUBJECT, scope or {}, out)
    return result, out


def passes(rule: dict[str, Any], value: Any) -> bool:
    return CompiledRule(Rule(**rule), compile_template).passes(value)


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        ({"required": True}, "Acme", None),
        ({"required": True}, 0, ""),
        ({"required": True}, ["x"], []),
        ({"resolves": True}, "1", None),
        ({"type": "string"}, "x", 5),
        ({"type": "integer"}, 12.0, 12.5),
        ({"type": "integer"}, 3, True),
        ({"type": "number"}, 2.5, "2.5"),
        ({"type": "boolean"}, False, "false"),
        ({"type": "date"}, "2026-02-28", "2026-02-30"),
        ({"type": "date"}, "2026-01-01", "01/02/2026"),
        ({"type": "datetime"}, "2026-01-01T10:00:00+00:00", "yesterday"),
        ({"max_length": 3}, "abc", "abcd"),
        ({"min_length": 2}, "ab", "a"),
        ({"pattern": "^[A-Z]{3}$"}, "USD", "usd"),
        ({"pattern": "-"}, "A-B", "AB"),
        ({"email": True}, "dana@acme.example", "dana(at)acme"),
        ({"email": True}, "a.b+c@x.co.uk", "a b@x.co"),
        ({"allowed": ["Monthly", "Annual"]}, "Annual", "Weekly"),
        ({"minimum": 0}, 0, -0.01),
        ({"maximum": 100}, 100, 100.5),
        ({"exclusive_minimum": 0}, 0.5, 0),
        ({"minimum": 0}, 1, "1"),
        ({"maximum": 1}, 1, True),
    ],
)
def test_each_rule_kind_passes_good_values_and_fails_bad_ones(
    rule: dict[str, Any], good: Any, bad: Any
) -> None:
    assert passes(rule, good)
    assert not passes(rule, bad)


@pytest.mark.parametrize(
    "rule",
    [{"type": "integer"}, {"max_length": 1}, {"min_length": 5}, {"pattern": "x"}, {"email": True},
     {"allowed": [1]}, {"minimum": 1}, {"maximum": 0}, {"exclusive_minimum": 0}],
)  # fmt: skip
def test_a_null_value_passes_every_rule_but_required_and_resolves(rule: dict[str, Any]) -> None:
    assert passes(rule, None)


def test_disabled_flags_always_pass() -> None:
    assert passes({"required": False}, None)
    assert passes({"resolves": False}, None)
    assert passes({"email": False}, "nope")


def test_max_length_error_says_how_long_and_the_limit() -> None:
    name = "Riverbend Analytics Group International Holdings and Consolidated " * 2
    value, out = run({"max_length": 83}, name)
    assert value == name
    (violation,) = out
    assert violation.message == (
        "The account name 'Riverbend Analytics Group International …' is 132 characters "
        "long; NetSuite allows at most 83."
    )
    assert (violation.rule, violation.severity, violation.field_path) == (
        "max_length", "error", "companyName",
    )  # fmt: skip
    assert violation.source == SOURCE
    assert violation.record == "customer"


def test_truncate_cuts_the_value_and_reports_a_warning() -> None:
    value, out = run({"max_length": 5, "on_violation": "truncate"}, "Acme Analytics")
    assert value == "Acme "
    (violation,) = out
    assert violation.severity == "warning"
    assert "was shortened to the 5 characters NetSuite allows" in violation.message


def test_warn_keeps_the_value_and_reports_a_warning() -> None:
    value, out = run({"max_length": 5, "on_violation": "warn"}, "Acme Analytics")
    assert value == "Acme Analytics"
    assert [v.severity for v in out] == ["warning"]


@pytest.mark.parametrize(
    ("rule", "value", "sentence"),
    [
        ({"required": True}, None, "The account name is missing; NetSuite needs it."),
        ({"resolves": True}, None, "The account name has no matching NetSuite record."),
        ({"type": "date"}, "tomorrow",
         "The account name 'tomorrow' is not a valid date (YYYY-MM-DD)."),
        ({"min_length": 3}, "ab",
         "The account name 'ab' is 2 characters long; it needs at least 3."),
        ({"pattern": "^A"}, "Bcme", "The account name 'Bcme' does not have the expected format."),
        ({"email": True}, "x@", "The account name 'x@' is not a valid email address."),
        ({"allowed": ["A", "B"]}, "C",
         "The account name 'C' is not one of the allowed values: 'A', 'B'."),
        ({"minimum": 0}, -5.0, "The account name is -5; it must be at least 0."),
        ({"maximum": 100}, 120, "The account name is 120; it must be at most 100."),
        ({"exclusive_minimum": 0}, 0, "The account name is 0; it must be more than 0."),
        ({"minimum": 0}, "many", "The account name 'many' is not a number."),
    ],
)  # fmt: skip
def test_default_sentences(rule: dict[str, Any], value: Any, sentence: str) -> None:
    _, (violation,) = run(rule, value)
    assert violation.message == sentence


def test_resolves_names_the_lookup_table_and_key() -> None:
    out: list[Violation] = []
    rules = compile_rules([Rule(resolves=True)], compile_template)
    check_value(rules, None, SUBJECT, {}, out, lambda: ("item_by_code", "LEGACY-ADDON"))
    assert out[0].message == (
        "The account name 'LEGACY-ADDON' has no matching NetSuite record "
        "(lookup table 'item_by_code')."
    )
    out.clear()
    check_value(rules, None, SUBJECT, {}, out, lambda: ("item_by_code", None))
    assert out[0].message == "The account name is empty, so no NetSuite record can be found for it."


def test_a_message_template_overrides_the_sentence_and_sees_the_scope() -> None:
    rule = {
        "exclusive_minimum": 0,
        "message": "Line {{ line.n }} has quantity {{ value }} (> {{ limit }}).",
    }
    _, (violation,) = run(rule, 0, {"line": {"n": 3}})
    assert violation.message == "Line 3 has quantity 0 (> 0)."


def test_a_failing_message_template_falls_back_to_the_default_sentence() -> None:
    rule = {"required": True, "message": "{{ line.n + 'x' }}"}
    _, (violation,) = run(rule, None, {"line": {"n": 1}})
    assert violation.message.startswith("The account name is missing; NetSuite needs it. (The flow")


def test_every_failed_rule_is_reported() -> None:
    rules = [Rule(min_length=10), Rule(pattern="^[0-9]+$")]
    out: list[Violation] = []
    check_value(compile_rules(rules, compile_template), "abc", SUBJECT, {}, out)
    assert [v.rule for v in out] == ["min_length", "pattern"]


def test_an_invalid_pattern_is_a_flow_error() -> None:
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        CompiledRule(Rule(pattern="(unclosed"), compile_template)


def test_checks_report_a_violation_when_the_condition_is_false() -> None:
    spec = CheckSpec(
        check="item.end >= item.start",
        field="endDate",
        rule="end_before_start",
        message="Ends {{ item.end }} before {{ item.start }}.",
        when="item.end",
    )
    checks = [CompiledCheck(spec, compile_expression, compile_template)]
    out: list[Violation] = []
    run_checks(checks, {"item": {"start": "2026-06-01", "end": "2026-05-01"}}, SOURCE, "sub", out)
    run_checks(checks, {"item": {"start": "2026-06-01", "end": "2026-07-01"}}, SOURCE, "sub", out)
    run_checks(checks, {"item": {"start": "2026-06-01", "end": None}}, SOURCE, "sub", out)
    (violation,) = out
    assert (violation.field_path, violation.rule, violation.record) == (
        "endDate", "end_before_start", "sub",
    )  # fmt: skip
    assert violation.message == "Ends 2026-05-01 before 2026-06-01."
