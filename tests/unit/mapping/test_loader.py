"""Loading flow files: a good flow compiles whole; every broken one fails at file:line:path."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from dealbridge.errors import ConfigError
from dealbridge.mapping.expressions import Expression, PipeStage, Template
from dealbridge.mapping.flow_problems import FlowFileError, FlowProblem, format_path, join_path
from dealbridge.mapping.loader import (
    LoadedFlow,
    load_flow,
    load_flow_text,
    resolve_hook,
    shipped_flow_paths,
)
from dealbridge.mapping.static_tables import table_key

FLOWS = Path(__file__).parent / "flows"
GOOD = FLOWS / "good.yaml"

MINIMAL = """\
flow: minimal
version: 1
trigger: {when: opportunity.IsWon}
records:
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    fields:
      companyName: {value: account.Name}
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FlowFileError) as caught:
        load_flow(path)
    return [str(problem).removeprefix(f"{FLOWS}/") for problem in caught.value.problems]


def text_problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(FlowFileError) as caught:
        load_flow_text(text, source="inline.yaml", **kwargs)  # type: ignore[arg-type]
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture(scope="module")
def good() -> LoadedFlow:
    return load_flow(GOOD, check_hooks=True)


def test_good_flow_loads_with_spec_and_path(good: LoadedFlow) -> None:
    assert good.spec.flow == "small_deal"
    assert good.path == GOOD
    assert [record.name for record in good.spec.records] == ["customer", "subscription"]


def test_every_expression_template_and_stage_is_compiled_by_source(good: LoadedFlow) -> None:
    assert isinstance(good.expressions["account.Name"], Expression)
    assert isinstance(good.expressions["item.lines"], Expression)
    assert isinstance(good.expressions["line.SBQQ__Quantity__c != null"], Expression)
    assert isinstance(good.expressions["item.SBQQ__EndDate__c != null"], Expression)
    assert isinstance(good.templates["SFACC-{{ account.Id }}"], Template)
    assert isinstance(good.templates["{{ label }} was cut to 83 characters"], Template)
    assert isinstance(good.templates["Line {{ line.Id }}"], Template)
    assert isinstance(good.stages["truncate(const.name_limit)"], PipeStage)
    assert set(good.stages) == {"trim", "truncate(const.name_limit)", "integer"}
    scope = {"account": {"Id": "001A"}}
    assert good.templates["SFACC-{{ account.Id }}"].render(scope) == "SFACC-001A"


def test_transforms_apply_in_order(good: LoadedFlow) -> None:
    stages = good.spec.record("customer").fields["companyName"].transforms
    value = good.apply_transforms("  Acme Corporation ", stages, {"const": {"name_limit": 4}})
    assert value == "Acme"


def test_static_tables_from_values_csv_and_yaml(good: LoadedFlow) -> None:
    assert dict(good.static_tables["subsidiary"]) == {"united states": 1, "germany": 3, "no": 7}
    assert dict(good.static_tables["frequency"]) == {
        "monthly": "1",
        "annual": "3",
        "quarterly": None,
    }
    assert dict(good.static_tables["region"]) == {
        "United States": "AMER",
        "Germany": "EMEA",
        "12": "numeric key",
    }
    assert "item_by_code" not in good.static_tables
    with pytest.raises(TypeError):
        good.static_tables["region"]["x"] = 1  # type: ignore[index]


def test_yaml_scalars_follow_the_core_schema(good: LoadedFlow) -> None:
    assert good.spec.constants == {
        "default_currency": "USD",
        "name_limit": 83,
        "cutover": "2024-01-01",
    }
    assert good.static_tables["subsidiary"]["no"] == 7


def test_line_of_key_paths(good: LoadedFlow) -> None:
    assert good.line_of("flow") == 2
    assert good.line_of("records[0].fields.companyName.rules[1]") == 50
    assert good.line_of("records[1].fields.priceInterval.sublist.fields.quantity") == 86
    assert good.line_of("records[1].depends_on") == 69
    # not written in the file (a default): the nearest written ancestor
    assert good.line_of("records[0].as") == good.line_of("records[0]") == 40


@pytest.mark.parametrize(
    ("value", "case_insensitive", "expected"),
    [
        ("Monthly", True, "monthly"),
        (" Monthly ", False, "Monthly"),
        (12.0, True, "12"),
        (12, False, "12"),
        (None, True, None),
    ],
)
def test_table_key_normalises_like_the_tables(
    value: object, case_insensitive: bool, expected: str | None
) -> None:
    assert table_key(value, case_insensitive=case_insensitive) == expected


