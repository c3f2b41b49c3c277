"""Jinja filters for the console's numbers and times, registered once on the shared environment.

Times are shown in UTC with the zone named, as the ledger stores them: operators in several
countries read the same page, and a run's time must match the log lines it is compared with.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import Environment


def when(value: datetime | None) -> str:
    """``2026-03-01 14:05:09 UTC``, or a dash."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"


def milliseconds(value: float | None) -> str:
    """``812 ms``, ``3.4 s`` from 10 s on, or a dash."""
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


def percent(value: float | None) -> str:
    """``97.5 %`` or a dash."""
    return "—" if value is None else f"{value:.1f} %"


def pretty_json(value: Any) -> str:
    """Indented JSON with sorted keys, as the edit form and the detail panes show it."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def install_filters(environment: Environment) -> None:
    """Register ``when``, ``ms``, ``percent`` and ``pretty_json`` on ``environment``."""
    environment.filters.update(when=when, ms=milliseconds, percent=percent, pretty_json=pretty_json)
