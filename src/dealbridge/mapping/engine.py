"""``FlowEngine``: one deal graph in, one ``SyncPlan`` out — every operation and every problem.

How a plan is made:

1. The deal graph (``DealGraph`` or its JSON shape) becomes the scope: the views of
   ``deal_views``, ``const`` (the flow's constants) and ``__lookup__`` (the lookup tables).
   The ``before_map`` hook, when enabled, may replace the scope.
2. ``stop_when`` conditions: any that holds stops the deal — the plan holds those violations
   and no operation (an amendment must never be mapped as new business).
3. Each record, referenced records first: for every item of ``for_each`` (named ``as``) that
   passes ``when``, the external id, the source and each field — ``value`` (then its
   transforms), ``ref`` (sent as ``{"id": …}``), ``record_ref`` (a ``PendingRef`` to another
   instance of this plan), ``const`` and ``sublist`` — then the field rules and record checks.
   A null value leaves the field out (sending null would clear it in NetSuite). A dotted field
   name (``addressBookAddress.city``) sets a field of a nested object (a subrecord).
4. Duplicates merge, operations are ordered by dependency (``plan_order``), and the
   ``after_map`` hook may amend the plan.

Data problems never raise: every one becomes a violation, all of them are collected, and a plan
with an error violation still carries its (partial) operations for preview while ``plan.ok``
is False. An expression that fails on this deal's values is such a problem too (violation rule
``mapping_error``, naming the field and the expression). What raises is a broken flow:
``ConfigError``/``ExpressionError`` when the engine is built, or a ``record_ref`` that cannot
choose between several instances (a flow without ``record_ref_key``).

Speed: everything is compiled once per engine (``compiled_flow``); a plan copies no graph, runs
no pydantic validation, and builds one small scope dict per record instance and sublist line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dealbridge.connectors.netsuite.models import is_valid_external_id
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import PendingRef, RecordKey, SourceRecord, SyncPlan, Violation
from dealbridge.errors import ConfigError
from dealbridge.mapping.compiled_flow import (
    CompiledField,
    CompiledFlow,
    CompiledRecord,
    LoadedFlowLike,
)
from dealbridge.mapping.deal_values import plain, text
from dealbridge.mapping.deal_views import deal_views
from dealbridge.mapping.expressions import LOOKUP_SCOPE_KEY, ExpressionError
from dealbridge.mapping.loader import resolve_hook
from dealbridge.mapping.lookups import LookupTables
from dealbridge.mapping.plan_order import DraftOperation, merge_duplicates, ordered_operations
from dealbridge.mapping.validate import Subject, check_value, run_checks
from dealbridge.mapping.value_text import display

Scope = dict[str, Any]
BeforeMap = Callable[[Scope], Scope]
AfterMap = Callable[[SyncPlan], SyncPlan]
_OMIT = object()
MAPPING_ERROR = "mapping_error"


class _LookupRecorder:
    """The scope's ``__lookup__``: resolves, and remembers the last (table, key) asked.

    A ``resolves`` rule's default sentence names the key that found nothing.
    """

    __slots__ = ("_resolve", "last")

    def __init__(self, resolve: Callable[[str, Any], Any]) -> None:
        self._resolve = resolve
        self.last: tuple[str, Any] | None = None

    def __call__(self, table: str, key: Any) -> Any:
        self.last = (table, key)
        return self._resolve(table, key)

    def last_lookup(self) -> tuple[str, Any] | None:
        """The last lookup made, if any."""
        return self.last


class _Run:
    """The state of one ``plan`` call: violations, instances made so far, drafts."""

    def __init__(self, recorder: _LookupRecorder) -> None:
        self.recorder = recorder
        self.violations: list[Violation] = []
        self.instances: dict[str, dict[str, RecordKey]] = {}
        self.drafts: list[DraftOperation] = []


class FlowEngine:
    """Maps deals with one flow; build once, call ``plan`` for every deal (thread-safe).

    Args:
        flow: The loaded flow (``loader.load_flow``).
        hooks_enabled: Import and run the flow's ``before_map``/``after_map`` hooks.

    Raises:
        ConfigError: The flow cannot be compiled, its records depend on each other in a cycle,
            or a hook cannot be imported.
    """

    def __init__(self, flow: LoadedFlowLike, *, hooks_enabled: bool = True) -> None:
        self.flow = flow
        self.compiled = CompiledFlow(flow)
        hooks = flow.spec.hooks
        self._before: BeforeMap | None = None
        self._after: AfterMap | None = None
        if hooks_enabled:
            self._before = _import_hook(hooks.before_map) if hooks.before_map else None
            self._after = _import_hook(hooks.after_map) if hooks.after_map else None

    def triggered(self, graph: DealGraph | Mapping[str, Any]) -> bool:
        """Whether the flow's trigger condition holds for this deal (e.g. the deal is won)."""
        scope = deal_views(_graph_data(graph), self.compiled.constants)
        scope["const"] = self.compiled.constants
        try:
            return bool(self.compiled.trigger.evaluate(scope))
        except ExpressionError:
            return False

    def plan(self, graph: DealGraph | Mapping[str, Any], lookups: LookupTables) -> SyncPlan:
        """The plan of one deal: ordered operations and every violation found."""
        recorder = _LookupRecorder(lookups.resolve)
        scope = deal_views(_graph_data(graph), self.compiled.constants)
        scope["const"] = self.compiled.constants
        scope[LOOKUP_SCOPE_KEY] = recorder
        if self._before is not None:
            scope = self._before(scope)
        spec = self.compiled.spec
        opportunity = scope.get("opportunity") or {}
        plan = SyncPlan(spec.flow, spec.version, text(opportunity.get("Id")) or "")
        run = _Run(recorder)
        source = SourceRecord("Opportunity", plan.opportunity_id)
        if not self._stopped(scope, source, run):
            for record in self.compiled.records:
                self._record(record, scope, run)
            self._add_dependencies(run)
            drafts = merge_duplicates(run.drafts, run.violations)
            plan.operations = ordered_operations(drafts)
        plan.violations = run.violations
        return self._after(plan) if self._after is not None else plan

    # -- deal and record level ------------------------------------------------------------------

    def _stopped(self, scope: Scope, source: SourceRecord, run: _Run) -> bool:
        stopped = False
        for stop in self.compiled.stops:
            try:
                if not stop.when.evaluate(scope):
                    continue
                message = stop.message.render(scope)
            except ExpressionError as error:
                message = f"The stop condition could not be checked: {error.message}"
            run.violations.append(Violation(source, "deal", stop.field, stop.rule, message))
            stopped = True
        return stopped

    def _record(self, record: CompiledRecord, scope: Scope, run: _Run) -> None:
        run.instances.setdefault(record.name, {})
        if record.for_each is None:
            self._instance(record, scope, run)
            return
        items = self._items(record.for_each, scope, run, self._record_subject(record, scope))
        for item in items:
            self._instance(record, {**scope, record.as_: item}, run)

    def _instance(self, record: CompiledRecord, scope: Scope, run: _Run) -> None:
        subject = self._record_subject(record, scope)
        try:
            if record.when is not None and not record.when.evaluate(scope):
                return
            external_id = record.external_id.render(scope)
        except ExpressionError as error:
            run.violations.append(subject.violation(MAPPING_ERROR, _failed(error)))
            return
        if not is_valid_external_id(external_id):
            run.violations.append(subject.violation("external_id", _bad_id(record, external_id)))
        key = RecordKey(record.type, external_id)
        refs: set[RecordKey] = set()
        payload = self._payload(record.fields, scope, subject, "", refs, run, record)
        try:
            run_checks(record.checks, scope, subject.source, record.name, run.violations)
        except ExpressionError as error:
            run.violations.append(subject.violation(MAPPING_ERROR, _failed(error)))
        run.instances[record.name].setdefault(external_id, key)
        run.drafts.append(
            DraftOperation(
                record.name, record.index, key, payload, refs, record.replace, subject.source
            )
        )

    def _record_subject(self, record: CompiledRecord, scope: Scope) -> Subject:
        try:
            record_id = record.source_id.render(scope)
        except ExpressionError:
            record_id = ""
        return Subject(SourceRecord(record.source_object, record_id), record.name, "", record.name)

    def _add_dependencies(self, run: _Run) -> None:
        """Explicit ``depends_on``: every instance of each named record."""
        explicit = {record.name: record.depends_on for record in self.compiled.records}
        for draft in run.drafts:
            for name in explicit[draft.name]:
                draft.depends_on.update(run.instances.get(name, {}).values())

    # -- fields --------------------------------------------------------------------------------

    def _payload(
        self,
        fields: tuple[CompiledField, ...],
        scope: Scope,
        subject: Subject,
        prefix: str,
        refs: set[RecordKey],
        run: _Run,
        record: CompiledRecord,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for spec in fields:
            field_subject = Subject(subject.source, subject.record, prefix + spec.name, spec.label)
            try:
                if spec.when is not None and not spec.when.evaluate(scope):
                    continue
                value = self._value(spec, scope, field_subject, refs, run, record)
            except ExpressionError as error:
                run.violations.append(field_subject.violation(MAPPING_ERROR, _failed(error)))
                continue
            if value is _OMIT:
                continue
            if len(spec.path) == 1:
                payload[spec.name] = value
            else:
                _set_nested(payload, spec.path, value)
        return payload

    def _value(
        self,
        spec: CompiledField,
        scope: Scope,
        subject: Subject,
        refs: set[RecordKey],
        run: _Run,
        record: CompiledRecord,
    ) -> Any:
        kind = spec.kind
        if kind == "const":
            return spec.const
        if kind == "record_ref":
            return self._record_ref(spec, scope, subject, refs, run)
        if kind == "sublist":
            return self._sublist(spec, scope, subject, refs, run, record)
        run.recorder.last = None
        assert spec.expression is not None  # noqa: S101 - value and ref fields have one
        value = spec.expression.evaluate(scope)
        for stage in spec.stages:
            value = stage.apply(value, scope)
        if spec.rules:
            value = check_value(
                spec.rules, value, subject, scope, run.violations, run.recorder.last_lookup
            )
        if value is None:
            return _OMIT
        return {"id": display(value)} if kind == "ref" else value

    def _record_ref(
        self, spec: CompiledField, scope: Scope, subject: Subject, refs: set[RecordKey], run: _Run
    ) -> Any:
        assert spec.target is not None  # noqa: S101 - record_ref fields have a target
        instances = run.instances.get(spec.target, {})
        wanted: str | None = None
        if spec.target_key is not None:
            wanted = display(spec.target_key.evaluate(scope))
            key = instances.get(wanted)
        elif len(instances) > 1:
            raise ConfigError(
                f"field {subject.path!r} of record {subject.record!r} refers to record "
                f"{spec.target!r}, which has {len(instances)} instances in this deal; "
                "add record_ref_key to choose one"
            )
        else:
            key = next(iter(instances.values()), None)
        if key is None:
            run.violations.append(subject.violation("record_ref", _missing(spec, wanted)))
            return _OMIT
        refs.add(key)
        return PendingRef(key)

    def _sublist(
        self,
        spec: CompiledField,
        scope: Scope,
        subject: Subject,
        refs: set[RecordKey],
        run: _Run,
        record: CompiledRecord,
    ) -> Any:
        sublist = spec.sublist
        assert sublist is not None  # noqa: S101 - sublist fields have one
        lines: list[dict[str, Any]] = []
        for item in self._items(sublist.for_each, scope, run, subject):
            line_scope = {**scope, sublist.as_: item}
            if sublist.when is not None and not sublist.when.evaluate(line_scope):
                continue
            prefix = f"{spec.name}.items[{len(lines)}]."
            lines.append(
                self._payload(sublist.fields, line_scope, subject, prefix, refs, run, record)
            )
        if not lines and spec.name not in record.replace:
            return _OMIT
        return {"items": lines}

    def _items(self, source: Any, scope: Scope, run: _Run, subject: Subject) -> list[Any]:
        """The items of a ``for_each``: a list, or nothing (null); anything else is reported."""
        try:
            items = source.evaluate(scope)
        except ExpressionError as error:
            run.violations.append(subject.violation(MAPPING_ERROR, _failed(error)))
            return []
        if items is None:
            return []
        if isinstance(items, list | tuple):
            return list(items)
        message = f"for_each {source.source!r} gave {display(items)!r}, not a list."
        run.violations.append(subject.violation(MAPPING_ERROR, message))
        return []


def _set_nested(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """``a.b.c`` → ``payload["a"]["b"]["c"]``; a non-object in the way is replaced."""
    target = payload
    for name in path[:-1]:
        inner = target.get(name)
        if not isinstance(inner, dict):
            inner = target[name] = {}
        target = inner
    target[path[-1]] = value


def _graph_data(graph: DealGraph | Mapping[str, Any]) -> Mapping[str, Any]:
    """The deal as JSON-like data (API field names), whatever form it came in."""
    if isinstance(graph, DealGraph):
        data: Mapping[str, Any] = plain(graph.model_dump(by_alias=True))
        return data
    return graph


def _import_hook(target: str) -> Callable[..., Any]:
    try:
        return resolve_hook(target)
    except ValueError as error:
        raise ConfigError(f"hook {target!r}: {error}") from None


def _failed(error: ExpressionError) -> str:
    return f"The flow could not compute this value for this deal: {error.message}"


def _bad_id(record: CompiledRecord, external_id: str) -> str:
    return (
        f"The external id '{external_id}' of this {record.name} is not usable in NetSuite: "
        "it must be 1 to 255 letters, digits, '_' or '-'."
    )


def _missing(spec: CompiledField, wanted: str | None) -> str:
    if wanted is None:
        return f"The {spec.label} refers to a {spec.target} record this deal does not produce."
    return f"The {spec.label} refers to {spec.target} '{wanted}', which this deal does not produce."
