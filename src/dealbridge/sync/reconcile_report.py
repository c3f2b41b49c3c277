"""The reconciliation report: what was found, as one JSON document, CSV or a self-contained page.

The JSON document (``Report.to_json``) is what ``reconcile --format json`` prints, what the
ledger keeps for the console (``reconcile_store``) and what the other formats are made from::

    {"summary": {"missing": 0, "drift": 1, "orphan": 0, "duplicate": 0, "money": 0,
                 "blocked": 0},
     "items": [{"category": "drift", "record_type": "customer", "external_id": "SFACC-…",
                "netsuite_id": "412", "opportunities": ["006…"], "message": "…",
                "differences": [{"field": "companyName", "expected": "Acme",
                                 "actual": "ACME Ltd"}]}, …],
     "totals": {"USD": {"salesforce": "1200.00", "planned": "1199.96", "netsuite": "1199.96",
                        "difference": "-0.04", "rounding": "-0.04", "deals": 3}},
     "checked": {"deals": 3, "records": 27, "price_intervals": 9},
     "calls": {"salesforce": 3, "netsuite": 12},
     "generated_at": "2026-…Z", "window": {"since": null, "until": null}}

Categories: ``missing`` (a record the flow plans is not in NetSuite), ``drift`` (it is, with
other body-field values: one item per record, every differing field with both values),
``orphan`` (NetSuite holds a record with our external id that no won deal plans any more),
``duplicate`` (a customer or contact without our external id whose name or email is one of
ours), ``money`` (a deal whose subscriptions are not worth its quote's net amount) and
``blocked`` (a won deal the flow refuses, so NetSuite holds nothing for it; the open error says
why). Money values are decimal strings, so no float ever rounds a cent.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("missing", "drift", "orphan", "duplicate", "money", "blocked")
REPAIRABLE = frozenset({"missing", "drift", "money"})
CSV_COLUMNS = (
    "category",
    "record_type",
    "external_id",
    "netsuite_id",
    "opportunities",
    "field",
    "expected",
    "actual",
    "message",
)

TOTAL_COLUMNS = ("salesforce", "planned", "netsuite", "difference", "rounding", "deals")


@dataclass(frozen=True)
class Difference:
    """One body field whose NetSuite value is not what the flow plans."""

    field: str
    expected: Any
    actual: Any

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"field": self.field, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class Item:
    """One finding.

    Attributes:
        category: One of ``CATEGORIES``.
        message: A sentence a finance user understands.
        record_type: The NetSuite record type concerned, if one.
        external_id: Its external id (ours, or None for a duplicate without one).
        netsuite_id: Its internal id, when it exists.
        opportunities: The won deals concerned (those whose plan holds the record).
        differences: Drift only: each differing field.
        amounts: Money only: ``currency``, ``salesforce`` (the quote), ``planned`` (the
            flow), ``netsuite``, ``difference`` (NetSuite - quote) and ``rounding`` (planned -
            quote), as decimal strings (``reconcile_money``).
    """

    category: str
    message: str
    record_type: str | None = None
    external_id: str | None = None
    netsuite_id: str | None = None
    opportunities: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    amounts: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The item as the report's ``items`` list holds it."""
        data: dict[str, Any] = {
            "category": self.category,
            "record_type": self.record_type,
            "external_id": self.external_id,
            "netsuite_id": self.netsuite_id,
            "opportunities": list(self.opportunities),
            "message": self.message,
        }
        if self.differences:
            data["differences"] = [difference.to_json() for difference in self.differences]
        if self.amounts is not None:
            data["amounts"] = dict(self.amounts)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        """The item ``to_json`` wrote."""
        return cls(
            category=data["category"],
            message=data["message"],
            record_type=data.get("record_type"),
            external_id=data.get("external_id"),
            netsuite_id=data.get("netsuite_id"),
            opportunities=tuple(data.get("opportunities") or ()),
            differences=tuple(
                Difference(d["field"], d.get("expected"), d.get("actual"))
                for d in data.get("differences") or ()
            ),
            amounts=data.get("amounts"),
        )


