"""The report: one JSON document, CSV rows, a self-contained page."""

from __future__ import annotations

import csv
import io

from dealbridge.sync.reconcile_report import (
    CATEGORIES,
    CSV_COLUMNS,
    Difference,
    Item,
    Report,
    to_csv,
    to_html,
)

DRIFT = Item(
    category="drift",
    message="customer SFACC-1 differs from the plan: companyName.",
    record_type="customer",
    external_id="SFACC-1",
    netsuite_id="12",
    opportunities=("006A",),
    differences=(Difference("companyName", "Acme", "<b>Evil</b> & Co"),),
)
MONEY = Item(
    category="money",
    message="NetSuite bills more.",
    record_type="subscription",
    opportunities=("006B",),
    amounts={"currency": "EUR", "salesforce": "10.00", "netsuite": "12.00"},
)


def report(*items: Item) -> Report:
    return Report(
        generated_at="2026-01-02T03:04:05Z",
        window={"since": "2025-01-01", "until": None},
        items=list(items),
        totals={"EUR": {"salesforce": "10.00", "netsuite": "12.00", "deals": 1}},
        checked={"deals": 2, "records": 9, "price_intervals": 3},
        calls={"salesforce": 3, "netsuite": 5},
    )


def test_the_summary_counts_every_category_zeros_included() -> None:
    summary = report(DRIFT, MONEY, MONEY).summary()
    assert list(summary) == list(CATEGORIES)
    assert summary == {**dict.fromkeys(CATEGORIES, 0), "drift": 1, "money": 2}


def test_the_json_document_has_summary_and_items_and_round_trips() -> None:
    document = report(DRIFT, MONEY).to_json()
    assert set(document) >= {"summary", "items", "totals", "checked", "calls"}
    assert document["items"][0]["differences"] == [
        {"field": "companyName", "expected": "Acme", "actual": "<b>Evil</b> & Co"}
    ]
    assert Report.from_json(document) == report(DRIFT, MONEY)


def test_csv_has_one_row_per_differing_field_and_one_per_money_finding() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(report(DRIFT, MONEY)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["category"], r["field"], r["expected"], r["actual"]) for r in rows] == [
        ("drift", "companyName", "Acme", "<b>Evil</b> & Co"),
        ("money", "total EUR", "10.00", "12.00"),
    ]


def test_html_is_self_contained_and_escapes_every_value() -> None:
    page = to_html(report(DRIFT))
    assert page.startswith("<!doctype html>")
    assert "<b>Evil</b>" not in page
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page
    assert "<script" not in page
    assert "http" not in page
