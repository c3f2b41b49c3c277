"""Every place in a flow that holds language text, with its key path.

Language text means expressions, templates (record types and field names too, when they hold
``{{ }}``, which the engine renders with the constants), pipeline stages and regular
expressions. The loader compiles all of them up front so a flow that loads can never fail later
for a typo in a rarely used branch, and reports each failure at its key path. This list is the
single answer to "which keys hold what": the spec's docstrings say it in prose, this module says
it in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dealbridge.mapping.flow_problems import join_path
from dealbridge.mapping.spec import FieldSpec, FlowSpec, RecordSpec, Rule

SiteKind = Literal["expression", "template", "stage", "pattern"]


@dataclass(frozen=True)
class Site:
    """One piece of language text in a flow.

    Attributes:
        path: Key path, e.g. ``records[2].fields.companyName.transforms[1]``.
        kind: How it compiles: expression, template, pipeline stage or regular expression.
        text: The text as written.
    """

    path: str
    kind: SiteKind
    text: str


def flow_sites(spec: FlowSpec) -> list[Site]:
    """All language text of the flow, in file order."""
    sites = [Site("trigger.when", "expression", spec.trigger.when)]
    for index, stop in enumerate(spec.stop_when):
        base = join_path("stop_when", index)
        sites.append(Site(join_path(base, "when"), "expression", stop.when))
        sites.append(Site(join_path(base, "message"), "template", stop.message))
    for index, record in enumerate(spec.records):
        sites.extend(_record_sites(record, join_path("records", index)))
    return sites


def _record_sites(record: RecordSpec, base: str) -> list[Site]:
    sites = _named_by_template(join_path(base, "type"), record.type)
    sites.append(Site(join_path(base, "external_id"), "template", record.external_id))
    sites.extend(_optional(base, for_each=record.for_each, when=record.when))
    sites.append(Site(join_path(base, "source", "id"), "template", record.source.id))
    sites.extend(_fields_sites(record.fields, join_path(base, "fields")))
    for index, check in enumerate(record.checks):
        check_base = join_path(base, "checks", index)
        sites.append(Site(join_path(check_base, "check"), "expression", check.check))
        sites.extend(_optional(check_base, when=check.when))
        sites.append(Site(join_path(check_base, "message"), "template", check.message))
    return sites


def _fields_sites(fields: dict[str, FieldSpec], base: str) -> list[Site]:
    sites: list[Site] = []
    for name, field in fields.items():
        sites.extend(_named_by_template(join_path(base, name), name))
        sites.extend(_field_sites(field, join_path(base, name)))
    return sites


def _field_sites(field: FieldSpec, base: str) -> list[Site]:
    sites = _optional(
        base,
        value=field.value,
        ref=field.ref,
        record_ref_key=field.record_ref_key,
        when=field.when,
    )
    if field.label is not None:
        sites.append(Site(join_path(base, "label"), "template", field.label))
    for index, stage in enumerate(field.transforms):
        sites.append(Site(join_path(base, "transforms", index), "stage", stage))
    for index, rule in enumerate(field.rules):
        sites.extend(_rule_sites(rule, join_path(base, "rules", index)))
    if field.sublist is not None:
        sub_base = join_path(base, "sublist")
        sites.append(Site(join_path(sub_base, "for_each"), "expression", field.sublist.for_each))
        sites.extend(_optional(sub_base, when=field.sublist.when))
        sites.extend(_fields_sites(field.sublist.fields, join_path(sub_base, "fields")))
    return sites


def _rule_sites(rule: Rule, base: str) -> list[Site]:
    sites: list[Site] = []
    if rule.pattern is not None:
        sites.append(Site(join_path(base, "pattern"), "pattern", rule.pattern))
    if rule.message is not None:
        sites.append(Site(join_path(base, "message"), "template", rule.message))
    return sites


def _named_by_template(path: str, text: str) -> list[Site]:
    """A record type or field name written as a template (``{{ const.package_record_type }}``)."""
    return [Site(path, "template", text)] if "{{" in text else []


def _optional(base: str, **expressions: str | None) -> list[Site]:
    """Expression sites for the keys that are set."""
    return [
        Site(join_path(base, key), "expression", text)
        for key, text in expressions.items()
        if text is not None
    ]
