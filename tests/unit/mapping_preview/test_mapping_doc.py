"""``docs/mapping.md`` never drifts from the code.

Two blocks of the page are generated here — every registered function (its call, docstring and
an example) and every validation rule (a rule, a failing value and the built-in sentence) —
and compared with the page; ``UPDATE_GOLDEN=1`` (as for golden plans) with this file rewrites
them. Each function example is evaluated, so the page cannot show a wrong result, and a
function registered without an example fails the test. Every key of the flow schema must be
named on the page too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from dealbridge.mapping import spec
from dealbridge.mapping.expressions import (
    DEFAULT_FUNCTIONS,
    LOOKUP_SCOPE_KEY,
    compile_expression,
    compile_template,
)
from dealbridge.mapping.validate import CompiledRule, default_message

DOC = Path(__file__).resolve().parents[3] / "docs" / "mapping.md"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
THIS_FILE = "tests/unit/mapping_preview/test_mapping_doc.py"
RULE_KINDS = set(spec.Rule.model_fields) - {"on_violation", "message"}

SCOPE: dict[str, Any] = {
    "lines": [{"ProductCode": "PLAT-PRO"}, {"ProductCode": "SUPPORT"}],
    LOOKUP_SCOPE_KEY: lambda table, key: {"Germany": "DE"}.get(key),
}
EXAMPLES: dict[str, tuple[str, Any]] = {
    "trim": ("'  Acme  ' | trim", "Acme"),
    "upper": ("'eur' | upper", "EUR"),
    "lower": ("'Annual' | lower", "annual"),
    "title": ("'ACME corp' | title", "Acme Corp"),
    "truncate": ("'Acme Analytics Inc.' | truncate(4)", "Acme"),
    "default": ("null | default('n/a')", "n/a"),
    "round": ("2.675 | round", 2.68),
    "number": ("'1250.50' | number", 1250.5),
    "integer": ("'7' | integer", 7),
    "string": ("12.0 | string", "12"),
    "bool": ("'yes' | bool", True),
    "split_name": ("'Mary Ann Smith' | split_name('first')", "Mary Ann"),
    "currency_code": ("' usd' | currency_code", "USD"),
    "email": ("' Dana@Acme.EXAMPLE ' | email", "dana@acme.example"),
    "phone": ("'+1 (415) 555-0100 ext' | phone", "+1 (415) 555-0100"),
    "digits": ("'VAT GB-123 456' | digits", "123456"),
    "slug": ("'Müller & Co.' | slug", "Muller-Co"),
    "date": ("'2013-05-20T20:49:32.000+0000' | date", "2013-05-20"),
    "datetime_utc": ("'2013-05-20T22:49:32+02:00' | datetime_utc", "2013-05-20T20:49:32Z"),
    "add_months": ("'2024-01-31' | add_months(1)", "2024-02-29"),
    "add_days": ("'2024-02-28' | add_days(2)", "2024-03-01"),
    "join": ("['A', null, 'B'] | join(' / ')", "A / B"),
    "pluck": ("lines | pluck('ProductCode')", ["PLAT-PRO", "SUPPORT"]),
    "sum": ("[0.1, 0.2] | sum", 0.3),
    "min": ("['2024-03-01', '2024-01-15'] | min", "2024-01-15"),
    "max": ("[3, null, 7] | max", 7),
    "unique": ("['A', 'B', 'A'] | unique", ["A", "B"]),
    "first": ("['A', 'B'] | first", "A"),
    "last": ("['A', 'B'] | last", "B"),
    "count": ("lines | count", 2),
    "coalesce": ("coalesce(null, '', 'billing@acme.example')", ""),
    "concat": ("concat('Dana', ' ', null, 'Whitfield')", "Dana Whitfield"),
    "len": ("len('Acme')", 4),
    "lookup": ("lookup('country_code', 'Germany')", "DE"),
}


class RuleExample(BaseModel):
    """A rule as written in a flow, a value that fails it, and the label of the field."""

    rule: dict[str, Any]
    written: str
    label: str
    value: Any
    lookup: tuple[str, Any] | None = None


RULE_EXAMPLES: list[RuleExample] = [
    RuleExample(rule={"required": True}, written="required: true", label="account name",
                value=None),
    RuleExample(rule={"resolves": True}, written="resolves: true", label="subsidiary",
                value=None, lookup=("subsidiary_by_country", "Atlantis")),
    RuleExample(rule={"type": "date"}, written="type: date", label="start date",
                value="31/12/2026"),
    RuleExample(rule={"max_length": 83}, written="max_length: 83", label="account name",
                value="Acme Analytics International Holdings for the Advancement of "
                      "Subscription Billing Ltd"),
    RuleExample(rule={"max_length": 32, "on_violation": "truncate"},
                written="{max_length: 32, on_violation: truncate}", label="contact phone",
                value="+1 (415) 555-0100 ext. 1234 (after 5pm)"),
    RuleExample(rule={"min_length": 2}, written="min_length: 2", label="state", value="C"),
    RuleExample(rule={"pattern": "^[A-Z]{2}$"}, written="pattern: '^[A-Z]{2}$'",
                label="country code", value="Germany"),
    RuleExample(rule={"email": True}, written="email: true", label="contact email",
                value="dana.acme.example"),
    RuleExample(rule={"allowed": ["MONTHLY", "ANNUALLY"]},
                written="allowed: [MONTHLY, ANNUALLY]", label="billing frequency",
                value="WEEKLY"),
    RuleExample(rule={"minimum": 0}, written="minimum: 0", label="list price", value=-120.0),
    RuleExample(rule={"maximum": 100}, written="maximum: 100", label="discount", value=120),
    RuleExample(rule={"exclusive_minimum": 0}, written="exclusive_minimum: 0",
                label="quantity", value=0),
]  # fmt: skip


def evaluate(expression: str) -> Any:
    return compile_expression(expression).evaluate(SCOPE)


def literal(value: Any) -> str:
    """A value as the expression language writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {literal(item)}" for key, item in value.items()) + "}"
    return repr(value)


