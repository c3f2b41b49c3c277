"""The text of the ledger's JSON columns: written by orjson, or by the standard library.

Why: every deal stores its graph (~9 KB) and its plan (~15 KB) as JSON, and the standard
library's encoder took ~5x orjson's CPU for them (issue 8). orjson refuses what the standard
library writes in its own way (integers beyond 64 bits, dictionary keys that are not strings);
those values fall back to it, so whatever the ledger stored before it still stores. The text
differs only in spelling (no spaces, UTF-8 rather than escape sequences); it reads back equal.
One value reads back otherwise: a float NaN or infinity, which is not JSON, is written as
``null`` (the standard library wrote ``NaN``, which PostgreSQL refused).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def json_text(value: Any) -> str:
    """``value`` as JSON text for a JSON column."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: what only the standard library writes
        return json.dumps(value)
