"""Revision 0003 on both engines: call bodies added to a ledger that already holds calls.

A ledger upgraded in place keeps its calls (with null bodies), stores bodies afterwards, and
downgrades back to 0002 without losing the rest of each row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from dealbridge.db.migrate import alembic_config, current, upgrade
from dealbridge.db.session import make_engine

BODIES_REVISION = "0003"
BEFORE = "0002"
AT = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def _columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns("api_calls")}
    finally:
        engine.dispose()


def test_upgrade_adds_nullable_bodies_and_keeps_existing_calls(empty_url: str) -> None:
    assert upgrade(empty_url, BEFORE) == BEFORE
    assert {"request_body", "response_body"}.isdisjoint(_columns(empty_url))
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO runs (id, workflow_id, opportunity_id, trigger, status,"
                    " received_at, api_calls, step_timings, records_written, records_unchanged)"
                    " VALUES ('r1', 'wf', '006A', 'manual', 'synced', :at, '{}', '[]', 0, 0)"
                ),
                {"at": AT},
            )
            connection.execute(
                text(
                    "INSERT INTO api_calls (run_id, system, method, path, status, duration_ms,"
                    " attempt, at) VALUES ('r1', 'netsuite', 'GET', '/record/v1/customer/1',"
                    " 200, 12.5, 1, :at)"
                ),
                {"at": AT},
            )
        upgrade(empty_url, BODIES_REVISION)
        assert current(empty_url) == BODIES_REVISION
        assert {"request_body", "response_body"} <= _columns(empty_url)
        with engine.begin() as connection:
            old = connection.execute(
                text("SELECT path, request_body, response_body FROM api_calls")
            ).one()
            assert tuple(old) == ("/record/v1/customer/1", None, None)
            connection.execute(
                text(
                    "INSERT INTO api_calls (run_id, system, method, path, status, duration_ms,"
                    " attempt, at, request_body, response_body) VALUES ('r1', 'netsuite',"
                    " 'POST', '/record/v1/customer', 204, 30.0, 1, :at, :sent, NULL)"
                ),
                {"at": AT, "sent": '{"companyName": "Acme"}'},
            )
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), BEFORE)
        assert {"request_body", "response_body"}.isdisjoint(_columns(empty_url))
        with engine.connect() as connection:
            paths = connection.execute(text("SELECT path FROM api_calls ORDER BY id")).scalars()
            assert list(paths) == ["/record/v1/customer/1", "/record/v1/customer"]
    finally:
        engine.dispose()
