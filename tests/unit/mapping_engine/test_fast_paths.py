"""The engine's shortcuts give what the plain way gives.

Frozen records built in one step equal the constructed ones; a rule list's quick check only
accepts values every rule accepts; remembered lookups answer as the tables do; the ordering
shortcut sorts as the general sort; ``first_text`` is ``text(a) or text(b)``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dealbridge.core.records import Operation, PendingRef, RecordKey, SourceRecord, Violation
from dealbridge.mapping import frozen_builders
from dealbridge.mapping.deal_values import first_text, text
from dealbridge.mapping.expressions import compile_template
from dealbridge.mapping.lookup_recorder import LookupRecorder
from dealbridge.mapping.plan_order import DraftOperation, _rank, _sorted
from dealbridge.mapping.spec import Rule
from dealbridge.mapping.validate import CompiledRule, quick_check

anything = (
    st.none()
    | st.booleans()
    | st.integers(-5, 200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", " ", "x", "2026-02-28", "2026-02-30", "2026-01-01\n", "1e3"])
    | st.text(max_size=12)
    | st.just(Decimal("1.5"))
    | st.lists(st.integers(), max_size=2)
)


def test_built_records_are_the_constructed_ones() -> None:
    key = RecordKey("pricePlan", "SFPP-1")
    source = SourceRecord("Product2", "01t1")
    pairs = [
        (frozen_builders.record_key("pricePlan", "SFPP-1"), key),
        (frozen_builders.source_record("Product2", "01t1"), source),
        (frozen_builders.pending_ref(key), PendingRef(key)),
        (
            frozen_builders.operation("price_plan", key, {"a": 1}, (key,), ("x",), source, ("a",)),
            Operation("price_plan", key, {"a": 1}, (key,), ("x",), source, ("a",)),
        ),
    ]
    for built, made in pairs:
        assert type(built) is type(made)
        assert built == made
        assert repr(built) == repr(made)
        assert vars(built) == vars(made)
        assert list(vars(built)) == list(vars(made))
    assert hash(pairs[0][0]) == hash(key)
    assert hash(pairs[2][0]) == hash(PendingRef(key))
    assert frozen_builders.record_key("a", "b") < RecordKey("a", "c")


def test_a_class_that_is_not_plain_is_built_the_ordinary_way() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    @dataclasses.dataclass(frozen=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            object.__setattr__(self, "a", self.a + 1)

    def build(a: Any) -> Any:
        return Violation(SourceRecord("x", "y"), "r", "f", "rule", str(a))

    assert frozen_builders.checked(Slotted, build) is Slotted
    assert frozen_builders.checked(Checked, build) is Checked
    assert frozen_builders.checked(RecordKey, build) is RecordKey  # builds something else


RULES = [
    {"required": True},
    {"required": False},
    {"minimum": 0},
    {"maximum": 100},
    {"exclusive_minimum": 0},
    {"minimum": -2.5},
    {"type": "date"},
    {"type": "number"},
    {"resolves": True},
    {"max_length": 3},
]


@given(st.lists(st.sampled_from(RULES), min_size=1, max_size=3), anything)
def test_the_quick_check_only_accepts_what_every_rule_accepts(
    specs: list[dict[str, Any]], value: Any
) -> None:
    rules = [CompiledRule(Rule(**spec), compile_template) for spec in specs]
    quick = quick_check(rules)
    if quick is not None and quick(value):
        assert all(rule.passes(value) for rule in rules)


def test_quick_checks_exist_for_amounts_and_dates_only() -> None:
    def quick(*specs: dict[str, Any]) -> Any:
        return quick_check([CompiledRule(Rule(**spec), compile_template) for spec in specs])

    assert quick({"required": True}, {"exclusive_minimum": 0})(2.0)
    assert not quick({"minimum": 0}, {"maximum": 100})(101)
    assert quick({"required": True}, {"type": "date"})("2026-01-31")
    assert not quick({"type": "date"})("2026-02-30")
    assert quick({"resolves": True}) is None
    assert quick({"max_length": 3}) is None
    assert quick() is None


@given(st.lists(st.sampled_from(["r", "R", " r ", None]), max_size=6))
def test_remembered_lookups_answer_as_the_tables_and_note_the_last_key(keys: list[Any]) -> None:
    calls: list[tuple[str, Any]] = []

    def resolve(table: str, key: Any) -> Any:
        calls.append((table, key))
        return f"{table}={key}"

    recorder = LookupRecorder(resolve)
    for key in keys:
        assert recorder("t", key) == f"t={key}"
        assert recorder.last_lookup() == ("t", key)
    assert {call[1] for call in calls} == set(keys)


def test_keys_that_hash_alike_are_not_confused() -> None:
    recorder = LookupRecorder(lambda table, key: repr(key))
    assert [recorder("t", key) for key in (1, True, 1.0, "1")] == ["1", "True", "1.0", "'1'"]


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["b", "a", "c"])), max_size=12))
def test_the_ordering_shortcut_sorts_as_the_general_sort(ranked: list[tuple[int, str]]) -> None:
    drafts = [
        DraftOperation("r", rank, RecordKey("t", eid), {}, set(), (), SourceRecord("o", ""))
        for rank, eid in ranked
    ]
    kept = list(range(len(drafts)))
    assert _sorted(drafts, kept) == sorted(kept, key=lambda position: _rank(drafts, position))


@given(anything, anything)
def test_first_text_is_the_first_non_blank_text(first: Any, second: Any) -> None:
    assert first_text(first, second) == (text(first) or text(second))
