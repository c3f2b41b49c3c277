"""Validation rules of a flow: field rules and record checks, as finance users read them.

Every rule of ``spec.Rule`` is compiled once per flow (``CompiledRule``) and run on a field's
final value (after its transforms). A failed rule becomes a ``core.records.Violation`` naming
the Salesforce record (object and id), the NetSuite record (the flow's record name), the field
path in the payload (``companyName``, ``member.items[2].item``), the rule and a sentence; the
rule's ``message`` template, when given, replaces the default sentence and sees the record's
scope plus ``value``, ``label`` and ``limit`` (the rule's number or list).

Semantics, per rule:

- ``required`` — fails on null, empty text and an empty list.
- ``resolves`` — fails on null: the lookup behind the value found nothing. The default sentence
  names the lookup table and the key that was looked up.
- Every other rule passes a null value (emptiness is ``required``'s job), so a missing optional
  field is never reported twice.
- ``type`` — ``string``, ``integer`` (whole numbers, ``12.0`` included), ``number``,
  ``boolean``, ``date`` (``YYYY-MM-DD``), ``datetime`` (ISO 8601).
- ``max_length`` / ``min_length`` — characters of text (items of a list). ``on_violation:
  truncate`` cuts the value to the limit and reports a *warning*; ``warn`` reports a warning and
  keeps the value; ``error`` (the default) blocks the deal.
- ``pattern`` — a regular expression *searched* in the text (as JSON Schema does): anchor it
  with ``^…$`` to match the whole value.
- ``email`` — one ``@``, no spaces, a dot in the domain.
- ``allowed`` — the value is one of the list.
- ``minimum`` / ``maximum`` (inclusive), ``exclusive_minimum`` — numbers; text that is not a
  number fails.

A rule with ``on_violation: warn`` reports a warning instead of an error for any kind.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from dealbridge.core.records import Severity, SourceRecord, Violation
from dealbridge.errors import ConfigError
from dealbridge.mapping.expressions import Expression, ExpressionError, Template
from dealbridge.mapping.spec import CheckSpec, Rule
from dealbridge.mapping.value_text import display

TemplateFor = Callable[[str], Template]
ExpressionFor = Callable[[str], Expression]
LastLookup = Callable[[], tuple[str, Any] | None]

_NUMBERS = frozenset({int, float})  # exact types: a bool is not a number here
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SHOWN_CHARS = 40
_TYPE_WORDS = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "yes/no value",
    "date": "date (YYYY-MM-DD)",
    "datetime": "date and time",
}


class Subject(NamedTuple):
    """Where a value sits, for the violations about it (a tuple: one is made per record).

    Attributes:
        source: The Salesforce record the value comes from.
        record: The flow's record name, e.g. ``customer``.
        path: The field path in the payload, e.g. ``member.items[2].item``.
        label: The field's name for finance users, e.g. ``account name``.
    """

    source: SourceRecord
    record: str
    path: str
    label: str

    def violation(self, rule: str, message: str, severity: Severity = "error") -> Violation:
        """A violation of ``rule`` on this value."""
        return Violation(self.source, self.record, self.path, rule, message, severity)


class CompiledRule:
    """One ``spec.Rule``, ready to run many times.

    Raises:
        ConfigError: A ``pattern`` is not a valid regular expression.
    """

    __slots__ = ("_regex", "kind", "limit", "message", "on_violation", "passes")

    def __init__(self, rule: Rule, template_for: TemplateFor) -> None:
        self.kind = rule.kind
        self.limit: Any = getattr(rule, self.kind)
        self.on_violation = rule.on_violation
        self.message = template_for(rule.message) if rule.message else None
        self._regex = _compile_pattern(rule.pattern) if rule.pattern is not None else None
        # Whether a value satisfies the rule: the bound test itself, one call per check.
        self.passes: Callable[[Any], bool] = getattr(self, f"_{self.kind}")

    def _required(self, value: Any) -> bool:
        kind = type(value)
        if kind is float or kind is int:  # the usual amounts, without three comparisons
            return True
        if kind is str:
            return value != "" or not self.limit
        return not self.limit or value not in (None, "", [])

    def _resolves(self, value: Any) -> bool:
        return not self.limit or value is not None

    def _type(self, value: Any) -> bool:
        return value is None or _TYPE_TESTS[self.limit](value)

    def _max_length(self, value: Any) -> bool:
        return not isinstance(value, str | list) or len(value) <= self.limit

    def _min_length(self, value: Any) -> bool:
        return not isinstance(value, str | list) or len(value) >= self.limit

    def _pattern(self, value: Any) -> bool:
        assert self._regex is not None  # noqa: S101 - set for pattern rules
        return value is None or bool(self._regex.search(display(value)))

    def _email(self, value: Any) -> bool:
        return not self.limit or value is None or bool(_EMAIL.match(display(value)))

    def _allowed(self, value: Any) -> bool:
        return value is None or value in self.limit

    def _minimum(self, value: Any) -> bool:
        return value is None or (type(value) in _NUMBERS and value >= self.limit)

    def _maximum(self, value: Any) -> bool:
        return value is None or (type(value) in _NUMBERS and value <= self.limit)

    def _exclusive_minimum(self, value: Any) -> bool:
        return value is None or (type(value) in _NUMBERS and value > self.limit)


def _compile_pattern(source: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as error:
        raise ConfigError(
            f"pattern {source!r} is not a valid regular expression: {error}"
        ) from None


def compile_rules(rules: Sequence[Rule], template_for: TemplateFor) -> tuple[CompiledRule, ...]:
    """Every rule of a field, compiled."""
    return tuple(CompiledRule(rule, template_for) for rule in rules)


def quick_check(rules: Sequence[CompiledRule]) -> Callable[[Any], bool] | None:
    """A test that is true only when the value passes every rule, for the common cases, or None.

    Run before the rules themselves: a value it accepts needs no rule run. It says nothing about
    a value it refuses — the rules decide those — so it only has to be right when it accepts.
    Covered: numbers under ``required``/``minimum``/``maximum``/``exclusive_minimum`` (quantities,
    prices, discounts) and text under ``required``/``type: date`` (start and end dates).
    """
    kinds = {rule.kind for rule in rules}
    if rules and kinds <= _NUMBER_RULES:
        low = max([rule.limit for rule in rules if rule.kind == "minimum"], default=-math.inf)
        high = min([rule.limit for rule in rules if rule.kind == "maximum"], default=math.inf)
        above = max(
            [rule.limit for rule in rules if rule.kind == "exclusive_minimum"], default=-math.inf
        )
        return lambda value: (
            (type(value) is float or type(value) is int) and low <= value <= high and value > above
        )
    if rules and kinds <= {"required", "type"} and {rule.limit for rule in rules} <= {True, "date"}:
        return lambda value: type(value) is str and _is_date_text(value)
    return None


_NUMBER_RULES = frozenset({"required", "minimum", "maximum", "exclusive_minimum"})


def check_value(
    rules: Sequence[CompiledRule],
    value: Any,
    subject: Subject,
    scope: Mapping[str, Any],
    out: list[Violation],
    last_lookup: LastLookup | None = None,
) -> Any:
    """Run ``rules`` on ``value``, appending violations to ``out``; returns the value to send.

    The returned value differs from ``value`` only when a ``truncate`` rule shortened it.
    """
    for rule in rules:
        if rule.passes(value):
            continue
        truncating = rule.kind == "max_length" and rule.on_violation == "truncate"
        severity: Severity = "error" if rule.on_violation == "error" else "warning"
        lookup = last_lookup() if last_lookup is not None and rule.kind == "resolves" else None
        text = _message(rule, value, subject, scope, lookup, truncating)
        out.append(subject.violation(rule.kind, text, severity))
        if truncating:
            value = value[: rule.limit]
    return value


def _message(
    rule: CompiledRule,
    value: Any,
    subject: Subject,
    scope: Mapping[str, Any],
    lookup: tuple[str, Any] | None,
    truncating: bool,
) -> str:
    default = default_message(rule, value, subject.label, lookup, truncating=truncating)
    if rule.message is None:
        return default
    extra = {"value": value, "label": subject.label, "limit": rule.limit}
    try:
        return rule.message.render({**scope, **extra})
    except ExpressionError as error:
        return f"{default} (The flow's message for this rule failed: {error.message})"


def default_message(
    rule: CompiledRule,
    value: Any,
    label: str,
    lookup: tuple[str, Any] | None = None,
    *,
    truncating: bool = False,
) -> str:
    """The built-in sentence for a failed rule (see the module docstring)."""
    shown = _shown(value)
    kind, limit = rule.kind, rule.limit
    if kind == "required":
        return f"The {label} is missing; NetSuite needs it."
    if kind == "resolves":
        return _unresolved(label, lookup)
    if kind == "max_length" and truncating:
        return (
            f"The {label} {shown} is {len(value)} characters long; it was shortened to the "
            f"{limit} characters NetSuite allows."
        )
    if kind == "max_length":
        return (
            f"The {label} {shown} is {len(value)} characters long; NetSuite allows at most {limit}."
        )
    if kind == "min_length":
        return f"The {label} {shown} is {len(value)} characters long; it needs at least {limit}."
    if kind in ("minimum", "maximum", "exclusive_minimum") and not _is_number(value):
        return f"The {label} {shown} is not a number."
    return _SENTENCES[kind](label, shown, limit)


_SENTENCES: dict[str, Callable[[str, str, Any], str]] = {
    "type": lambda label, shown, kind: f"The {label} {shown} is not a valid {_TYPE_WORDS[kind]}.",
    "pattern": lambda label, shown, _: f"The {label} {shown} does not have the expected format.",
    "email": lambda label, shown, _: f"The {label} {shown} is not a valid email address.",
    "allowed": lambda label, shown, allowed: (
        f"The {label} {shown} is not one of the allowed values: "
        + ", ".join(_shown(item) for item in allowed)
        + "."
    ),
    "minimum": lambda label, shown, limit: (
        f"The {label} is {shown}; it must be at least {display(limit)}."
    ),
    "maximum": lambda label, shown, limit: (
        f"The {label} is {shown}; it must be at most {display(limit)}."
    ),
    "exclusive_minimum": lambda label, shown, limit: (
        f"The {label} is {shown}; it must be more than {display(limit)}."
    ),
}


def _unresolved(label: str, lookup: tuple[str, Any] | None) -> str:
    if lookup is None:
        return f"The {label} has no matching NetSuite record."
    table, key = lookup
    if key is None or key == "":
        return f"The {label} is empty, so no NetSuite record can be found for it."
    return f"The {label} {_shown(key)} has no matching NetSuite record (lookup table '{table}')."


def _shown(value: Any) -> str:
    """A value as a sentence quotes it: text in quotes, cut after 40 characters."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return f"'{value[:_SHOWN_CHARS].rstrip()} …'"
        return f"'{value}'"
    return display(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and _is_date_text(value)


@functools.lru_cache(maxsize=4096)
def _is_date_text(value: str) -> bool:
    """Whether text is a real ``YYYY-MM-DD`` date; kept: a deal repeats its few dates a lot."""
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "date": _is_date,
    "datetime": _is_datetime,
}


class CompiledCheck:
    """A record's cross-field ``check``, compiled."""

    __slots__ = ("check", "field", "message", "rule", "when")

    def __init__(self, spec: CheckSpec, expression_for: ExpressionFor, template_for: TemplateFor):
        self.check = expression_for(spec.check)
        self.when = expression_for(spec.when) if spec.when else None
        self.message = template_for(spec.message)
        self.field = spec.field
        self.rule = spec.rule


def run_checks(
    checks: Sequence[CompiledCheck],
    scope: Mapping[str, Any],
    source: SourceRecord,
    record: str,
    out: list[Violation],
) -> None:
    """Append a violation for every check whose condition holds and whose ``check`` is false.

    Raises:
        ExpressionError: A condition or message failed on this deal's values.
    """
    for check in checks:
        if check.when is not None and not check.when.evaluate(scope):
            continue
        if not check.check.evaluate(scope):
            message = check.message.render(scope)
            out.append(Violation(source, record, check.field, check.rule, message))
