"""Golden files: every deal of ``tests/golden/deals`` planned by the shipped flow, compared whole.

Each expected plan (``tests/golden/expected/<deal>.json``) is ``SyncPlan.to_json()`` written
pretty with sorted keys, so a change of the flow or the engine shows as a readable diff. After an
intended change, regenerate with ``UPDATE_GOLDEN=1 pytest tests/unit/mapping_engine/test_golden.py``
and review every changed file by hand before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.mapping.engine import FlowEngine
from tests.support.flows import GOLDEN_DIR, golden_lookups, shipped_flow

DEALS = sorted((GOLDEN_DIR / "deals").glob("*.json"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def engine() -> FlowEngine:
    return FlowEngine(shipped_flow())


def render(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_there_are_at_least_twenty_golden_deals() -> None:
    assert len(DEALS) >= 20


@pytest.mark.parametrize("deal_file", DEALS, ids=[path.stem for path in DEALS])
def test_plan_matches_the_golden_file(engine: FlowEngine, deal_file: Path) -> None:
    graph = DealGraph.model_validate(json.loads(deal_file.read_text(encoding="utf-8")))
    plan = engine.plan(graph, golden_lookups(engine.flow))
    plan.waves()  # the order is valid
    actual = render(plan.to_json())
    expected_file = GOLDEN_DIR / "expected" / deal_file.name
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"no golden file; run with UPDATE_GOLDEN=1: {expected_file}"
    assert actual == expected_file.read_text(encoding="utf-8")
