"""The published JSON Schema of flow files is the current export of the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from dealbridge.mapping.flow_schema import SCHEMA_DIALECT, flow_schema, flow_schema_json

DOCS_SCHEMA = Path(__file__).parents[3] / "docs" / "flow.schema.json"


def test_docs_schema_equals_the_current_export() -> None:
    assert DOCS_SCHEMA.read_text(encoding="utf-8") == flow_schema_json(), (
        "docs/flow.schema.json is stale: run `dealbridge flows schema --output "
        "docs/flow.schema.json`"
    )


def test_schema_is_stable_pretty_json_with_file_keys() -> None:
    text = flow_schema_json()
    assert text.endswith("}\n")
    assert text == flow_schema_json()
    schema = json.loads(text)
    assert schema["$schema"] == SCHEMA_DIALECT
    assert schema["title"] == "dealbridge flow"
    assert set(schema["required"]) == {"flow", "version", "trigger", "records"}
    assert schema["additionalProperties"] is False


def test_aliases_are_the_keys_users_write() -> None:
    record = flow_schema()["$defs"]["RecordSpec"]["properties"]
    assert "as" in record
    assert "as_" not in record
