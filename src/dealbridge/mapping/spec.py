"""The flow file schema: pydantic models are the single definition of the language.

A flow turns one Salesforce deal graph into an ordered set of NetSuite operations. Everything a
finance-systems engineer may want to change — record types, external id templates, field names,
lookup tables, rules — lives in the flow file, versioned in git; code only supplies named
transforms, derived views of the deal, and opt-in hooks. ``docs/flow.schema.json`` is exported
from these models (``dealbridge flows schema``).

Expressions (strings in ``value``, ``when``, ``check``, ``for_each``, ``ref``…) use the small
language of ``dealbridge.mapping.expressions``; templates (``external_id``, ``label``, ``message``)
are text with ``{{ expression }}`` holes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
HOOK_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in a flow file must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One validation rule on a field; exactly one of the rule keys is set.

    ``on_violation: truncate`` (only with ``max_length``) shortens the value and reports the
    truncation as a warning instead of failing the deal.
    """

    required: bool | None = None
    type: Literal["string", "integer", "number", "boolean", "date", "datetime"] | None = None
    max_length: int | None = Field(default=None, gt=0)
    min_length: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    email: bool | None = None
    allowed: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    resolves: bool | None = Field(
        default=None, description="The value (a lookup result) must not be null: referential"
    )
    on_violation: Literal["error", "truncate", "warn"] = "error"
    message: str | None = Field(default=None, description="Template overriding the default text")

    @model_validator(mode="after")
    def _exactly_one_rule(self) -> Rule:
        keys = [k for k in _RULE_KEYS if getattr(self, k) is not None]
        if len(keys) != 1:
            raise ValueError(f"a rule names exactly one check, got {keys or 'none'}")
        if self.on_violation == "truncate" and keys != ["max_length"]:
            raise ValueError("on_violation: truncate is only allowed with max_length")
        return self

    @property
    def kind(self) -> str:
        """The rule's name, e.g. ``max_length``."""
        return next(k for k in _RULE_KEYS if getattr(self, k) is not None)


_RULE_KEYS = (
    "required",
    "type",
    "max_length",
    "min_length",
    "pattern",
    "email",
    "allowed",
    "minimum",
    "maximum",
    "exclusive_minimum",
    "resolves",
)