def test_schema_errors_name_file_line_and_key_path() -> None:
    assert problems_of(FLOWS / "bad_schema.yaml") == [
        "bad_schema.yaml:2:1: version: Input should be greater than or equal to 1, got 0",
        "bad_schema.yaml:14:13: records[0].fields.companyName.rules[0]: "
        "a rule names exactly one check, got ['required', 'max_length']",
        "bad_schema.yaml:16:9: records[0].fields.companyName.colour: unknown key 'colour'; "
        "allowed: value, ref, record_ref, record_ref_key, const, sublist, transforms, rules, "
        "when, label, source_field, create_only",
        "bad_schema.yaml:17:5: records[1].source: this required key is missing",
    ]


def test_record_types_and_field_names_may_be_constant_templates() -> None:
    text = (
        MINIMAL.replace("type: customer", 'type: "{{ const.record_type }}"').replace(
            "companyName: {value: account.Name}",
            '"{{ const.name_field }}": {value: account.Name}',
        )
        + "constants: {record_type: customrecord_x}\n"
    )
    assert text_problems(text) == [
        'inline.yaml:10:7: records[0].fields["{{ const.name_field }}"]: '
        "unknown constant 'const.name_field'"
    ]
    fixed = text.replace("record_type: customrecord_x", "record_type: x, name_field: y")
    flow = load_flow_text(fixed, source="inline.yaml")
    assert flow.templates["{{ const.record_type }}"].render({"const": {"record_type": "x"}}) == "x"


def test_unknown_keys_suggest_the_closest() -> None:
    text = MINIMAL.replace("companyName: {value: account.Name}", "companyName: {valeu: x}")
    found = text_problems(text)
    assert any("unknown key 'valeu'; did you mean 'value'?" in line for line in found)


def test_compile_errors_are_all_reported_with_their_paths() -> None:
    assert problems_of(FLOWS / "bad_expressions.yaml") == [
        "bad_expressions.yaml:4:3: trigger.when: expression 'opportunity.IsWon and': "
        "unexpected end of expression at column 22; expected '(', '-', '[', 'false', 'not', "
        "'null', 'true', a name, a number, a string",
        "bad_expressions.yaml:8:5: stop_when[0].message: template "
        "'Renewal {{ opportunity.Id is not supported': '{{' is never closed at column 9",
        "bad_expressions.yaml:16:9: records[0].fields.companyName.value: expression "
        "'account.Name | trm': unknown function 'trm' (did you mean 'trim'?) at column 16",
        "bad_expressions.yaml:17:28: records[0].fields.companyName.transforms[1]: transform "
        "'truncate(83, 4)': truncate(value, length) cannot take 3 arguments "
        "(the piped value is the first) at column 1",
        "bad_expressions.yaml:19:13: records[0].fields.companyName.rules[0].pattern: "
        "invalid regular expression: missing ), unterminated subpattern at position 0",
        "bad_expressions.yaml:22:9: records[0].fields.phone.when: expression "
        "'account.Phone !== null': unexpected character '=' at column 17; expected '(', '-', "
        "'[', a name, a number, a string",
    ]


def test_reference_errors_lookups_constants_replace_and_table_files() -> None:
    assert problems_of(FLOWS / "bad_references.yaml") == [
        "bad_references.yaml:10:7: lookups.subsidiary.static.values: "
        "keys 'Germany' and 'germany' are the same key",
        f"bad_references.yaml:13:7: lookups.frequency.static.file: "
        f"lookup file not found: {FLOWS}/tables/missing.csv",
        "bad_references.yaml:19:7: lookups.region.static.file: "
        "lookup file 'tables/regions.txt' must end in .yaml, .yml or .csv",
        "bad_references.yaml:25:15: records[0].replace[0]: "
        "'companyName' is not a sublist field of record 'customer'",
        "bad_references.yaml:28:9: records[0].fields.companyName.value: "
        "unknown lookup table 'regions' (declared: frequency, region, schedule, subsidiary)",
        "bad_references.yaml:30:9: records[0].fields.currency.value: "
        "unknown constant 'const.currency_code'",
        "tables/bad_columns.csv:1:1: the header must name column(s) key, value; found freq, sched",
    ]


def test_duplicate_keys_are_errors_at_every_repeat() -> None:
    assert problems_of(FLOWS / "duplicate_keys.yaml") == [
        "duplicate_keys.yaml:13:7: records[0].fields.companyName: "
        "duplicate key 'companyName' (first at line 11)",
        "duplicate_keys.yaml:15:1: version: duplicate key 'version' (first at line 2)",
    ]


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            "duplicates.csv",
            [
                "tables/duplicates.csv:3:1: key 'monthly' repeats line 2",
                "tables/duplicates.csv:4:1: an empty key",
            ],
        ),
        ("duplicates.yaml", ["tables/duplicates.yaml:2:1: key 'monthly' repeats an earlier key"]),
    ],
)
def test_table_files_with_repeated_keys(tmp_path: Path, file: str, expected: list[str]) -> None:
    text = MINIMAL + f"lookups:\n  t:\n    static: {{file: {FLOWS}/tables/{file}}}\n"
    found = text_problems(text)
    assert [line.removeprefix(f"{FLOWS}/") for line in found] == expected


