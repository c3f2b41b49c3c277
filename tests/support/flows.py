"""Flows and lookup tables for mapping tests: the shipped flow, inline flows, golden lookups.

SuiteQL tables in tests come from the NetSuite emulator's reference data (the same records a
started emulator serves), so a plan that passes here resolves against the emulator too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dealbridge
from dealbridge.connectors.netsuite.emulator.reference_data import CURRENCIES, ITEMS
from dealbridge.mapping.loader import LoadedFlow, load_flow
from dealbridge.mapping.lookups import FlowWithTables, LookupTables

SHIPPED_FLOW = Path(dealbridge.__file__).parent / "flows" / "cpq_closed_won.yaml"
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"


def shipped_flow() -> LoadedFlow:
    """``flows/cpq_closed_won.yaml`` as the loader reads it."""
    return load_flow(SHIPPED_FLOW)


def flow_from_text(text: str, directory: Path) -> LoadedFlow:
    """A flow written inline in a test, loaded from a file in ``directory``."""
    path = directory / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    return load_flow(path)


def emulator_suiteql_tables() -> dict[str, dict[str, Any]]:
    """The shipped flow's SuiteQL tables as the emulator's reference data fills them."""
    return {
        "item_by_code": {
            item["itemId"]: str(item["id"]) for item in ITEMS if not item["isInactive"]
        },
        "currency": {currency["symbol"]: str(currency["id"]) for currency in CURRENCIES},
    }


def golden_lookups(flow: FlowWithTables) -> LookupTables:
    """The lookup tables golden plans are made with (``tests/golden/lookups.json``)."""
    snapshot = json.loads((GOLDEN_DIR / "lookups.json").read_text(encoding="utf-8"))
    return LookupTables.from_snapshot(snapshot, flow)
