"""The ledger's JSON text reads back as what was stored, whichever encoder wrote it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dealbridge.db.json_text import json_text

GRAPH: dict[str, Any] = {
    "opportunity": {"Id": "006A", "Amount": 1200.5, "IsWon": True, "Type": None},
    "account": {"Name": "Zürich Ärzte GmbH", "Emoji": "🚀", "Quote": 'say "hi"\n'},
    "lines": [{"Qty": 3, "Price": 0.1, "Big": 10**18, "Tiny": 1e-7, "Huge": 1e300}],
}


@pytest.mark.parametrize(
    "value",
    [GRAPH, [], {}, "text", 0, -1.5, None, True, [1, [2, [3, {"a": [None]}]]]],
    ids=["graph", "list", "dict", "str", "int", "float", "null", "bool", "nested"],
)
def test_the_text_reads_back_equal(value: Any) -> None:
    assert json.loads(json_text(value)) == value


def test_what_only_the_standard_library_writes_falls_back_to_it() -> None:
    huge = {"count": 2**70}
    numbered = {1: "one", 2: "two"}
    assert json_text(huge) == json.dumps(huge)
    assert json.loads(json_text(huge)) == huge
    assert json.loads(json_text(numbered)) == {"1": "one", "2": "two"}


def test_a_value_neither_encoder_writes_is_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        json_text({"tags": {"a", "b"}})


def test_a_non_finite_float_becomes_null() -> None:
    assert json.loads(json_text({"nan": math.nan, "inf": math.inf})) == {"nan": None, "inf": None}