def test_table_file_resolves_beside_the_flow_text_base_dir(tmp_path: Path) -> None:
    (tmp_path / "codes.yaml").write_text("US: United States\n", encoding="utf-8")
    text = MINIMAL + "lookups:\n  codes:\n    static: {file: codes.yaml}\n"
    flow = load_flow_text(text, source="x.yaml", base_dir=tmp_path)
    assert dict(flow.static_tables["codes"]) == {"us": "United States"}
    assert flow.path is None


def test_hooks_are_imported_only_when_asked() -> None:
    text = MINIMAL + "hooks: {before_map: 'no_such_module_xyz:run', after_map: 'json:nope'}\n"
    assert load_flow_text(text, source="inline.yaml").spec.hooks.after_map == "json:nope"
    assert text_problems(text, check_hooks=True) == [
        "inline.yaml:11:9: hooks.before_map: cannot import 'no_such_module_xyz': "
        "No module named 'no_such_module_xyz'",
        "inline.yaml:11:47: hooks.after_map: module 'json' has no function 'nope'",
    ]


def test_resolve_hook_returns_the_function() -> None:
    import json

    assert resolve_hook("json:dumps") is json.dumps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow: [unclosed", "inline.yaml:1:16: while parsing a flow sequence expected ',' or ']'"),
        ("a: 1\n---\nb: 2\n", "inline.yaml:2:1: expected a single document in the stream"),
        ("", "inline.yaml:1:1: Input should be a valid dictionary or instance of FlowSpec"),
        ("- a\n- b\n", "inline.yaml:1:1: Input should be a valid dictionary"),
        ("flow: x\nversion: !!binary AAAA\n", "inline.yaml:2:10: version: unsupported YAML tag"),
        ("base: &a [*a]\n", "inline.yaml:1:7: base[0]: an alias refers to itself"),
    ],
)
def test_broken_yaml_is_located(text: str, expected: str) -> None:
    found = text_problems(text)
    assert found[0].startswith(expected), found


def test_errors_inside_flow_style_mappings_point_at_the_key() -> None:
    text = MINIMAL.replace(
        "companyName: {value: account.Name}",
        "companyName: {value: account.Name, rules: [{max_length: 0}]}",
    )
    found = text_problems(text)
    assert found == [
        "inline.yaml:10:51: records[0].fields.companyName.rules[0].max_length: "
        "Input should be greater than 0, got 0"
    ]


def test_merge_keys_share_rules() -> None:
    text = (
        "x-rules: &name_rules\n  rules: [{required: true}, {max_length: 83}]\n"
        + MINIMAL.replace(
            "companyName: {value: account.Name}",
            "companyName: {<<: *name_rules, value: account.Name}",
        )
    )
    with pytest.raises(FlowFileError, match="unknown key 'x-rules'"):
        load_flow_text(text, source="inline.yaml")
    shared = MINIMAL.replace(
        "companyName: {value: account.Name}",
        "companyName: &company {value: account.Name, rules: [{required: true}]}\n"
        "      legalName: {<<: *company, value: account.Legal__c}",
    )
    spec = load_flow_text(shared, source="inline.yaml").spec
    legal = spec.record("customer").fields["legalName"]
    assert legal.value == "account.Legal__c"
    assert [rule.kind for rule in legal.rules] == ["required"]


def test_unreadable_file_is_a_flow_error(tmp_path: Path) -> None:
    with pytest.raises(FlowFileError, match="cannot read"):
        load_flow(tmp_path / "absent.yaml")


def test_flow_file_error_is_a_config_error_that_pickles() -> None:
    with pytest.raises(FlowFileError) as caught:
        load_flow(FLOWS / "duplicate_keys.yaml")
    assert isinstance(caught.value, ConfigError)
    restored = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert isinstance(restored, FlowFileError)
    assert restored.problems == caught.value.problems
    assert restored.failure_type == "config"
    assert len(restored.context["problems"]) == 2


def test_shipped_flows_load() -> None:
    for path in shipped_flow_paths():
        assert load_flow(path).spec.records


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            ("records", 3, "fields", "companyName", "rules", 0),
            "records[3].fields.companyName.rules[0]",
        ),
        (
            ("lookups", "t", "static", "values", "United States"),
            'lookups.t.static.values["United States"]',
        ),
        ((0, "a"), "[0].a"),
        ((), ""),
    ],
)
def test_key_paths_read_as_written(parts: tuple[object, ...], expected: str) -> None:
    assert format_path(parts) == expected


def test_join_path_and_problem_text() -> None:
    assert join_path("records", 0, "fields") == "records[0].fields"
    assert join_path("", "a") == "a"
    assert str(FlowProblem("f.yaml", 0, 0, "", "broken")) == "f.yaml: broken"
