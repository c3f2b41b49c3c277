"""Writes the golden deal graphs (``tests/golden/deals/*.json``) from readable recipes.

Run ``python -m tests.golden.make_deals`` after changing a recipe (``deal_recipes`` and
``flawed_deal_recipes``); then regenerate the expected plans with
``UPDATE_GOLDEN=1 pytest tests/unit/mapping_engine/test_golden.py`` and review every changed
expected file by hand. Each deal file holds a ``description`` (ignored by ``DealGraph``) and the
graph in the ``DealGraph`` JSON shape.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.golden import flawed_deal_recipes  # noqa: F401 - registers its recipes
from tests.golden.deal_recipes import RECIPES
from tests.support.cpq_deals import sfid

DEALS_DIR = Path(__file__).parent / "deals"


_PER_DEAL = re.compile(r"^(a0v|a0q|006)(\d{12})AAA$")


def renumber(value: Any, deal_number: int) -> Any:
    """Make quote line, quote and opportunity ids unique across deals: ``<deal><3 digits>``.

    Recipes number lines 1, 2, 3…; in one org (and one emulator) two deals never share a quote
    line, so every deal file gets its own block of ids (deal 3's line 1 is ``a0v…003001AAA``).
    """
    if isinstance(value, dict):
        return {key: renumber(item, deal_number) for key, item in value.items()}
    if isinstance(value, list):
        return [renumber(item, deal_number) for item in value]
    if isinstance(value, str) and (match := _PER_DEAL.match(value)):
        return sfid(match[1], deal_number * 1000 + int(match[2]))
    return value


def main() -> None:
    """Write every recipe's deal file."""
    DEALS_DIR.mkdir(parents=True, exist_ok=True)
    for name, build in RECIPES.items():
        description, graph = build()
        document = {"description": description, **renumber(graph, int(name[:2]))}
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        (DEALS_DIR / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