class FieldSpec(_Strict):
    """How one NetSuite field gets its value.

    Exactly one source: ``value`` (an expression), ``ref`` (an expression giving an internal id,
    sent as ``{"id": …}``), ``record_ref`` (the name of another record of this flow: its internal
    id, resolved when the plan executes), ``const`` (a literal) or ``sublist``.
    """

    value: str | None = None
    ref: str | None = None
    record_ref: str | None = Field(default=None, pattern=NAME_PATTERN)
    record_ref_key: str | None = Field(
        default=None, description="Expression selecting which instance of a for_each record"
    )
    const: Any = None
    sublist: SublistSpec | None = None
    transforms: list[str] = Field(default_factory=list, description="Pipe stages, in order")
    rules: list[Rule] = Field(default_factory=list)
    when: str | None = Field(default=None, description="Skip the field unless this is true")
    label: str | None = Field(default=None, description="Field name for finance users")
    source_field: str | None = Field(
        default=None, description="Salesforce field path named in violations, e.g. Account.Name"
    )
    create_only: bool = Field(
        default=False,
        description=(
            "Sent when the record is created, left out of updates of a record already written: "
            "for values of a shared record (an account's) that each deal would overwrite"
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        sources = [
            k for k in ("value", "ref", "record_ref", "sublist") if getattr(self, k) is not None
        ]
        if "const" in self.model_fields_set:
            sources.append("const")
        if len(sources) != 1:
            raise ValueError(
                f"a field takes exactly one of value, ref, record_ref, const, sublist; "
                f"got {sources or 'none'}"
            )
        return self


class SublistSpec(_Strict):
    """Lines of a NetSuite sublist, one per item of ``for_each``."""

    for_each: str
    as_: str = Field(default="line", alias="as", pattern=NAME_PATTERN)
    when: str | None = None
    fields: dict[str, FieldSpec]

    @model_validator(mode="after")
    def _no_create_only_lines(self) -> SublistSpec:
        """Lines are sent whole (or replaced), so one line field cannot be kept from updates."""
        marked = [name for name, spec in self.fields.items() if spec.create_only]
        if marked:
            raise ValueError(
                f"create_only is not allowed on sublist line fields ({', '.join(marked)}); "
                "mark the whole sublist field create_only instead"
            )
        return self


class CheckSpec(_Strict):
    """A cross-field rule: ``check`` must be true, else a violation on ``field``."""

    check: str
    field: str
    rule: str = Field(pattern=NAME_PATTERN)
    message: str
    when: str | None = None


class SourceRef(_Strict):
    """The Salesforce record a NetSuite record comes from, named in violations."""

    object: str
    id: str = Field(description="Template giving the Salesforce id")


class RecordSpec(_Strict):
    """One NetSuite record (or one per item of ``for_each``)."""

    name: str = Field(pattern=NAME_PATTERN)
    type: str = Field(description="NetSuite record type, e.g. customer or customrecord_x")
    external_id: str = Field(description="Template; must be unique per record group")
    for_each: str | None = None
    as_: str = Field(default="item", alias="as", pattern=NAME_PATTERN)
    when: str | None = None
    source: SourceRef
    depends_on: list[str] = Field(default_factory=list)
    replace: list[str] = Field(default_factory=list, description="Sublists sent with replace=")
    fields: dict[str, FieldSpec]
    checks: list[CheckSpec] = Field(default_factory=list)


class StaticLookup(_Strict):
    """A table in the flow file or in a YAML/CSV file beside it."""

    values: dict[str, Any] | None = None
    file: str | None = None
    key_column: str = "key"
    value_column: str = "value"
    case_insensitive: bool = True
    default: Any = None

    @model_validator(mode="after")
    def _values_or_file(self) -> StaticLookup:
        if (self.values is None) == (self.file is None):
            raise ValueError("a static lookup has exactly one of values or file")
        return self


class SuiteQLLookup(_Strict):
    """A table read from NetSuite by SuiteQL, cached; e.g. item internal id by ``itemid``."""

    table: str = Field(pattern=NAME_PATTERN)
    key: str = Field(pattern=NAME_PATTERN)
    value: str = Field(default="id", pattern=NAME_PATTERN)
    where: str | None = Field(default=None, description="Extra SuiteQL condition, trusted text")
    cache_seconds: int = Field(default=3600, ge=0)
    case_insensitive: bool = False


class LookupSpec(_Strict):
    """A named lookup table; exactly one of ``static`` or ``suiteql``."""

    static: StaticLookup | None = None
    suiteql: SuiteQLLookup | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> LookupSpec:
        if (self.static is None) == (self.suiteql is None):
            raise ValueError("a lookup is exactly one of static or suiteql")
        return self


class StopSpec(_Strict):
    """A deal-level condition that stops the whole deal with one clear violation."""

    when: str
    rule: str = Field(pattern=NAME_PATTERN)
    message: str
    field: str = "Opportunity"


class TriggerSpec(_Strict):
    """Which Salesforce change starts the flow."""

    object: str = "Opportunity"
    when: str = Field(description="Expression over the deal graph, e.g. opportunity.IsWon")


class HooksSpec(_Strict):
    """Opt-in Python for what the language cannot say, as ``module:function``."""

    before_map: str | None = Field(default=None, pattern=HOOK_PATTERN)
    after_map: str | None = Field(default=None, pattern=HOOK_PATTERN)


class FlowSpec(_Strict):
    """A whole flow file."""

    flow: str = Field(pattern=NAME_PATTERN)
    version: int = Field(ge=1)
    description: str = ""
    trigger: TriggerSpec
    constants: dict[str, Any] = Field(
        default_factory=dict,
        description="Named configuration (custom field ids, defaults) usable as const.<name>",
    )
    lookups: dict[str, LookupSpec] = Field(default_factory=dict)
    hooks: HooksSpec = Field(default_factory=HooksSpec)
    stop_when: list[StopSpec] = Field(default_factory=list)
    records: list[RecordSpec] = Field(min_length=1)

    @field_validator("records")
    @classmethod
    def _unique_record_names(cls, records: list[RecordSpec]) -> list[RecordSpec]:
        seen: set[str] = set()
        for record in records:
            if record.name in seen:
                raise ValueError(f"record name {record.name!r} is used twice")
            seen.add(record.name)
        return records

    @model_validator(mode="after")
    def _dependencies_exist(self) -> FlowSpec:
        names = {record.name for record in self.records}
        for record in self.records:
            for dependency in [*record.depends_on, *_record_refs(record.fields)]:
                if dependency not in names:
                    raise ValueError(
                        f"record {record.name!r} depends on unknown record {dependency!r}"
                    )
        return self

    def record(self, name: str) -> RecordSpec:
        """The record spec of that name (KeyError if none)."""
        for record in self.records:
            if record.name == name:
                return record
        raise KeyError(name)


def _record_refs(fields: dict[str, FieldSpec]) -> list[str]:
    """Names of records referenced by ``record_ref``, sublists included."""
    found: list[str] = []
    for spec in fields.values():
        if spec.record_ref:
            found.append(spec.record_ref)
        if spec.sublist:
            found.extend(_record_refs(spec.sublist.fields))
    return found


FieldSpec.model_rebuild()
SublistSpec.model_rebuild()
