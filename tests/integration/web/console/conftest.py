"""The console on a seeded ledger: two deals synced, one failed with an open error, their calls.

Retries are queued through a recording ``enqueue`` (what the ``deals`` queue would receive), so
tests check what an action asked for and what it changed in the ledger, without DBOS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey
from dealbridge.db import api_calls, open_errors, runs, synced
from dealbridge.db.session import dispose_engines, session_scope
from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.operator import Enqueue, Operator
from dealbridge.web import console, create_web_app
from dealbridge.web.console.services import ConsoleServices, QueueDepth, console_services
from tests.support.alert_receivers import FakeClock

OK_DEAL = "006000000000001AAA"
SECOND_DEAL = "006000000000002AAA"
FAILED_DEAL = "006000000000003AAA"
ACCOUNT = "001000000000003AAA"
FAILED_CUSTOMER = RecordKey("customer", "SFACC-001000000000003AAA")
FAILED_CONTACT = RecordKey("contact", "SFCON-003000000000003AAA")
QUEUE_DEPTH = 7


@dataclass
class Seeded:
    """Ids of what ``seed_ledger`` wrote."""

    ok_run: str
    second_run: str
    failed_run: str
    error_id: int
    at: datetime


@dataclass
class Enqueued:
    """What the console asked the ``deals`` queue to run."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
        self.calls.append((workflow_id, opportunity_id, info))


def failed_plan() -> dict[str, Any]:
    """The stored plan of the failed run: a customer and a contact referring to it."""
    customer = {
        "companyName": "Acme & Co <Ltd>",
        "email": "ap@acme.example",
        "subsidiary": {"id": "1"},
    }
    contact = {"firstName": "Ann", "company": {"$ref": str(FAILED_CUSTOMER)}}
    return {
        "flow": "cpq_closed_won",
        "flow_version": 1,
        "opportunity": FAILED_DEAL,
        "operations": [
            {"name": "customer", "type": "customer", "external_id": FAILED_CUSTOMER.external_id,
             "payload": customer, "depends_on": [], "replace": [], "source": ["Account", ACCOUNT]},
            {"name": "contact", "type": "contact", "external_id": FAILED_CONTACT.external_id,
             "payload": contact, "depends_on": [str(FAILED_CUSTOMER)], "replace": [],
             "source": ["Contact", "003000000000003AAA"]},
        ],
    }  # fmt: skip


def seed_ledger(ledger: sessionmaker[Session], now: datetime) -> Seeded:
    """Two synced deals (latencies 1 s and 3 s) and one failed one with an open error."""
    with session_scope(ledger) as session:
        ok = _finished(session, OK_DEAL, now - timedelta(hours=2), 1000, "synced")
        second = _finished(session, SECOND_DEAL, now - timedelta(hours=1), 3000, "synced")
        api_calls.record_calls(
            session,
            ok,
            [
                CallRecord("salesforce", "GET", "/services/data/v65.0/query?q=SELECT+Id", 200, 41.5,
                           request_id="sf-req-1", extra={"api_usage": "api-usage=8/100000"}),
                CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", 204, 120.25),
                CallRecord("netsuite", "PUT", "/record/v1/contact/eid:SFCON-1", 400, 80.0,
                           error_code="USER_ERROR", attempt=2),
            ],
            at=now - timedelta(hours=2),
        )  # fmt: skip
        synced.upsert_synced(
            session,
            [
                synced.SyncedWrite(
                    RecordKey("customer", "SFACC-1"), "entity", "412", "h" * 64, OK_DEAL
                )
            ],
            run_id=ok,
            at=now - timedelta(hours=2),
        )
        failed = _finished(
            session, FAILED_DEAL, now - timedelta(minutes=30), 500, "failed", plan=failed_plan()
        )
        failure = open_errors.Failure(
            failure_type="remote_rejection",
            message="NetSuite refused customer SFACC-…: Invalid subsidiary reference",
            user_message="NetSuite refused the customer: the subsidiary does not exist.",
            record_type="customer",
            external_id=FAILED_CUSTOMER.external_id,
            field_path="subsidiary",
            remote_code="INVALID_KEY_OR_REF",
            remote_status=400,
            request_id="ns-req-42",
        )
        error = open_errors.record_failure(
            session, failure, opportunity_id=FAILED_DEAL, account_id=ACCOUNT, run_id=failed,
            workflow_id=f"deal:{FAILED_DEAL}:1", at=now - timedelta(minutes=30),
        )  # fmt: skip
        runs.get_run(session, failed).error_id = error.id  # type: ignore[union-attr]
        return Seeded(ok, second, failed, error.id, now)


def _finished(
    session: Session,
    opportunity: str,
    finished: datetime,
    latency_ms: int,
    status: str,
    plan: dict[str, Any] | None = None,
) -> str:
    received = finished - timedelta(milliseconds=latency_ms)
    run = runs.start_run(
        session,
        workflow_id=f"deal:{opportunity}:1",
        opportunity_id=opportunity,
        trigger="outbound_message",
        account_id=ACCOUNT,
        received_at=received,
    )
    runs.finish_run(
        session,
        run.id,
        status=status,
        finished_at=finished,
        step_timings=[{"step": "extract", "ms": 120}, {"step": "plan", "ms": 8}],
        plan=plan,
    )
    return run.id


@pytest.fixture
def enqueued() -> Enqueued:
    return Enqueued()


@contextmanager
def console_with(
    settings: Settings, clock: FakeClock, enqueue: Enqueue, depth: QueueDepth
) -> Iterator[FastAPI]:
    """The console whose retries go to ``enqueue`` and whose queue shows ``depth``."""
    app = create_web_app(settings, routers=console.routers, clock=clock)
    engine_ledger = Ledger(settings.resolved_database_url())
    services = ConsoleServices(
        make_operator=lambda: Operator(engine_ledger, enqueue),
        read_queue_depth=lambda: depth,
    )
    app.dependency_overrides[console_services] = lambda: services
    try:
        yield app
    finally:
        engine_ledger.dispose()
        dispose_engines()


@pytest.fixture
def console_app(settings: Settings, clock: FakeClock, enqueued: Enqueued) -> Iterator[FastAPI]:
    """The console with retries recorded instead of queued on DBOS."""
    with console_with(settings, clock, enqueued, QueueDepth(QUEUE_DEPTH)) as app:
        yield app


@pytest.fixture
def console_ledger(console_app: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = console_app.state.dealbridge.ledger
    return factory


@pytest.fixture
def seeded(console_ledger: sessionmaker[Session], clock: FakeClock) -> Seeded:
    return seed_ledger(console_ledger, clock.now)
