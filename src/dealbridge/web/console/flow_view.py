"""A flow file as tables a finance or RevOps person can read: records, fields, rules, lookups.

Why a view model rather than the spec in the template: a field's source is one of five keys, a
sublist nests fields, and rules are objects with one key set; flattening them here keeps the
template a plain loop and states each field's origin in words ("expression", "constant", …).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dealbridge.mapping.loader import LoadedFlow
from dealbridge.mapping.spec import FieldSpec, LookupSpec, RecordSpec, Rule


@dataclass(frozen=True)
class FieldRow:
    """One NetSuite field (sublist fields carry the sublist's name in ``path``)."""

    path: str
    label: str | None
    kind: str
    source: str
    transforms: tuple[str, ...]
    rules: tuple[str, ...]
    when: str | None


@dataclass(frozen=True)
class RecordView:
    """One record of the flow: what it is, where it comes from, and its fields."""

    name: str
    record_type: str
    external_id: str
    source: str
    for_each: str | None
    when: str | None
    depends_on: tuple[str, ...]
    fields: tuple[FieldRow, ...]
    checks: tuple[str, ...]


@dataclass(frozen=True)
class LookupView:
    """One lookup table: where its values come from."""

    name: str
    kind: str
    description: str


@dataclass(frozen=True)
class FlowView:
    """The whole flow, readable."""

    name: str
    version: int
    description: str
    trigger: str
    stops: tuple[str, ...]
    constants: tuple[tuple[str, str], ...]
    lookups: tuple[LookupView, ...]
    records: tuple[RecordView, ...]
    path: str | None


def flow_view(flow: LoadedFlow) -> FlowView:
    """The view of a loaded flow."""
    spec = flow.spec
    return FlowView(
        name=spec.flow,
        version=spec.version,
        description=spec.description,
        trigger=f"{spec.trigger.object} when {spec.trigger.when}",
        stops=tuple(
            f"{stop.message} (when {stop.when}; rule {stop.rule})" for stop in spec.stop_when
        ),
        constants=tuple((name, _text(value)) for name, value in spec.constants.items()),
        lookups=tuple(_lookup(name, lookup) for name, lookup in spec.lookups.items()),
        records=tuple(_record(record) for record in spec.records),
        path=flow.path.name if flow.path is not None else None,
    )


def _record(record: RecordSpec) -> RecordView:
    return RecordView(
        name=record.name,
        record_type=record.type,
        external_id=record.external_id,
        source=f"{record.source.object} {record.source.id}",
        for_each=f"{record.for_each} as {record.as_}" if record.for_each else None,
        when=record.when,
        depends_on=tuple(record.depends_on),
        fields=tuple(_fields(record.fields)),
        checks=tuple(f"{check.field}: {check.message} ({check.check})" for check in record.checks),
    )


def _fields(fields: dict[str, FieldSpec], prefix: str = "") -> list[FieldRow]:
    rows: list[FieldRow] = []
    for name, spec in fields.items():
        path = prefix + name
        if spec.sublist is not None:
            sublist = spec.sublist
            source = f"one line per {sublist.for_each} as {sublist.as_}"
            rows.append(FieldRow(path, spec.label, "sublist", source, (), (), sublist.when))
            rows.extend(_fields(sublist.fields, prefix=f"{path}[]."))
            continue
        kind, source = _source(spec)
        rules = tuple(_rule(rule) for rule in spec.rules)
        rows.append(
            FieldRow(path, spec.label, kind, source, tuple(spec.transforms), rules, spec.when)
        )
    return rows


def _source(spec: FieldSpec) -> tuple[str, str]:
    if spec.value is not None:
        return "expression", spec.value
    if spec.ref is not None:
        return "reference", spec.ref
    if spec.record_ref is not None:
        chosen = f" ({spec.record_ref_key})" if spec.record_ref_key else ""
        return "record of this flow", spec.record_ref + chosen
    return "constant", _text(spec.const)


def _rule(rule: Rule) -> str:
    values = rule.model_dump(exclude_none=True, exclude_defaults=True)
    parts = [name if value is True else f"{name} {_text(value)}" for name, value in values.items()]
    return ", ".join(parts) or "rule"


def _lookup(name: str, lookup: LookupSpec) -> LookupView:
    if lookup.static is not None:
        static = lookup.static
        size = len(static.values or {})
        kind = f"static table ({static.file})" if static.file else f"static table ({size} values)"
    elif lookup.suiteql is not None:
        query = lookup.suiteql
        kind = f"NetSuite {query.table}.{query.key} → {query.value}"
    else:
        kind = "lookup"
    return LookupView(name, kind, lookup.description or "")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
