"""``/metrics`` reads its ledger figures from covering indexes, never from the wide tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.web.api.metrics import read_figures


def _plans_of_a_scrape(engine: Engine, factory: sessionmaker[Session]) -> dict[str, str]:
    """Each statement a scrape runs, with SQLite's query plan for it."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with factory() as session:
            read_figures(session)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans: dict[str, str] = {}
    with engine.connect() as connection:
        for sql, params in statements:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            plans[sql] = " | ".join(str(row[-1]) for row in rows)
    return plans


def test_api_calls_and_latency_come_from_covering_indexes(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    # Regression: both were full scans, and api_calls rows carry every kept request and
    # response body, so each scrape read all of them.
    plans = _plans_of_a_scrape(engine, factory)
    calls = [plan for sql, plan in plans.items() if "FROM api_calls" in sql]
    latency = [plan for sql, plan in plans.items() if "latency_ms" in sql and "FROM runs" in sql]
    assert calls, plans
    assert latency, plans
    assert all("COVERING INDEX ix_api_calls_system_status" in plan for plan in calls), calls
    assert all("COVERING INDEX ix_runs_status_latency_ms" in plan for plan in latency), latency
