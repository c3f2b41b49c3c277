"""``preview_from_snapshot``: a golden deal's plan against NetSuite states given as data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import RecordKey, SyncPlan
from dealbridge.mapping.diff import NEW_RECORD
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.preview import PreviewResult, preview_from_snapshot
from tests.support.flows import GOLDEN_DIR, golden_lookups, shipped_flow

Records = dict[RecordKey, dict[str, Any]]


@pytest.fixture(scope="module")
def engine() -> FlowEngine:
    return FlowEngine(shipped_flow())


def plan_of(engine: FlowEngine, deal: str) -> SyncPlan:
    text = (GOLDEN_DIR / "deals" / f"{deal}.json").read_text(encoding="utf-8")
    return engine.plan(DealGraph.model_validate(json.loads(text)), golden_lookups(engine.flow))


def answered(value: Any) -> Any:
    """A written value as NetSuite's GET gives it back: links, refNames, numbers as floats."""
    if isinstance(value, dict) and "id" in value:
        return {"links": [{"rel": "self", "href": "https://x"}], "id": str(value["id"]),
                "refName": f"name of {value['id']}"}  # fmt: skip
    if isinstance(value, dict) and "items" in value:
        return {"links": [], "items": [answered(line) for line in value["items"]], "count": 0}
    if isinstance(value, dict):
        return {"links": [], **{name: answered(item) for name, item in value.items()}}
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def written(plan: SyncPlan) -> Records:
    """Every record of the plan as NetSuite holds it after the plan was written."""
    ids: dict[RecordKey, str] = {}
    records: Records = {}
    for number, operation in enumerate(plan.operations, start=100):
        ids[operation.key] = str(number)
        body = answered(operation.resolved_payload(ids))
        records[operation.key] = {
            **body,
            "id": str(number),
            "externalId": operation.key.external_id,
        }
    return records


def test_nothing_in_netsuite_means_every_record_is_created(engine: FlowEngine) -> None:
    plan = plan_of(engine, "02_bundle")
    result = preview_from_snapshot(plan, {})
    assert result.counts() == {"create": len(plan.operations), "update": 0, "unchanged": 0}
    for preview in result.operations:
        assert preview.diff.changes, preview.operation.key


def test_the_json_document_has_exactly_the_issue_shape(engine: FlowEngine) -> None:
    plan = plan_of(engine, "02_bundle")
    document = preview_from_snapshot(plan, {}).to_json()
    assert list(document) == ["opportunity", "violations", "operations"]
    assert document["opportunity"] == plan.opportunity_id
    planned = plan.to_json()["operations"]
    assert len(document["operations"]) == len(planned)
    for operation, expected in zip(document["operations"], planned, strict=True):
        assert list(operation) == ["type", "external_id", "action", "payload", "diff"]
        assert operation["type"] == expected["type"]
        assert operation["external_id"] == expected["external_id"]
        assert operation["payload"] == expected["payload"]
        assert operation["action"] == "create"
        assert all(list(change) == ["path", "before", "after"] for change in operation["diff"])
    json.dumps(document)  # serialisable as it is


def test_references_to_records_still_to_create_are_new_records(engine: FlowEngine) -> None:
    plan = plan_of(engine, "02_bundle")
    contact = next(
        p for p in preview_from_snapshot(plan, {}).operations if p.operation.name == "contact"
    )
    assert {"path": "company", "before": None, "after": NEW_RECORD} in contact.diff.as_list()


def test_a_written_plan_is_unchanged(engine: FlowEngine) -> None:
    plan = plan_of(engine, "09_one_time_and_recurring")
    result = preview_from_snapshot(plan, written(plan))
    assert result.counts() == {"create": 0, "update": 0, "unchanged": len(plan.operations)}


def test_one_field_changed_in_netsuite_is_one_update_naming_it(engine: FlowEngine) -> None:
    plan = plan_of(engine, "09_one_time_and_recurring")
    records = written(plan)
    key = next(op.key for op in plan.operations if op.key.record_type == "subscription")
    records[key]["memo"] = "edited in NetSuite"
    result = preview_from_snapshot(plan, records)
    updated = [p for p in result.operations if p.diff.action == "update"]
    assert [p.operation.key for p in updated] == [key]
    planned_memo = next(op for op in plan.operations if op.key == key).payload["memo"]
    assert updated[0].diff.as_list() == [
        {"path": "memo", "before": "edited in NetSuite", "after": planned_memo}
    ]


def test_a_missing_dependency_turns_its_references_into_new_records(engine: FlowEngine) -> None:
    plan = plan_of(engine, "09_one_time_and_recurring")
    records = written(plan)
    customer = next(op.key for op in plan.operations if op.key.record_type == "customer")
    del records[customer]
    result = preview_from_snapshot(plan, records)
    by_type = {p.operation.key.record_type: p for p in result.operations}
    assert by_type["customer"].diff.action == "create"
    contact = by_type["contact"].diff
    assert contact.action == "update"
    assert [c.as_dict() for c in contact.changes] == [
        {"path": "company", "before": "100", "after": NEW_RECORD}
    ]


def test_a_deal_with_violations_still_previews_its_plan(engine: FlowEngine) -> None:
    plan = plan_of(engine, "14_unknown_product")
    result: PreviewResult = preview_from_snapshot(plan, {})
    document = result.to_json()
    assert not plan.ok
    assert document["violations"] == [v.as_dict() for v in plan.violations]
    assert any(v["rule"] == "resolves" for v in document["violations"])
    assert len(document["operations"]) == len(plan.operations) > 0


def test_a_stopped_deal_has_violations_and_no_operations(engine: FlowEngine) -> None:
    result = preview_from_snapshot(plan_of(engine, "17_amendment"), {})
    document = result.to_json()
    assert document["operations"] == []
    assert [v["rule"] for v in document["violations"]] == ["amendment_not_supported"]
