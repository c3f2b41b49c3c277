"""Stored reports on SQLite and PostgreSQL: the latest first, its trend, items capped."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import reconcile_reports
from dealbridge.db.reconcile_reports import MAX_STORED_ITEMS, latest_reports, store_report
from dealbridge.db.session import session_scope
from tests.integration.db import conftest as both_engines

# The ledger fixtures of tests/integration/db: each test runs on SQLite and on PostgreSQL.
dialect = both_engines.dialect
postgres_ledger = both_engines.postgres_ledger
ledger_url = both_engines.ledger_url
engine = both_engines.engine
factory = both_engines.factory

CATEGORIES = ("missing", "orphan", "drift", "duplicate", "money", "blocked")


def document(day: int, *, drift: int = 0, items: int = 0) -> dict[str, Any]:
    summary = dict.fromkeys(CATEGORIES, 0) | {"drift": drift}
    return {
        "generated_at": f"2026-03-{day:02d}T02:30:00Z",
        "summary": summary,
        "items": [{"category": "drift", "external_id": f"SFACC-{n}"} for n in range(items)],
        "totals": {"USD": {"salesforce": "100.00", "netsuite": "100.00"}},
        "checked": {"deals": 4, "records": 30, "price_intervals": 6},
        "calls": {"salesforce": 3, "netsuite": 9},
    }


def test_the_latest_comes_first_with_its_counts(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        store_report(session, document(2, drift=1, items=1), "alice")
        store_report(session, document(1), "system:reconcile")
        store_report(session, document(3, drift=2, items=2), "system:reconcile")

    with session_scope(factory) as session:
        reports = latest_reports(session, 2)

    assert [r.document["generated_at"] for r in reports] == [
        "2026-03-03T02:30:00Z",
        "2026-03-02T02:30:00Z",
    ]
    latest = reports[0]
    assert latest.generated_at.isoformat() == "2026-03-03T02:30:00+00:00"
    assert (latest.actor, latest.findings, latest.summary["drift"]) == ("system:reconcile", 2, 2)
    assert latest.checked == {"deals": 4, "records": 30, "price_intervals": 6}
    assert latest.calls == {"salesforce": 3, "netsuite": 9}
    assert [item["external_id"] for item in latest.items] == ["SFACC-0", "SFACC-1"]
    assert latest.totals["USD"]["netsuite"] == "100.00"
    assert reports[1].actor == "alice"


def test_items_past_the_cap_are_counted_not_stored(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        store_report(
            session, document(1, drift=MAX_STORED_ITEMS + 3, items=MAX_STORED_ITEMS + 3), "a"
        )

    with session_scope(factory) as session:
        [report] = latest_reports(session)

    assert len(report.items) == MAX_STORED_ITEMS
    assert report.items_truncated == 3
    assert report.document["items_truncated"] == 3
    assert report.findings == MAX_STORED_ITEMS + 3


def test_no_report_yet_is_an_empty_list(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        assert latest_reports(session) == []


def test_bad_documents_and_limits_are_refused_by_name(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        with pytest.raises(ValueError, match="'summary' is missing"):
            store_report(session, {"generated_at": "2026-03-01T00:00:00Z"}, "a")
        with pytest.raises(ValueError, match="generated_at '2026-03-01' is not"):
            store_report(session, {**document(1), "generated_at": "2026-03-01"}, "a")
        with pytest.raises(ValueError, match="limit must be at least 1"):
            reconcile_reports.latest_reports(session, 0)
