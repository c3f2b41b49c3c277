"""The plan a flow makes of one deal: NetSuite operations, their order, and what is wrong.

Plain data shared by the mapping (which builds plans) and the sync engine (which executes
them), so neither depends on the other. A payload may hold ``PendingRef`` placeholders for records
written earlier in the same plan; their internal ids exist only once those writes have happened,
so they are resolved at execution time, never at mapping time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
REF_MARKER = "$ref"


@dataclass(frozen=True, order=True)
class RecordKey:
    """A NetSuite record by type and external id: the identity every write is keyed on."""

    record_type: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.record_type}/{self.external_id}"


@dataclass(frozen=True)
class PendingRef:
    """In a payload: "the internal id of this record, once written", sent as ``{"id": …}``."""

    key: RecordKey


@dataclass(frozen=True)
class SourceRecord:
    """The Salesforce record a NetSuite record or a violation comes from."""

    sobject: str
    record_id: str


@dataclass(frozen=True)
class Operation:
    """One idempotent upsert of the plan.

    Attributes:
        name: The flow's record name, e.g. ``customer`` or ``subscription``.
        key: Type and external id; the write is ``PUT …/<type>/eid:<external id>``.
        payload: The body, possibly holding ``PendingRef`` values.
        depends_on: Keys that must be written first (every ``PendingRef`` is among them).
        replace: Sublists sent with ``?replace=`` so line sets are exact.
        source: Where the data came from in Salesforce.
        create_only: Payload fields sent only when the record is created; an update of a
            record already written leaves them out (values of a record several deals share).
    """

    name: str
    key: RecordKey
    payload: dict[str, Any]
    depends_on: tuple[RecordKey, ...] = ()
    replace: tuple[str, ...] = ()
    source: SourceRecord | None = None
    create_only: tuple[str, ...] = ()

    def resolved_payload(self, internal_ids: Mapping[RecordKey, str]) -> dict[str, Any]:
        """The payload with every ``PendingRef`` replaced by ``{"id": <internal id>}``."""
        resolved = _resolve(self.payload, internal_ids)
        assert isinstance(resolved, dict)  # noqa: S101 - a dict in, a dict out
        return resolved


@dataclass(frozen=True)
class Violation:
    """A reason the deal cannot (or, for warnings, should not silently) be written as it is.

    Attributes:
        source: The Salesforce record at fault.
        record: The NetSuite record it concerns (flow record name or type), or ``deal``.
        field_path: Dotted path of the NetSuite field, or the Salesforce field for deal stops.
        rule: The rule's name, e.g. ``max_length`` or ``unknown_product``.
        message: A sentence a finance user understands.
        severity: ``error`` blocks the deal; ``warning`` (e.g. a reported truncation) does not.
    """

    source: SourceRecord
    record: str
    field_path: str
    rule: str
    message: str
    severity: Severity = "error"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as shown by preview and stored with open errors."""
        return {
            "sobject": self.source.sobject,
            "salesforce_id": self.source.record_id,
            "record": self.record,
            "field": self.field_path,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass
class SyncPlan:
    """Everything a flow decided about one deal, before any write."""

    flow: str
    flow_version: int
    opportunity_id: str
    operations: list[Operation] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def errors(self) -> list[Violation]:
        """Violations that block the deal."""
        return [v for v in self.violations if v.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when nothing blocks the deal: then, and only then, it may be written."""
        return not self.errors

    def waves(self) -> list[list[Operation]]:
        """Operations grouped so that each group depends only on earlier groups.

        Operations of one wave are independent of each other. The engine sends the plan in this
        order (dependencies first) and checks it for cycles here; deals planned before it wrote
        in dependency order checkpoint once per wave.
        """
        done: set[RecordKey] = set()
        pending = list(self.operations)
        waves: list[list[Operation]] = []
        while pending:
            wave = [op for op in pending if all(dep in done for dep in op.depends_on)]
            if not wave:
                cycle = ", ".join(str(op.key) for op in pending)
                raise ValueError(f"the plan's dependencies form a cycle or miss a record: {cycle}")
            waves.append(wave)
            done.update(op.key for op in wave)
            pending = [op for op in pending if op.key not in done]
        return waves

    def to_json(self) -> dict[str, Any]:
        """A stable, readable JSON document (golden files, preview, run history)."""
        return {
            "flow": self.flow,
            "flow_version": self.flow_version,
            "opportunity": self.opportunity_id,
            "violations": [v.as_dict() for v in self.violations],
            "operations": [
                {
                    "name": op.name,
                    "type": op.key.record_type,
                    "external_id": op.key.external_id,
                    "depends_on": [str(dep) for dep in op.depends_on],
                    "replace": list(op.replace),
                    "payload": payload_to_json(op.payload),
                    **({"create_only": list(op.create_only)} if op.create_only else {}),
                }
                for op in self.operations
            ],
        }


def payload_to_json(value: Any) -> Any:
    """A payload with ``PendingRef`` shown as ``{"$ref": "<type>/<external id>"}``."""
    if isinstance(value, PendingRef):
        return {REF_MARKER: str(value.key)}
    if isinstance(value, dict):
        return {key: payload_to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [payload_to_json(item) for item in value]
    return value


def _resolve(value: Any, internal_ids: Mapping[RecordKey, str]) -> Any:
    if isinstance(value, PendingRef):
        if value.key not in internal_ids:
            raise KeyError(f"{value.key} has not been written yet")
        return {"id": internal_ids[value.key]}
    if isinstance(value, dict):
        return {key: _resolve(item, internal_ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, internal_ids) for item in value]
    return value
