"""``dealbridge flows preview``: human and JSON output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dealbridge.cli import flows as flows_cli
from dealbridge.cli.main import app
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import RecordKey
from dealbridge.errors import TransientError
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.preview import PreviewResult, preview_from_snapshot
from tests.support.flows import GOLDEN_DIR, golden_lookups, shipped_flow

runner = CliRunner()
OPPORTUNITY = "006000000000001AAA"


def golden_preview(deal: str, current: dict[RecordKey, dict[str, Any]]) -> PreviewResult:
    engine = FlowEngine(shipped_flow())
    text = (GOLDEN_DIR / "deals" / f"{deal}.json").read_text(encoding="utf-8")
    plan = engine.plan(DealGraph.model_validate(json.loads(text)), golden_lookups(engine.flow))
    return preview_from_snapshot(plan, current)


def serve(monkeypatch: pytest.MonkeyPatch, result: PreviewResult | Exception) -> list[str]:
    """Make the command's preview return ``result`` (or raise it); returns the ids asked for."""
    asked: list[str] = []

    async def fake(opportunity_id: str, **_options: Any) -> PreviewResult:
        asked.append(opportunity_id)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(flows_cli, "preview_opportunity", fake)
    return asked


def customer_changed(deal: str) -> PreviewResult:
    """The deal's customer exists in NetSuite with another name; nothing else does."""
    plan = golden_preview(deal, {}).plan
    customer = next(op for op in plan.operations if op.key.record_type == "customer")
    stored = {"id": "41", **customer.resolved_payload({}), "companyName": "Old Name Ltd"}
    return golden_preview(deal, {customer.key: stored})


def test_json_prints_the_single_preview_document(monkeypatch: pytest.MonkeyPatch) -> None:
    result = customer_changed("02_bundle")
    asked = serve(monkeypatch, result)
    answer = runner.invoke(app, ["flows", "preview", "--opportunity", OPPORTUNITY, "--json"])
    assert answer.exit_code == 0, answer.output
    assert asked == [OPPORTUNITY]
    assert json.loads(answer.stdout) == result.to_json()


def test_human_output_shows_each_record_with_before_and_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve(monkeypatch, customer_changed("02_bundle"))
    answer = runner.invoke(app, ["flows", "preview", "--opportunity", OPPORTUNITY])
    assert answer.exit_code == 0, answer.output
    out = answer.stdout
    assert "No violations." in out
    assert "update customer/SFACC-001000000000001AAA (customer)" in out
    assert "companyName" in out
    assert "Old Name Ltd" in out
    assert "→" in out
    assert "create contact/SFCON-003000000000001AAA (contact)" in out
    assert "(new record)" in out  # e.g. the subscription's billing account, not written yet
    assert " to create, 1 to update, 0 unchanged" in out


def test_violations_are_listed_and_the_exit_code_is_still_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = golden_preview("14_unknown_product", {})
    serve(monkeypatch, result)
    answer = runner.invoke(app, ["flows", "preview", "--opportunity", OPPORTUNITY])
    assert answer.exit_code == 0, answer.output
    violation = next(v for v in result.violations if v.rule == "resolves")
    flat = " ".join(answer.stdout.split())
    assert "Violations" in flat
    assert violation.source.record_id in flat
    assert "resolves" in flat
    assert "a sync would write nothing to NetSuite" in flat


def test_a_system_that_cannot_be_reached_exits_2_with_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve(monkeypatch, TransientError("NetSuite is unreachable", system="netsuite"))
    answer = runner.invoke(app, ["flows", "preview", "--opportunity", OPPORTUNITY, "--json"])
    assert answer.exit_code == 2
    assert answer.stdout == ""
    assert "error: NetSuite is unreachable" in answer.stderr


def test_a_broken_flow_file_exits_2_naming_the_line(tmp_path: Path) -> None:
    flow = tmp_path / "broken.yaml"
    flow.write_text("flow: x\nversion: 0\n", encoding="utf-8")
    args = ["flows", "preview", "--opportunity", OPPORTUNITY, "--flow", str(flow)]
    answer = runner.invoke(app, args)
    assert answer.exit_code == 2
    assert f"{flow}:2:" in answer.stderr


def test_a_malformed_opportunity_id_exits_2() -> None:
    answer = runner.invoke(app, ["flows", "preview", "--opportunity", "not-an-id"])
    assert answer.exit_code == 2
    assert "'not-an-id' is not a Salesforce Opportunity id" in answer.stderr


def test_invalid_settings_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALBRIDGE_NETSUITE__CONCURRENCY_LIMIT", "0")
    answer = runner.invoke(app, ["flows", "preview", "--opportunity", OPPORTUNITY])
    assert answer.exit_code == 2
    assert "the settings are invalid" in answer.stderr
