"""A flow compiled for the engine: every expression, template, transform and rule ready to run.

Compiling once per engine keeps the hot path free of parsing, pydantic models and dictionary
lookups by source text: mapping a deal only walks these slotted objects. Flow-level mistakes
that need no deal to be found — a record-level dependency cycle, an invalid regular expression,
an expression that does not compile — fail here, as ``ConfigError``, when the engine is built.

A field whose expression reads nothing but ``const`` (``value: const.offset_unit``) is computed
here once and sent as a constant. Record types and field names may hold ``{{ const.x }}``
templates (rendered once, here), so a custom record or custom field id can be a named constant
of the flow (``{{ const.package_record_type }}``) instead of a literal repeated in places.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from dealbridge.errors import ConfigError
from dealbridge.mapping.expressions import (
    Expression,
    FunctionRegistry,
    PipeStage,
    Template,
    compile_expression,
    compile_stage,
    compile_template,
)
from dealbridge.mapping.spec import FieldSpec, FlowSpec, RecordSpec, StopSpec, SublistSpec
from dealbridge.mapping.validate import CompiledCheck, CompiledRule, compile_rules, quick_check
from dealbridge.mapping.value_text import display

# Field kinds, as small ints: the engine dispatches on them for every field of every deal.
VALUE, REF, CONST, RECORD_REF, SUBLIST = range(5)
KIND_NAMES = ("value", "ref", "const", "record_ref", "sublist")
# How the engine's loop computes a field (``FieldStep``), besides the kinds above: a plain
# value that is a one-step path read inline (``PATH``) or any other plain value's evaluator
# called inline (``PLAIN``), a ``ref`` without transforms or rules (``PLAIN_REF``); ``SLOW``
# is a field with a ``when`` or a nested name. ``VALUE`` is any other ``value`` or ``ref``.
PATH, PLAIN, PLAIN_REF, SLOW = 5, 6, 7, 8

# ``(name, mode, first, second, field)``: one field as the engine's loop reads it, unpacked at
# once. ``PATH``: the root and the key; ``PLAIN``, ``PLAIN_REF``: the evaluator; ``CONST``: the
# value; ``VALUE``: the root and the key when the expression is a one-step path, else None.
FieldStep = tuple[str, int, Any, Any, "CompiledField"]


class LoadedFlowLike(Protocol):
    """What the engine needs of ``dealbridge.mapping.loader.LoadedFlow``."""

    @property
    def spec(self) -> FlowSpec:
        """The validated flow."""

    @property
    def static_tables(self) -> Mapping[str, Mapping[str, Any]]:
        """Static lookup tables by name."""


@dataclass(frozen=True, slots=True)
class CompiledSublist:
    """A sublist: one line per item of ``for_each`` (named ``as_`` in the line's scope)."""

    for_each: Expression
    as_: str
    when: Expression | None
    fields: tuple[CompiledField, ...]
    steps: tuple[FieldStep, ...]


@dataclass(frozen=True, slots=True)
class CompiledField:
    """One payload field; ``kind`` is ``VALUE``, ``REF``, ``CONST``, ``RECORD_REF`` or ``SUBLIST``.

    ``path`` is the name split at dots: ``addressBookAddress.city`` sets ``city`` inside the
    ``addressBookAddress`` object (a NetSuite subrecord); NetSuite field names have no dots.
    ``nested`` says whether there is more than one part. ``plain`` marks a ``VALUE`` field
    without transforms or rules, which the engine evaluates inline; ``quick`` is the rules'
    ``validate.quick_check``.
    """

    name: str
    kind: int
    label: str
    path: tuple[str, ...]
    nested: bool
    expression: Expression | None = None
    const: Any = None
    stages: tuple[PipeStage, ...] = ()
    rules: tuple[CompiledRule, ...] = ()
    when: Expression | None = None
    target: str | None = None
    target_key: Expression | None = None
    sublist: CompiledSublist | None = None
    plain: bool = False
    quick: Callable[[Any], bool] | None = None


@dataclass(frozen=True, slots=True)
class CompiledRecord:
    """One record of the flow.

    ``rank`` is its place in evaluation order (records it depends on or refers to come first,
    ties in the flow's order); ``index`` is its place in the flow file; ``create_only`` names
    the fields marked so, as they appear in the payload.
    """

    name: str
    type: str
    index: int
    rank: int
    external_id: Template
    for_each: Expression | None
    as_: str
    when: Expression | None
    source_object: str
    source_id: Template
    depends_on: tuple[str, ...]
    replace: tuple[str, ...]
    fields: tuple[CompiledField, ...]
    steps: tuple[FieldStep, ...]
    checks: tuple[CompiledCheck, ...]
    create_only: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledStop:
    """A deal-level stop condition."""

    when: Expression
    rule: str
    message: Template
    field: str


class CompiledFlow:
    """Every part of a flow, compiled; records sorted so referenced records come first.

    Args:
        flow: The loaded flow; its precompiled ``expressions``/``templates`` are reused when it
            has them (``LoadedFlow`` does), anything else is compiled here.

    Raises:
        ConfigError: A dependency cycle between records, or any part that does not compile.
    """

    def __init__(self, flow: LoadedFlowLike) -> None:
        self.spec = flow.spec
        self._expressions: Mapping[str, Expression] = getattr(flow, "expressions", {})
        self._templates: Mapping[str, Template] = getattr(flow, "templates", {})
        self._stages: Mapping[str, PipeStage] = getattr(flow, "stages", {})
        self._functions: FunctionRegistry | None = getattr(flow, "functions", None)
        self.constants = dict(flow.spec.constants)
        order = record_order(flow.spec)
        self.records = tuple(
            self._record(flow.spec.record(name), index, rank)
            for rank, (name, index) in enumerate(order)
        )
        self.stops = tuple(self._stop(stop) for stop in flow.spec.stop_when)
        self.trigger = self.expression(flow.spec.trigger.when)

    def expression(self, source: str) -> Expression:
        """The compiled expression of ``source`` (the loader's, else compiled now)."""
        found = self._expressions.get(source)
        return found if found is not None else compile_expression(source, functions=self._functions)

    def template(self, source: str) -> Template:
        """The compiled template of ``source`` (the loader's, else compiled now)."""
        found = self._templates.get(source)
        return found if found is not None else compile_template(source, functions=self._functions)

    def stage(self, source: str) -> PipeStage:
        """The compiled pipeline stage of ``source`` (the loader's, else compiled now)."""
        found = self._stages.get(source)
        return found if found is not None else compile_stage(source, functions=self._functions)

    def _const_text(self, source: str) -> str:
        """A name that may be a ``{{ const.… }}`` template, rendered once.

        Raises:
            ConfigError: The template renders to nothing (an unknown or empty constant).
        """
        if "{{" not in source:
            return source
        text = self.template(source).render({"const": self.constants}).strip()
        if not text:
            raise ConfigError(f"{source!r} renders to an empty name: is the constant declared?")
        return text

    def _optional(self, source: str | None) -> Expression | None:
        return self.expression(source) if source else None

    def _record(self, spec: RecordSpec, index: int, rank: int) -> CompiledRecord:
        fields = self._fields(spec.fields, spec.name)
        return CompiledRecord(
            name=spec.name,
            type=self._const_text(spec.type),
            index=index,
            rank=rank,
            external_id=self.template(spec.external_id),
            for_each=self._optional(spec.for_each),
            as_=spec.as_,
            when=self._optional(spec.when),
            source_object=spec.source.object,
            source_id=self.template(spec.source.id),
            depends_on=tuple(spec.depends_on),
            replace=tuple(spec.replace),
            fields=fields,
            steps=tuple(field_step(field) for field in fields),
            checks=tuple(CompiledCheck(c, self.expression, self.template) for c in spec.checks),
            create_only=tuple(
                self._const_text(name) for name, field in spec.fields.items() if field.create_only
            ),
        )

    def _fields(self, fields: Mapping[str, FieldSpec], record: str) -> tuple[CompiledField, ...]:
        return tuple(
            self._field(self._const_text(name), spec, record) for name, spec in fields.items()
        )

    def _field(self, name: str, spec: FieldSpec, record: str) -> CompiledField:
        common: dict[str, Any] = {
            "name": name,
            "path": tuple(name.split(".")),
            "nested": "." in name,
            "label": spec.label or f"{record} {name}",
            "stages": tuple(self.stage(source) for source in spec.transforms),
            "rules": compile_rules(spec.rules, self.template),
            "when": self._optional(spec.when),
        }
        if spec.sublist is not None:
            return CompiledField(
                kind=SUBLIST, sublist=self._sublist(spec.sublist, record), **common
            )
        if spec.record_ref is not None:
            key = self._optional(spec.record_ref_key)
            return CompiledField(kind=RECORD_REF, target=spec.record_ref, target_key=key, **common)
        source, kind = (spec.ref, REF) if spec.ref is not None else (spec.value, VALUE)
        if source is None:
            return CompiledField(kind=CONST, const=spec.const, **common)
        expression = self.expression(source)
        if self._foldable(expression) and not common["stages"] and not common["rules"]:
            return CompiledField(kind=CONST, const=self._fold(expression, kind), **common)
        plain = kind == VALUE and not common["stages"] and not common["rules"]
        quick = quick_check(common["rules"])
        return CompiledField(kind=kind, expression=expression, plain=plain, quick=quick, **common)

    def _foldable(self, expression: Expression) -> bool:
        """Whether the value depends on the flow's constants only (``const.offset_unit``)."""
        return expression.names <= {"const"} and not expression.lookups

    def _fold(self, expression: Expression, kind: int) -> Any:
        """A constants-only value, computed once here instead of for every line of every deal."""
        value = expression.evaluate({"const": self.constants})
        return {"id": display(value)} if kind == REF and value is not None else value

    def _sublist(self, spec: SublistSpec, record: str) -> CompiledSublist:
        fields = self._fields(spec.fields, record)
        return CompiledSublist(
            for_each=self.expression(spec.for_each),
            as_=spec.as_,
            when=self._optional(spec.when),
            fields=fields,
            steps=tuple(field_step(field) for field in fields),
        )

    def _stop(self, stop: StopSpec) -> CompiledStop:
        return CompiledStop(
            self.expression(stop.when), stop.rule, self.template(stop.message), stop.field
        )


def field_step(field: CompiledField) -> FieldStep:
    """How the engine computes ``field``: see ``FieldStep``."""
    if field.when is not None or field.nested:
        return (field.name, SLOW, None, None, field)
    if field.plain:
        assert field.expression is not None  # noqa: S101 - plain fields have one
        read = field.expression.read
        if read is not None:
            return (field.name, PATH, read[0], read[1], field)
        return (field.name, PLAIN, field.expression.fn, None, field)
    if field.kind == CONST:
        return (field.name, CONST, field.const, None, field)
    if field.kind == REF and not field.stages and not field.rules:
        assert field.expression is not None  # noqa: S101 - ref fields have one
        return (field.name, PLAIN_REF, field.expression.fn, None, field)
    if field.kind == VALUE or field.kind == REF:
        assert field.expression is not None  # noqa: S101 - value and ref fields have one
        root, key = field.expression.read or (None, None)
        return (field.name, VALUE, root, key, field)
    return (field.name, field.kind, None, None, field)


def record_order(spec: FlowSpec) -> list[tuple[str, int]]:
    """Record names with their flow index, each after every record it depends on or refers to.

    Ties keep the flow's order, so the result is deterministic.

    Raises:
        ConfigError: The records' dependencies form a cycle (a record referring to itself
            included): no order could write them.
    """
    index = {record.name: position for position, record in enumerate(spec.records)}
    needs = {
        record.name: set(record.depends_on) | set(_refs(record.fields)) for record in spec.records
    }
    waiting = {name: len(deps) for name, deps in needs.items()}
    users: dict[str, list[str]] = {name: [] for name in needs}
    for name, deps in needs.items():
        for dep in deps:
            users[dep].append(name)
    ready = [(index[name], name) for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[tuple[str, int]] = []
    while ready:
        position, name = heapq.heappop(ready)
        order.append((name, position))
        for user in users[name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (index[user], user))
    if len(order) != len(needs):
        stuck = sorted(name for name, count in waiting.items() if count > 0)
        raise ConfigError(f"flow {spec.flow!r}: records depend on each other in a cycle: {stuck}")
    return order


def _refs(fields: Mapping[str, FieldSpec]) -> list[str]:
    found: list[str] = []
    for spec in fields.values():
        if spec.record_ref:
            found.append(spec.record_ref)
        if spec.sublist:
            found.extend(_refs(spec.sublist.fields))
    return found
