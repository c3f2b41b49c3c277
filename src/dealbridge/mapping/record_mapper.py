"""One deal's records, field by field: the hot path of the mapping engine.

``DealRun`` holds what one ``FlowEngine.plan`` call builds — drafts of operations, the instances
made so far (for ``record_ref``), the violations — and turns each record instance into a payload.

Why it looks the way it does: a 30-line deal evaluates about a thousand fields, so the loop in
``_payload`` reads each field as a ``FieldStep`` tuple and dispatches on small int modes, most
common first; plain paths are read inline and a field's own expression is called bare (its
errors are named only when one happens, in ``_failed``); a ``Subject`` for a field is built only
when a rule actually fails; each scope is copied once per record or sublist, not per item; one
``PendingRef`` and one ``SourceRecord`` are shared by every use; references are draft positions
(ints) rather than hashed ``RecordKey`` dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dealbridge.connectors.netsuite.models import is_valid_external_id
from dealbridge.core.records import PendingRef, SourceRecord, Violation
from dealbridge.errors import ConfigError
from dealbridge.mapping.compiled_flow import (
    CONST,
    PATH,
    PLAIN,
    PLAIN_REF,
    RECORD_REF,
    REF,
    SUBLIST,
    VALUE,
    CompiledField,
    CompiledRecord,
    FieldStep,
)
from dealbridge.mapping.expression_operators import step
from dealbridge.mapping.expressions import Expression, ExpressionError, named_error
from dealbridge.mapping.frozen_builders import pending_ref, record_key, source_record
from dealbridge.mapping.lookup_recorder import LookupRecorder
from dealbridge.mapping.plan_order import DraftOperation
from dealbridge.mapping.validate import Subject, check_value, run_checks
from dealbridge.mapping.value_text import display

Scope = dict[str, Any]
MAPPING_ERROR = "mapping_error"
_OMIT = object()
# What ``Subject(...)`` or ``DraftOperation(...)`` does, without the Python-level ``__new__`` of
# a named tuple: several are made for every record instance
_tuple = tuple.__new__


class DealRun:
    """The state of one ``plan`` call: drafts, instances by record and external id, violations.

    Args:
        recorder: The scope's lookup function, which remembers the last lookup.
        explicit: Each record's ``depends_on`` names.
    """

    def __init__(self, recorder: LookupRecorder, explicit: dict[str, tuple[str, ...]]) -> None:
        self.recorder = recorder
        self.explicit = explicit
        self.violations: list[Violation] = []
        self.drafts: list[DraftOperation] = []
        self.instances: dict[str, dict[str, int]] = {}
        self._pending: dict[int, PendingRef] = {}
        self._sources: dict[tuple[str, str], SourceRecord] = {}

    def record(self, record: CompiledRecord, scope: Scope) -> None:
        """Every instance of ``record`` (one, or one per ``for_each`` item)."""
        self.instances.setdefault(record.name, {})
        if record.for_each is None:
            self._instance(record, scope)
            return
        items = self._items(record.for_each, scope)
        if isinstance(items, str):
            source = SourceRecord(record.source_object, "")
            self.violations.append(Violation(source, record.name, "", MAPPING_ERROR, items))
            return
        # one scope for every instance, the item rebound each time: nothing keeps a scope
        instance_scope = dict(scope)
        name = record.as_
        for item in items:
            instance_scope[name] = item
            self._instance(record, instance_scope)

    def add_explicit_dependencies(self) -> None:
        """``depends_on``: every instance of each named record."""
        for draft in self.drafts:
            for name in self.explicit[draft.name]:
                draft.depends_on.update(self.instances.get(name, {}).values())

    def _instance(self, record: CompiledRecord, scope: Scope) -> None:
        try:
            record_id = record.source_id.fn(scope)
        except Exception as error:  # the id is only named in violations: none is fine
            named_error(error, record.source_id.source, "template")  # re-raises an outage
            record_id = ""
        source = self._sources.get((record.source_object, record_id))
        if source is None:  # one SourceRecord per Salesforce record: several records share one
            source = self._sources[record.source_object, record_id] = source_record(
                record.source_object, record_id
            )
        subject = _tuple(Subject, (source, record.name, "", record.name))
        try:
            if record.when is not None and not record.when.evaluate(scope):
                return
            external_id = record.external_id.fn(scope)
        except Exception as error:
            problem = named_error(error, record.external_id.source, "template")
            self.violations.append(subject.violation(MAPPING_ERROR, failed(problem)))
            return
        if not is_valid_external_id(external_id):
            self.violations.append(subject.violation("external_id", _bad_id(record, external_id)))
        refs: set[int] = set()
        payload = self._payload(record.steps, scope, subject, "", refs, record.replace)
        if record.checks:
            try:
                run_checks(record.checks, scope, source, record.name, self.violations)
            except ExpressionError as error:
                self.violations.append(subject.violation(MAPPING_ERROR, failed(error)))
        self.instances[record.name].setdefault(external_id, len(self.drafts))
        key = record_key(record.type, external_id)
        draft = (
            record.name,
            record.rank,
            key,
            payload,
            refs,
            record.replace,
            source,
            record.create_only,
        )
        self.drafts.append(_tuple(DraftOperation, draft))

    def _payload(
        self,
        steps: tuple[FieldStep, ...],
        scope: Scope,
        subject: Subject,
        prefix: str,
        refs: set[int],
        replace: tuple[str, ...],
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for name, mode, first, second, spec in steps:  # modes by frequency
            try:
                if mode == PATH:  # ``root.key``, read here as ``expression_operators.path``
                    value = scope.get(first)
                    value = value.get(second) if type(value) is dict else step(value, second)
                    if value is None:
                        continue
                elif mode == CONST:
                    value = first
                elif mode == VALUE:
                    value = self._value(spec, scope, subject, prefix, first, second)
                    if value is _OMIT:
                        continue
                elif mode == RECORD_REF:
                    value = self._record_ref(spec, scope, subject, prefix, refs)
                    if value is _OMIT:
                        continue
                elif mode == PLAIN:
                    value = first(scope)
                    if value is None:
                        continue
                elif mode == PLAIN_REF:  # sent as {"id": …}, as ``_value`` makes it
                    value = first(scope)
                    if value is None:
                        continue
                    value = {"id": value if type(value) is str else display(value)}
                elif mode == SUBLIST:
                    value = self._sublist(spec, scope, subject, prefix, refs, replace)
                    if value is _OMIT:
                        continue
                else:
                    self._slow(spec, payload, scope, subject, prefix, refs, replace)
                    continue
            except Exception as error:  # named, or re-raised, by _failed
                self._failed(error, spec, subject, prefix)
                continue
            payload[name] = value
        return payload

    def _slow(
        self,
        spec: CompiledField,
        payload: dict[str, Any],
        scope: Scope,
        subject: Subject,
        prefix: str,
        refs: set[int],
        replace: tuple[str, ...],
    ) -> None:
        """A field with a ``when`` or a nested name (``addressBookAddress.city``), set here."""
        if spec.when is not None and not spec.when.evaluate(scope):
            return
        kind = spec.kind
        if kind == CONST:
            value = spec.const
        elif kind == VALUE or kind == REF:
            value = self._value(spec, scope, subject, prefix)
        elif kind == RECORD_REF:
            value = self._record_ref(spec, scope, subject, prefix, refs)
        else:
            value = self._sublist(spec, scope, subject, prefix, refs, replace)
        if value is _OMIT:
            return
        if spec.nested:
            _set_nested(payload, spec.path, value)
        else:
            payload[spec.name] = value

    def _failed(self, error: Exception, spec: CompiledField, subject: Subject, prefix: str) -> None:
        """Report a field that could not be computed; errors that are not the data's re-raise.

        A field's own expression (``value``, ``ref``, ``record_ref_key``) runs bare, without
        ``evaluate``: its errors are named here. Errors of everything else are named already.
        """
        bare = spec.expression or spec.target_key
        if bare is not None:
            error = named_error(error, bare.source)
        elif not isinstance(error, ExpressionError):
            raise error
        where = _at(subject, prefix, spec)
        self.violations.append(where.violation(MAPPING_ERROR, failed(error)))

    def _value(
        self,
        spec: CompiledField,
        scope: Scope,
        subject: Subject,
        prefix: str,
        root: str | None = None,
        key: Any = None,
    ) -> Any:
        """A ``value`` or ``ref`` field: expression, transforms, rules; null means leave out.

        ``root`` and ``key``: the expression is that one-step path, read here.
        """
        assert spec.expression is not None  # noqa: S101 - value and ref fields have one
        rules = spec.rules
        if rules:
            self.recorder.last = None
        if root is not None:
            value = scope.get(root)
            value = value.get(key) if type(value) is dict else step(value, key)
        else:
            value = spec.expression.fn(scope)
        for stage in spec.stages:
            value = stage.apply(value, scope)
        if rules and (spec.quick is None or not spec.quick(value)):
            for rule in rules:
                if not rule.passes(value):
                    where = _at(subject, prefix, spec)
                    last = self.recorder.last_lookup
                    value = check_value(rules, value, where, scope, self.violations, last)
                    break
        if value is None:
            return _OMIT
        if spec.kind == REF:
            return {"id": value if type(value) is str else display(value)}
        return value

    def _record_ref(
        self, spec: CompiledField, scope: Scope, subject: Subject, prefix: str, refs: set[int]
    ) -> Any:
        """A ``PendingRef`` to an instance made earlier in this run, chosen by key if given."""
        assert spec.target is not None  # noqa: S101 - record_ref fields have a target
        instances = self.instances.get(spec.target, {})
        wanted = None
        if spec.target_key is not None:
            wanted = spec.target_key.fn(scope)
            if type(wanted) is not str:
                wanted = display(wanted)
            position = instances.get(wanted)
        elif len(instances) > 1:
            raise ConfigError(
                f"field {prefix + spec.name!r} of record {subject.record!r} refers to record "
                f"{spec.target!r}, which has {len(instances)} instances in this deal; "
                "add record_ref_key to choose one"
            )
        else:
            position = next(iter(instances.values()), None)
        if position is None:
            where = _at(subject, prefix, spec)
            self.violations.append(where.violation("record_ref", _missing(spec, wanted)))
            return _OMIT
        refs.add(position)
        pending = self._pending.get(position)
        if pending is None:
            pending = self._pending[position] = pending_ref(self.drafts[position].key)
        return pending

    def _sublist(
        self,
        spec: CompiledField,
        scope: Scope,
        subject: Subject,
        prefix: str,
        refs: set[int],
        replace: tuple[str, ...],
    ) -> Any:
        """``{"items": [...]}``; left out when empty unless the record replaces this sublist."""
        sublist = spec.sublist
        assert sublist is not None  # noqa: S101 - sublist fields have one
        items = self._items(sublist.for_each, scope)
        if isinstance(items, str):
            where = _at(subject, prefix, spec)
            self.violations.append(where.violation(MAPPING_ERROR, items))
            items = []
        lines: list[dict[str, Any]] = []
        if items:
            line_scope = dict(scope)  # one per sublist, the item rebound for each line
            name, when, steps = sublist.as_, sublist.when, sublist.steps
            for item in items:
                line_scope[name] = item
                if when is not None and not when.evaluate(line_scope):
                    continue
                line_prefix = f"{prefix}{spec.name}.items[{len(lines)}]."
                lines.append(self._payload(steps, line_scope, subject, line_prefix, refs, ()))
        if not lines and (prefix or spec.name not in replace):
            return _OMIT
        return {"items": lines}

    def _items(self, source: Expression, scope: Scope) -> Sequence[Any] | str:
        """The items of a ``for_each``: a list, or nothing (null); only read, never copied.

        Anything else is a problem: then the sentence of its ``mapping_error`` violation.
        """
        read = source.read
        try:
            if read is not None:
                items = scope.get(read[0])
                items = items.get(read[1]) if type(items) is dict else step(items, read[1])
            else:
                items = source.fn(scope)
        except Exception as error:
            return failed(named_error(error, source.source))
        if type(items) is list:
            return items
        if items is None:
            return ()
        if isinstance(items, list | tuple):
            return items
        return f"for_each {source.source!r} gave {display(items)!r}, not a list."


def _at(subject: Subject, prefix: str, spec: CompiledField) -> Subject:
    """The coordinates of one field, for its violations."""
    return _tuple(Subject, (subject.source, subject.record, prefix + spec.name, spec.label))


def _set_nested(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """``a.b.c`` → ``payload["a"]["b"]["c"]``; a non-object in the way is replaced."""
    target = payload
    for name in path[:-1]:
        inner = target.get(name)
        if not isinstance(inner, dict):
            inner = target[name] = {}
        target = inner
    target[path[-1]] = value


def failed(error: ExpressionError) -> str:
    """The sentence of a ``mapping_error`` violation."""
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