def render_functions() -> str:
    parts: list[str] = []
    for name in sorted(DEFAULT_FUNCTIONS.names()):
        function = DEFAULT_FUNCTIONS.get(name)
        assert function is not None
        expression, result = EXAMPLES[name]
        parts.append(
            f"#### `{name}`\n\n`{function.usage}` — e.g. `{expression}` → `{literal(result)}`\n\n"
            f"{function.doc}\n"
        )
    return "\n".join(parts)


def render_rules() -> str:
    rows = [
        "| Rule (in `rules:`) | Failing value | Severity | The violation's sentence |",
        "|---|---|---|---|",
    ]
    for example in RULE_EXAMPLES:
        rule = CompiledRule(spec.Rule(**example.rule), compile_template)
        truncating = rule.on_violation == "truncate"
        sentence = default_message(
            rule, example.value, example.label, example.lookup, truncating=truncating
        )
        severity = "error" if rule.on_violation == "error" else "warning"
        value = literal(example.value).replace("|", "\\|")
        rows.append(f"| `{example.written}` | `{value}` | {severity} | {sentence} |")
    return "\n".join(rows) + "\n"


BLOCKS: dict[str, Callable[[], str]] = {"functions": render_functions, "rules": render_rules}


def block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED {name}[^>]*-->\n)(.*?)(<!-- END GENERATED {name} -->)", re.S
    )


def test_every_registered_function_has_an_example_and_only_those() -> None:
    assert set(EXAMPLES) == set(DEFAULT_FUNCTIONS.names())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_documented_example_gives_the_documented_result(name: str) -> None:
    expression, expected = EXAMPLES[name]
    assert evaluate(expression) == expected


def test_every_rule_kind_has_an_example() -> None:
    kinds = {spec.Rule(**example.rule).kind for example in RULE_EXAMPLES}
    assert kinds == RULE_KINDS


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_generated_blocks_match_the_code(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    pattern = block_pattern(name)
    found = pattern.search(text)
    assert found is not None, f"docs/mapping.md has no generated block {name!r}"
    wanted = BLOCKS[name]()
    if UPDATE and found.group(2) != wanted:
        DOC.write_text(pattern.sub(lambda m: m.group(1) + wanted + m.group(3), text), "utf-8")
        return
    assert found.group(2) == wanted, f"stale block {name!r}: run UPDATE_GOLDEN=1 {THIS_FILE}"


def schema_keys() -> set[str]:
    models = [
        spec.FlowSpec, spec.TriggerSpec, spec.LookupSpec, spec.StaticLookup, spec.SuiteQLLookup,
        spec.HooksSpec, spec.StopSpec, spec.RecordSpec, spec.SourceRef, spec.FieldSpec,
        spec.SublistSpec, spec.CheckSpec, spec.Rule,
    ]  # fmt: skip
    return {info.alias or name for model in models for name, info in model.model_fields.items()}


def test_every_key_of_a_flow_file_is_explained() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(key for key in schema_keys() if f"`{key}`" not in text)
    assert not missing, f"docs/mapping.md does not mention {missing}"


def test_every_registered_function_is_on_the_page() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(name for name in DEFAULT_FUNCTIONS.names() if f"#### `{name}`" not in text)
    assert not missing
