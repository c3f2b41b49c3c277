"""``dealbridge flows check`` and ``dealbridge flows schema``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dealbridge.cli import flows as flows_cli
from dealbridge.cli.main import app
from dealbridge.mapping.flow_schema import flow_schema_json

FLOWS = Path(__file__).parent / "flows"
runner = CliRunner()


def test_check_prints_ok_with_counts() -> None:
    result = runner.invoke(app, ["flows", "check", str(FLOWS / "good.yaml")])
    assert result.exit_code == 0, result.output
    assert f"OK {FLOWS / 'good.yaml'}".replace(f"{Path.cwd()}/", "") in result.stdout
    assert "(2 records, 4 lookups)" in result.stdout


def test_check_prints_every_problem_and_exits_1() -> None:
    files = [str(FLOWS / "good.yaml"), str(FLOWS / "duplicate_keys.yaml")]
    result = runner.invoke(app, ["flows", "check", *files])
    assert result.exit_code == 1
    assert "(2 records, 4 lookups)" in result.stdout
    assert "duplicate_keys.yaml:13:7: records[0].fields.companyName: duplicate key" in (
        result.stderr
    )
    assert "duplicate_keys.yaml:15:1: version: duplicate key 'version'" in result.stderr


def test_check_hooks_option_imports_hooks(tmp_path: Path) -> None:
    flow = (FLOWS / "good.yaml").read_text(encoding="utf-8").replace("json:dumps", "json:nope")
    (tmp_path / "tables").mkdir()
    for table in ("frequency.csv", "regions.yaml"):
        source = FLOWS / "tables" / table
        (tmp_path / "tables" / table).write_text(source.read_text(encoding="utf-8"))
    (tmp_path / "flow.yaml").write_text(flow, encoding="utf-8")
    assert runner.invoke(app, ["flows", "check", str(tmp_path / "flow.yaml")]).exit_code == 0
    result = runner.invoke(app, ["flows", "check", "--hooks", str(tmp_path / "flow.yaml")])
    assert result.exit_code == 1
    assert "hooks.before_map: module 'json' has no function 'nope'" in result.stderr


def test_check_defaults_to_shipped_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows_cli, "shipped_flow_paths", lambda: [FLOWS / "good.yaml"])
    result = runner.invoke(app, ["flows", "check"])
    assert result.exit_code == 0
    assert "good.yaml (2 records, 4 lookups)" in result.stdout


def test_check_without_any_flow_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows_cli, "shipped_flow_paths", list)
    result = runner.invoke(app, ["flows", "check"])
    assert result.exit_code == 0
    assert "no flow files to check" in result.stdout


def test_schema_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["flows", "schema"])
    assert result.exit_code == 0
    assert result.stdout == flow_schema_json()
    target = tmp_path / "flow.schema.json"
    result = runner.invoke(app, ["flows", "schema", "--output", str(target)])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == flow_schema_json()
