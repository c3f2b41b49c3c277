"""The JSON Schema of flow files, exported from the pydantic models.

``docs/flow.schema.json`` is this export (``dealbridge flows schema --output
docs/flow.schema.json``); a unit test fails when the two differ, so the published schema never
drifts from the code. Editors use it for completion and checking of flow files, e.g. with the
YAML language server's ``# yaml-language-server: $schema=…/flow.schema.json`` comment.
"""

from __future__ import annotations

import json
from typing import Any

from dealbridge.mapping.spec import FlowSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def flow_schema() -> dict[str, Any]:
    """The schema of a flow file as a JSON-ready mapping (validation mode, keys as written)."""
    schema = FlowSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema, "title": "dealbridge flow"}


def flow_schema_json() -> str:
    """The schema as stable text: pretty, keys sorted, one final newline."""
    return json.dumps(flow_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