@dataclass
class Report:
    """Everything one reconciliation found (see the module docstring)."""

    generated_at: str
    window: dict[str, str | None]
    items: list[Item] = field(default_factory=list)
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Items per category, every category present (zero included)."""
        counts = Counter(item.category for item in self.items)
        return {category: counts.get(category, 0) for category in CATEGORIES}

    @property
    def clean(self) -> bool:
        """Whether nothing at all was found."""
        return not self.items

    def repairable(self) -> list[Item]:
        """The items ``--repair`` acts on (missing and drifted records, money)."""
        return [item for item in self.items if item.category in REPAIRABLE]

    def to_json(self) -> dict[str, Any]:
        """The one JSON document of the module docstring."""
        return {
            "summary": self.summary(),
            "items": [item.to_json() for item in self.items],
            "totals": self.totals,
            "checked": self.checked,
            "calls": self.calls,
            "generated_at": self.generated_at,
            "window": self.window,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """The report ``to_json`` wrote (the ledger's copy, for the console)."""
        return cls(
            generated_at=data["generated_at"],
            window=dict(data.get("window") or {}),
            items=[Item.from_json(item) for item in data.get("items") or ()],
            totals=dict(data.get("totals") or {}),
            checked=dict(data.get("checked") or {}),
            calls=dict(data.get("calls") or {}),
        )


def csv_rows(report: Report) -> list[dict[str, str]]:
    """One row per finding; a drifted record gives one row per differing field."""
    rows: list[dict[str, str]] = []
    for item in report.items:
        base = {
            "category": item.category,
            "record_type": item.record_type or "",
            "external_id": item.external_id or "",
            "netsuite_id": item.netsuite_id or "",
            "opportunities": " ".join(item.opportunities),
            "message": item.message,
        }
        for fact, expected, actual in _facts(item):
            rows.append({**base, "field": fact, "expected": expected, "actual": actual})
    return rows


def to_csv(report: Report) -> str:
    """The report as CSV text (``CSV_COLUMNS``), a header line first."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    return buffer.getvalue()


def _facts(item: Item) -> list[tuple[str, str, str]]:
    """``(field, expected, actual)`` per row of an item."""
    if item.differences:
        return [(d.field, _text(d.expected), _text(d.actual)) for d in item.differences]
    if item.amounts is not None:
        amounts = item.amounts
        return [
            (f"total {amounts.get('currency', '')}", amounts["salesforce"], amounts["netsuite"])
        ]
    return [("", "", "")]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.zero{color:#1a7f37}.some{color:#cf222e;font-weight:600}
code{font-size:12px}
"""


def to_html(report: Report) -> str:
    """A self-contained page (inline CSS, no script, every value escaped)."""
    summary = "".join(
        f"<tr><th>{category}</th><td class='{'some' if count else 'zero'}'>{count}</td></tr>"
        for category, count in report.summary().items()
    )
    totals = "".join(
        f"<tr><td>{html.escape(currency)}</td>"
        + "".join(f"<td>{_h(row.get(name, ''))}</td>" for name in TOTAL_COLUMNS)
        + "</tr>"
        for currency, row in sorted(report.totals.items())
    )
    items = "".join(_html_row(row) for row in csv_rows(report))
    window = report.window
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>dealbridge reconciliation {html.escape(report.generated_at)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Reconciliation — {html.escape(report.generated_at)}</h1>"
        f"<p>Won deals closed from {_h(window.get('since') or 'the beginning')} "
        f"to {_h(window.get('until') or 'today')}; checked: {_h(report.checked)}; "
        f"API calls: {_h(report.calls)}.</p>"
        f"<table><tbody>{summary}</tbody></table>"
        "<h2>Money per currency</h2><table><thead><tr><th>currency</th>"
        + "".join(f"<th>{name}</th>" for name in TOTAL_COLUMNS)
        + f"</tr></thead><tbody>{totals}</tbody></table>"
        "<h2>Findings</h2><table><thead><tr>"
        + "".join(f"<th>{column}</th>" for column in CSV_COLUMNS)
        + f"</tr></thead><tbody>{items}</tbody></table></body></html>\n"
    )


def _html_row(row: dict[str, str]) -> str:
    return "<tr>" + "".join(f"<td>{_h(row[column])}</td>" for column in CSV_COLUMNS) + "</tr>"


def _h(value: Any) -> str:
    return html.escape(str(value))
