"""Validation findings that a person answered with an edited payload (edit-and-retry).

Why waive them: a flow rule judges the payload the flow mapped (a customer name longer than
NetSuite allows, say). When an operator edits that record's payload in the console and retries,
the edited payload replaces the mapped one for the next write, so a finding about the mapped
payload no longer describes what will be sent. Without this, a deal blocked by validation could
never be fixed by an edit: the retry would be refused by the same rule before the edit was used.

Only findings that name one operation of the plan, and only for records with a pending edit, are
waived; findings about the deal as a whole (no primary quote, say) still block. NetSuite still
validates whatever is sent, and the edit itself is audited by the operator actions.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from dealbridge.core.records import RecordKey

WAIVED = "waived"


def blocking(violations: list[dict[str, Any]]) -> bool:
    """Whether any finding stops the deal (severity ``error``)."""
    return any(v.get("severity", "error") == "error" for v in violations)


def operations_about(
    violation: dict[str, Any], operations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The plan's operations a finding may be about: of its record, from its source if named."""
    same_record = [op for op in operations if op["name"] == violation.get("record")]
    source_id = violation.get("salesforce_id")
    matching = [op for op in same_record if op.get("source") and op["source"][1] == source_id]
    return matching if matching else same_record


def operation_key(violation: dict[str, Any], operations: list[dict[str, Any]]) -> RecordKey | None:
    """The record a finding is about, when it names exactly one operation of the plan."""
    chosen = operations_about(violation, operations)
    if len(chosen) != 1:
        return None
    return RecordKey(chosen[0]["type"], chosen[0]["external_id"])


def waive_overridden(document: dict[str, Any], overridden: Collection[RecordKey]) -> dict[str, Any]:
    """``document`` with the blocking findings about ``overridden`` records marked waived.

    A waived finding keeps its text (the run page still shows what the rule said) with
    ``severity`` ``"waived"`` and ``waived_for`` naming the edited record.
    """
    if not overridden:
        return document
    operations = document["operations"]
    violations: list[dict[str, Any]] = []
    for violation in document["violations"]:
        key = operation_key(violation, operations)
        if violation.get("severity", "error") == "error" and key is not None and key in overridden:
            violation = {**violation, "severity": WAIVED, "waived_for": str(key)}
        violations.append(violation)
    return {**document, "violations": violations}


def operation_keys(document: dict[str, Any]) -> list[RecordKey]:
    """Every record the plan writes."""
    return [RecordKey(op["type"], op["external_id"]) for op in document["operations"]]
