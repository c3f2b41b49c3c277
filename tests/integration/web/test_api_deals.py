"""``POST /api/v1/sync`` and ``POST /api/v1/dry-run`` against both emulators (real processes).

Two kinds of node: one running the sync runtime, as ``serve`` does (the deal is synced to the
end), and a web-only node (the deal is queued in the workers' DBOS database for them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import audit
from dealbridge.db.migrate import upgrade
from dealbridge.db.session import dispose_engines, session_scope
from dealbridge.settings import Settings
from dealbridge.sync import Runtime, wait_for_outcome
from dealbridge.sync.runtime import QUEUE_NAME
from tests.integration.sync.harness import Emulators, run, running_emulators, settings_for
from tests.integration.web.api_support import add_dbos_tables, api_app, bearer, queued_workflow
from tests.integration.web.web_client import token_for

UNKNOWN_OPPORTUNITY = "006000000000000AAA"


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("api-emulators")) as started:
        yield started


@pytest.fixture
def org(emulators: Emulators) -> Emulators:
    emulators.reset()
    return emulators


@pytest.fixture
def node_settings(org: Emulators, tmp_path: Path) -> Settings:
    settings = settings_for(org, tmp_path / "data")
    upgrade(settings.resolved_database_url())
    return settings


def _tokens(ledger: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, str]]:
    return bearer(token_for(ledger, "operator", "ops-bot")), bearer(token_for(ledger, "viewer"))


def _audit(ledger: sessionmaker[Session], action: str) -> list[tuple[str, str | None, Any]]:
    with session_scope(ledger) as session:
        return [(e.actor, e.target_id, e.detail) for e in audit.list_audit(session, action=action)]


@pytest.fixture
def runtime(node_settings: Settings) -> Iterator[Runtime]:
    DBOS.destroy()
    started = Runtime(node_settings)
    started.launch()
    try:
        yield started
    finally:
        started.shutdown(0)
        dispose_engines()


def test_sync_on_a_node_with_the_runtime_runs_the_deal(org: Emulators, runtime: Runtime) -> None:
    opportunity = org.seeded["won_candidates"][0]
    org.close_won(opportunity)
    app = api_app(runtime.settings, runtime=runtime)
    ledger = app.state.dealbridge.ledger
    operator, viewer = _tokens(ledger)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        refused = client.post("/api/v1/sync", json={"opportunity_id": opportunity}, headers=viewer)
        assert refused.status_code == 403
        answer = client.post(
            "/api/v1/sync", json={"opportunity_id": opportunity[:15]}, headers=operator
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["opportunity_id"] == opportunity
        assert body["workflow_id"].startswith(f"deal:{opportunity}:")
        outcome = run(wait_for_outcome(body["workflow_id"], 120))
        assert outcome["status"] == "synced", outcome
        runs = client.get("/api/v1/runs", params={"opportunity": opportunity}, headers=viewer)
        assert [(r["status"], r["trigger"]) for r in runs.json()["items"]] == [("synced", "api")]
        client.portal.call(runtime.clients.close_current)  # type: ignore[union-attr]
    assert _audit(ledger, "deal.sync") == [
        ("token:ops-bot", opportunity, {"workflow_id": body["workflow_id"]})
    ]


def test_dry_run_shows_the_plan_and_writes_nothing(org: Emulators, node_settings: Settings) -> None:
    opportunity = org.seeded["won_candidates"][1]
    org.close_won(opportunity)
    app = api_app(node_settings)
    _operator, viewer = _tokens(app.state.dealbridge.ledger)
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/dry-run", json={"opportunity_id": opportunity}, headers=viewer
        )
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["opportunity"] == opportunity
    assert plan["triggered"] is True
    types = [operation["type"] for operation in plan["operations"]]
    assert "customer" in types
    assert "subscription" in types
    assert plan["counts"]["create"] == len(plan["operations"])
    customer = next(op for op in plan["operations"] if op["type"] == "customer")
    assert customer["action"] == "create"
    assert {change["path"] for change in customer["diff"]} >= {"companyName"}
    for operation in plan["operations"]:  # nothing was written
        stored = {record.get("externalId") for record in org.ns_records(operation["type"])}
        assert operation["external_id"] not in stored
    dispose_engines()


def test_web_only_node_queues_the_deal_for_the_workers(
    org: Emulators, node_settings: Settings
) -> None:
    add_dbos_tables(node_settings)  # the workers' first launch
    opportunity = org.seeded["won_candidates"][2]
    org.close_won(opportunity)
    app = api_app(node_settings)
    operator, _viewer = _tokens(app.state.dealbridge.ledger)
    with TestClient(app) as client:
        answer = client.post("/api/v1/sync", json={"opportunity_id": opportunity}, headers=operator)
        assert answer.status_code == 202, answer.text
        again = client.post("/api/v1/sync", json={"opportunity_id": opportunity}, headers=operator)
        missing = client.post(
            "/api/v1/sync", json={"opportunity_id": UNKNOWN_OPPORTUNITY}, headers=operator
        )
        invalid = client.post("/api/v1/sync", json={"opportunity_id": "006-x"}, headers=operator)
    workflow_id = answer.json()["workflow_id"]
    assert again.json()["workflow_id"] == workflow_id  # unchanged deal: the same workflow
    queued = queued_workflow(node_settings, workflow_id)
    assert (queued["status"], queued["queue"]) == ("ENQUEUED", QUEUE_NAME)
    assert queued["input"]["args"][1]["kind"] == "api"
    assert queued["input"]["args"][1]["trigger_ref"] == "by:token:ops-bot"
    assert missing.status_code == 404
    assert invalid.status_code == 422
    assert [error["loc"] for error in invalid.json()["errors"]] == [["body", "opportunity_id"]]
    dispose_engines()


def test_dry_run_of_an_unknown_opportunity_is_not_found(
    org: Emulators, node_settings: Settings
) -> None:
    app = api_app(node_settings)
    _operator, viewer = _tokens(app.state.dealbridge.ledger)
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/dry-run", json={"opportunity_id": UNKNOWN_OPPORTUNITY}, headers=viewer
        )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    dispose_engines()
