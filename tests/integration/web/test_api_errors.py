"""``/api/v1/errors``: listing, and the operator's actions with their effects and audit entries.

The app runs without a runtime (a web-only node): retries are queued through a DBOS client into
the workers' system database, which is where the assertions look for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.records import RecordKey
from dealbridge.db import audit, open_errors, synced
from dealbridge.db.models import SyncError
from dealbridge.db.session import dispose_engines, session_scope
from dealbridge.settings import Settings
from dealbridge.sync.runtime import QUEUE_NAME
from tests.integration.web.api_support import (
    OPPORTUNITY,
    Seeded,
    add_dbos_tables,
    api_app,
    bearer,
    copy_database,
    queued_workflow,
    seed_ledger,
)
from tests.integration.web.web_client import SESSION_SECRET, token_for


@pytest.fixture(scope="module")
def dbos_template(tmp_path_factory: pytest.TempPathFactory, web_ledger_template: Path) -> Path:
    """The users' ledger with DBOS's tables in the same file (``database_url`` is SQLite)."""
    path = tmp_path_factory.mktemp("api-ledger") / "ledger.sqlite3"
    copy_database(web_ledger_template, path)
    add_dbos_tables(_settings(path.parent, path))
    dispose_engines()
    return path


@pytest.fixture
def settings(tmp_path: Path, dbos_template: Path) -> Settings:
    path = tmp_path / "ledger.sqlite3"
    copy_database(dbos_template, path)
    return _settings(tmp_path, path)


def _settings(directory: Path, database: Path) -> Settings:
    return Settings(
        data_dir=directory / "data",
        database_url=f"sqlite:///{database}",
        web={"session_secret": SESSION_SECRET},
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    yield api_app(settings)
    dispose_engines()


@pytest.fixture
def seeded(ledger: sessionmaker[Session]) -> Seeded:
    return seed_ledger(ledger)


@pytest.fixture
def operator(ledger: sessionmaker[Session]) -> dict[str, str]:
    return bearer(token_for(ledger, "operator", "ops-bot"))


@pytest.fixture
def viewer(ledger: sessionmaker[Session]) -> dict[str, str]:
    return bearer(token_for(ledger, "viewer", "reader"))


def _error(ledger: sessionmaker[Session], error_id: int) -> SyncError:
    with session_scope(ledger) as session:
        error = open_errors.get_error(session, error_id)
        assert error is not None
        return error


def _audit(ledger: sessionmaker[Session], action: str) -> list[tuple[str, str | None, dict]]:
    with session_scope(ledger) as session:
        entries = audit.list_audit(session, action=action)
        return [(entry.actor, entry.target_id, entry.detail) for entry in entries]


def test_list_filters_and_pages(client: TestClient, seeded: Seeded, viewer: dict) -> None:
    everything = client.get("/api/v1/errors", headers=viewer).json()
    assert everything["total"] == 3
    assert [item["id"] for item in everything["items"]] == [
        seeded.error_ids["invalid"],
        seeded.error_ids["rejected"],
        seeded.error_ids["resolved"],
    ]
    opened = client.get("/api/v1/errors", params={"state": "open"}, headers=viewer).json()
    assert {item["class"] for item in opened["items"]} == {"validation", "remote_rejection"}
    rejections = client.get(
        "/api/v1/errors", params={"class": "remote_rejection"}, headers=viewer
    ).json()
    assert [item["record"] for item in rejections["items"]] == ["customer/SFACC-1"]
    assert rejections["items"][0]["field"] == "url"
    first = client.get("/api/v1/errors", params={"limit": 2}, headers=viewer).json()
    assert (len(first["items"]), first["next_offset"]) == (2, 2)
    last = client.get("/api/v1/errors", params={"limit": 2, "offset": 2}, headers=viewer).json()
    assert (len(last["items"]), last["next_offset"]) == (1, None)


def test_bad_filters_name_the_parameter(client: TestClient, viewer: dict) -> None:
    for params, name in [
        ({"class": "nonsense"}, "class"),
        ({"state": "closed"}, "state"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
    ]:
        answer = client.get("/api/v1/errors", params=params, headers=viewer)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"] == "application/problem+json"
        assert [error["loc"] for error in answer.json()["errors"]] == [["query", name]]


def test_detail_and_not_found(client: TestClient, seeded: Seeded, viewer: dict) -> None:
    detail = client.get(f"/api/v1/errors/{seeded.error_ids['rejected']}", headers=viewer).json()
    assert detail["remote_code"] == "INVALID_FLD_VALUE"
    assert detail["message"] == "The customer's website is too long for NetSuite."
    assert detail["opportunity_id"] == OPPORTUNITY
    missing = client.get("/api/v1/errors/999999", headers=viewer)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_viewer_cannot_act(
    client: TestClient, seeded: Seeded, viewer: dict, ledger: sessionmaker[Session]
) -> None:
    error_id = seeded.error_ids["rejected"]
    for path, body in [
        (f"/api/v1/errors/{error_id}/retry", None),
        (f"/api/v1/errors/{error_id}/resolve", {"reason": "done"}),
        (
            f"/api/v1/errors/{error_id}/edit-and-retry",
            {"record_key": "customer/SFACC-1", "payload": {"url": "https://x.test"}},
        ),
    ]:
        answer = client.post(path, json=body, headers=viewer)
        assert answer.status_code == 403, path
        assert "operator" in answer.json()["detail"]
    assert _error(ledger, error_id).state == "open"


def test_retry_queues_a_workflow_and_audits_it(
    client: TestClient,
    seeded: Seeded,
    operator: dict,
    settings: Settings,
    ledger: sessionmaker[Session],
) -> None:
    error_id = seeded.error_ids["rejected"]
    answer = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {"error_id": error_id, "workflow_id": f"retry:{error_id}:1", "state": "retrying"}
    assert _error(ledger, error_id).state == "retrying"
    queued = queued_workflow(settings, body["workflow_id"])
    assert (queued["status"], queued["queue"]) == ("ENQUEUED", QUEUE_NAME)
    assert queued["input"]["args"][0] == OPPORTUNITY
    assert queued["input"]["args"][1]["kind"] == "retry"
    assert _audit(ledger, "error.retry") == [
        ("token:ops-bot", str(error_id), {"workflow_id": body["workflow_id"]})
    ]


def test_retry_of_a_resolved_error_is_a_conflict(
    client: TestClient, seeded: Seeded, operator: dict, ledger: sessionmaker[Session]
) -> None:
    answer = client.post(f"/api/v1/errors/{seeded.error_ids['resolved']}/retry", headers=operator)
    assert answer.status_code == 409
    assert "resolved" in answer.json()["detail"]
    assert _audit(ledger, "error.retry") == []
    missing = client.post("/api/v1/errors/999999/retry", headers=operator)
    assert missing.status_code == 404


def test_resolve_closes_the_error_with_its_reason(
    client: TestClient, seeded: Seeded, operator: dict, ledger: sessionmaker[Session]
) -> None:
    error_id = seeded.error_ids["invalid"]
    path = f"/api/v1/errors/{error_id}/resolve"
    answer = client.post(path, json={"reason": "quote fixed by hand"}, headers=operator)

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "resolved"
    assert answer.json()["resolved_by"] == "token:ops-bot"
    error = _error(ledger, error_id)
    assert (error.state, error.resolution_note) == ("resolved", "quote fixed by hand")
    assert _audit(ledger, "error.resolve") == [
        (
            "token:ops-bot",
            str(error_id),
            {"opportunity": error.opportunity_id, "note": "quote fixed by hand"},
        )
    ]
    again = client.post(path, json={"reason": "twice"}, headers=operator)
    assert again.status_code == 409
    assert _error(ledger, error_id).resolution_note == "quote fixed by hand"


def test_resolve_needs_a_reason(client: TestClient, seeded: Seeded, operator: dict) -> None:
    path = f"/api/v1/errors/{seeded.error_ids['invalid']}/resolve"
    for body in [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}]:
        answer = client.post(path, json=body, headers=operator)
        assert answer.status_code == 422, body
        assert [error["loc"] for error in answer.json()["errors"]] == [["body", "reason"]]


def test_edit_and_retry_stores_the_payload_and_queues(
    client: TestClient,
    seeded: Seeded,
    operator: dict,
    settings: Settings,
    ledger: sessionmaker[Session],
) -> None:
    error_id = seeded.error_ids["rejected"]
    edited = {"companyName": "Acme", "url": "https://acme.test"}
    answer = client.post(
        f"/api/v1/errors/{error_id}/edit-and-retry",
        json={"record_key": "customer/SFACC-1", "payload": edited},
        headers=operator,
    )

    assert answer.status_code == 200, answer.text
    workflow_id = answer.json()["workflow_id"]
    error = _error(ledger, error_id)
    assert error.state == "retrying"
    assert error.override is not None
    assert error.override["payload"] == edited
    with session_scope(ledger) as session:
        row = synced.get_synced(session, [RecordKey("customer", "SFACC-1")])
        assert row[RecordKey("customer", "SFACC-1")].override_payload == edited
    assert queued_workflow(settings, workflow_id)["status"] == "ENQUEUED"
    assert [entry[0] for entry in _audit(ledger, "error.edit")] == ["token:ops-bot"]
    assert [entry[2] for entry in _audit(ledger, "error.retry")] == [{"workflow_id": workflow_id}]


def test_edit_and_retry_refusals_name_the_field(
    client: TestClient, seeded: Seeded, operator: dict, ledger: sessionmaker[Session]
) -> None:
    path = f"/api/v1/errors/{seeded.error_ids['rejected']}/edit-and-retry"
    for body, field in [
        ({"record_key": "no-slash", "payload": {}}, "record_key"),
        ({"record_key": "customer/SFACC-1", "payload": ["not", "an", "object"]}, "payload"),
        ({"record_key": "customer/SFACC-1"}, "payload"),
        ({"record_key": "customer/NOT-IN-PLAN", "payload": {"a": 1}}, "payload"),
    ]:
        answer = client.post(path, json=body, headers=operator)
        assert answer.status_code == 422, (body, answer.text)
        assert [error["loc"] for error in answer.json()["errors"]] == [["body", field]], body
    error = _error(ledger, seeded.error_ids["rejected"])
    assert (error.state, error.override) == ("open", None)
    assert _audit(ledger, "error.edit") == []


def test_edit_of_a_resolved_error_is_a_conflict(
    client: TestClient, seeded: Seeded, operator: dict
) -> None:
    answer = client.post(
        f"/api/v1/errors/{seeded.error_ids['resolved']}/edit-and-retry",
        json={"record_key": "customer/SFACC-1", "payload": {"a": 1}},
        headers=operator,
    )
    assert answer.status_code == 409


def test_without_the_workers_database_a_retry_is_unavailable_and_undone(
    tmp_path: Path, web_ledger_template: Path
) -> None:
    """No DBOS tables: nothing can be queued, so the error is shown open again."""
    path = tmp_path / "plain.sqlite3"
    copy_database(web_ledger_template, path)
    app = api_app(_settings(tmp_path, path))
    ledger = app.state.dealbridge.ledger
    seeded = seed_ledger(ledger)
    error_id = seeded.error_ids["rejected"]
    with TestClient(app) as client:
        answer = client.post(
            f"/api/v1/errors/{error_id}/retry", headers=bearer(token_for(ledger, "operator"))
        )
    assert answer.status_code == 503
    assert str(path) not in answer.text
    assert _error(ledger, error_id).state == "open"
    dispose_engines()
