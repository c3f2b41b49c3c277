"""Helpers for the API tests: an app with the API routers, a seeded ledger, DBOS tables."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSClient
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey
from dealbridge.db import api_calls, open_errors, runs, synced
from dealbridge.db.session import session_scope
from dealbridge.settings import Settings
from dealbridge.sync.runtime import APP_NAME, Runtime, system_database_url
from dealbridge.web import create_web_app
from dealbridge.web.api import routers

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPPORTUNITY = "006000000000001AAA"
OTHER_OPPORTUNITY = "006000000000002AAA"
ACCOUNT = "001000000000001AAA"


def api_app(settings: Settings, runtime: Any = None) -> FastAPI:
    """The web app with the API routers, as ``serve`` wires them."""
    return create_web_app(settings, routers=routers, runtime=runtime)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Seeded:
    """What ``seed_ledger`` wrote, for assertions."""

    run_ids: dict[str, str] = field(default_factory=dict)
    error_ids: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[int] = field(default_factory=list)


# (name, opportunity, trigger, status, latency in seconds or None while unfinished)
RUNS = [
    ("synced-1", OPPORTUNITY, "outbound_message", "synced", 2.0),
    ("synced-2", OTHER_OPPORTUNITY, "poller", "synced", 45.0),
    ("unchanged", OTHER_OPPORTUNITY, "manual", "unchanged", 0.3),
    ("failed", OPPORTUNITY, "poller", "failed", 7.0),
    ("invalid", "006000000000003AAA", "outbound_message", "invalid", 1.0),
    ("running", "006000000000004AAA", "api", "running", None),
]
CALLS = [
    ("synced-1", CallRecord("salesforce", "GET", "/services/data/v65.0/query", 200, 12.5)),
    ("synced-1", CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", 204, 80.0)),
    ("synced-1", CallRecord("netsuite", "PUT", "/record/v1/subscription/eid:SUB-1", 204, 90.0)),
    (
        "failed",
        CallRecord(
            "netsuite",
            "PUT",
            "/record/v1/customer/eid:SFACC-1",
            400,
            40.0,
            error_code="INVALID_FLD_VALUE",
            request_id="req-1",
        ),
    ),
    ("failed", CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", None, 5000.0)),
]


def seed_ledger(ledger: sessionmaker[Session]) -> Seeded:
    """Runs of every outcome with their calls and records, and errors in every state."""
    seeded = Seeded()
    with session_scope(ledger) as session:
        for index, (name, opportunity, trigger, status, latency) in enumerate(RUNS):
            received = T0 + timedelta(minutes=index)
            run = runs.start_run(
                session,
                workflow_id=f"deal:{opportunity}:{name}",
                opportunity_id=opportunity,
                trigger=trigger,
                account_id=ACCOUNT,
                received_at=received,
            )
            seeded.run_ids[name] = run.id
            if latency is None:
                runs.mark_running(session, run.id, started_at=received)
                continue
            runs.finish_run(
                session,
                run.id,
                status=status,
                finished_at=received + timedelta(seconds=latency),
                step_timings=[
                    {"step": "extract", "ms": 12.5},
                    {"step": "write_back", "status": "written"},
                ],
                records_written=2 if status == "synced" else 0,
                plan={"operations": [{"type": "customer", "external_id": "SFACC-1"}]},
            )
            if status in runs.SUCCESS_STATUSES:
                seeded.latencies_ms.append(round(latency * 1000))
        for name, call in CALLS:
            api_calls.record_calls(session, seeded.run_ids[name], [call], at=T0)
        writes = [
            synced.SyncedWrite(
                RecordKey("customer", "SFACC-1"), "entity", "101", "h1", OPPORTUNITY
            ),
            synced.SyncedWrite(
                RecordKey("subscription", "SUB-1"), "subscription", "202", "h2", OPPORTUNITY
            ),
        ]
        synced.upsert_synced(session, writes, run_id=seeded.run_ids["synced-1"])
        seeded.error_ids = _seed_errors(session, seeded)
    return seeded


def _seed_errors(session: Session, seeded: Seeded) -> dict[str, int]:
    failure = open_errors.Failure(
        failure_type="remote_rejection",
        message="NetSuite refused customer SFACC-1: INVALID_FLD_VALUE url",
        user_message="The customer's website is too long for NetSuite.",
        record_type="customer",
        external_id="SFACC-1",
        field_path="url",
        remote_code="INVALID_FLD_VALUE",
        remote_status=400,
    )
    rejected = open_errors.record_failure(
        session,
        failure,
        opportunity_id=OPPORTUNITY,
        account_id=ACCOUNT,
        run_id=seeded.run_ids["failed"],
        workflow_id=f"deal:{OPPORTUNITY}:failed",
        at=T0,
    )
    invalid = open_errors.record_failure(
        session,
        open_errors.Failure(failure_type="validation", message="Quote has no lines"),
        opportunity_id="006000000000003AAA",
        run_id=seeded.run_ids["invalid"],
        at=T0 + timedelta(minutes=1),
    )
    closed = open_errors.record_failure(
        session,
        open_errors.Failure(failure_type="remote_outage", message="NetSuite answered 503"),
        opportunity_id="006000000000005AAA",
        at=T0 - timedelta(hours=1),
    )
    open_errors.resolve(session, closed.id, "ada", "fixed in NetSuite")
    return {"rejected": rejected.id, "invalid": invalid.id, "resolved": closed.id}


def add_dbos_tables(settings: Settings) -> None:
    """Create DBOS's tables in the settings' system database, as a worker's first launch does."""
    DBOS.destroy()
    runtime = Runtime(settings)
    runtime.launch()
    runtime.shutdown(0)


def copy_database(source: Path, target: Path) -> None:
    """A SQLite file with its WAL, if one is left."""
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        extra = source.with_name(source.name + suffix)
        if extra.exists():
            shutil.copyfile(extra, target.with_name(target.name + suffix))


def queued_workflow(settings: Settings, workflow_id: str) -> dict[str, Any]:
    """The DBOS status of ``workflow_id`` as a worker would find it."""
    client = DBOSClient(
        system_database_url=system_database_url(settings), application_name=APP_NAME
    )
    try:
        status = client.retrieve_workflow(workflow_id).get_status()
        return {
            "status": status.status,
            "queue": status.queue_name,
            "name": status.name,
            "input": status.input,
        }
    finally:
        client.destroy()
