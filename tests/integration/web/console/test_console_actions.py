"""Console actions: each one's effect on the ledger, its audit entry, and who may take it."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.records import RecordKey
from dealbridge.db import open_errors, synced
from dealbridge.db.audit import list_audit
from dealbridge.db.models import SyncError
from dealbridge.db.session import session_scope
from tests.integration.web.console.conftest import (
    FAILED_CONTACT,
    FAILED_CUSTOMER,
    FAILED_DEAL,
    Enqueued,
    Seeded,
)
from tests.integration.web.web_client import page_csrf, signed_in

GOOD_PAYLOAD = {"companyName": "Acme & Co", "subsidiary": {"id": "2"}}


def error_row(ledger: sessionmaker[Session], error_id: int) -> SyncError:
    with session_scope(ledger) as session:
        error = open_errors.get_error(session, error_id)
        assert error is not None
        return error


def actions(ledger: sessionmaker[Session]) -> list[tuple[str, str, str | None]]:
    with session_scope(ledger) as session:
        return [
            (entry.actor, entry.action, entry.target_id)
            for entry in reversed(list_audit(session, limit=100))
            if entry.action.startswith("error.")
        ]


def post(client: object, path: str, data: dict[str, object]) -> object:
    return client.post(path, data={**data, "csrf_token": page_csrf(client)})  # type: ignore[attr-defined]


@pytest.mark.parametrize("username", ["otto", "ada"])
def test_retry(
    console_app: FastAPI,
    console_ledger: sessionmaker[Session],
    seeded: Seeded,
    enqueued: Enqueued,
    username: str,
) -> None:
    with signed_in(console_app, username) as client:
        response = post(client, f"/errors/{seeded.error_id}/retry", {})
        assert response.status_code == 303
        assert response.headers["location"] == f"/errors/{seeded.error_id}?notice=retried"
        page = client.get(response.headers["location"]).text
    assert '<p class="notice" role="status">Retry queued' in page
    [(workflow_id, opportunity, info)] = enqueued.calls
    assert workflow_id == f"retry:{seeded.error_id}:1"
    assert opportunity == FAILED_DEAL
    assert info["kind"] == "retry"
    assert error_row(console_ledger, seeded.error_id).state == "retrying"
    assert actions(console_ledger) == [(username, "error.retry", str(seeded.error_id))]


def test_resolve_needs_a_reason(
    console_app: FastAPI, console_ledger: sessionmaker[Session], seeded: Seeded
) -> None:
    with signed_in(console_app, "otto") as client:
        blank = post(client, f"/errors/{seeded.error_id}/resolve", {"reason": "   "})
        assert blank.status_code == 400
        assert 'class="alert" role="alert"' in blank.text
        assert error_row(console_ledger, seeded.error_id).state == "open"
        done = post(client, f"/errors/{seeded.error_id}/resolve", {"reason": "fixed in NetSuite"})
        assert done.status_code == 303
        page = client.get(done.headers["location"]).text
    error = error_row(console_ledger, seeded.error_id)
    assert error.state == "resolved"
    assert error.resolved_by == "otto"
    assert error.resolution_note == "fixed in NetSuite"
    assert "Error resolved" in page
    assert 'id="retry"' not in page  # nothing left to do on a resolved error
    assert actions(console_ledger) == [("otto", "error.resolve", str(seeded.error_id))]


def test_edit_and_retry_stores_the_payload_and_retries(
    console_app: FastAPI,
    console_ledger: sessionmaker[Session],
    seeded: Seeded,
    enqueued: Enqueued,
) -> None:
    form = {"record_key": str(FAILED_CUSTOMER), "payload": json.dumps(GOOD_PAYLOAD, indent=2)}
    with signed_in(console_app, "otto") as client:
        response = post(client, f"/errors/{seeded.error_id}/edit-and-retry", form)
        assert response.status_code == 303
        page = client.get(response.headers["location"]).text
    assert "Edited payload saved" in page
    error = error_row(console_ledger, seeded.error_id)
    assert error.state == "retrying"
    assert error.override is not None
    assert error.override["payload"] == GOOD_PAYLOAD
    with session_scope(console_ledger) as session:
        row = synced.get_synced(session, [FAILED_CUSTOMER])[FAILED_CUSTOMER]
        assert row.override_payload == GOOD_PAYLOAD
    assert [call[0] for call in enqueued.calls] == [f"retry:{seeded.error_id}:1"]
    assert actions(console_ledger) == [
        ("otto", "error.edit", str(seeded.error_id)),
        ("otto", "error.retry", str(seeded.error_id)),
    ]
    edit = page.split('id="edit-and-retry"', 1)[1].split("</form>", 1)[0]
    assert "&#34;id&#34;: &#34;2&#34;" in edit  # the pending edit is what the form now shows


@pytest.mark.parametrize(
    ("record_key", "payload", "named"),
    [
        (str(FAILED_CUSTOMER), '{"companyName": "Acme"', "not valid JSON"),
        (str(FAILED_CUSTOMER), '["a list"]', "must be a JSON object"),
        (str(FAILED_CUSTOMER), '{"amount": NaN}', "not JSON"),
        ("customer/SFACC-NOT-IN-PLAN", '{"companyName": "Acme"}', "not a record of this deal"),
        ("no-slash", '{"companyName": "Acme"}', "is not a record key"),
    ],
)
def test_invalid_edit_is_refused_inline_and_stores_nothing(
    console_app: FastAPI,
    console_ledger: sessionmaker[Session],
    seeded: Seeded,
    enqueued: Enqueued,
    record_key: str,
    payload: str,
    named: str,
) -> None:
    with signed_in(console_app, "otto") as client:
        response = post(
            client,
            f"/errors/{seeded.error_id}/edit-and-retry",
            {"record_key": record_key, "payload": payload},
        )
    assert response.status_code == 400
    alert = response.text.split('<p class="alert" role="alert">', 1)[1].split("</p>", 1)[0]
    assert named in alert
    assert 'id="edit-and-retry"' in response.text  # the form is back for another try
    error = error_row(console_ledger, seeded.error_id)
    assert error.state == "open"
    assert error.override is None
    with session_scope(console_ledger) as session:
        keys = [FAILED_CUSTOMER, FAILED_CONTACT, RecordKey("customer", "SFACC-NOT-IN-PLAN")]
        assert synced.get_synced(session, keys) == {}
    assert enqueued.calls == []
    assert actions(console_ledger) == []


def test_bulk_retry(
    console_app: FastAPI,
    console_ledger: sessionmaker[Session],
    seeded: Seeded,
    enqueued: Enqueued,
) -> None:
    with session_scope(console_ledger) as session:
        failure = open_errors.Failure("validation", "Account has no billing country")
        second = open_errors.record_failure(session, failure, opportunity_id="006BULK0000000001")
        resolved = open_errors.record_failure(session, failure, opportunity_id="006BULK0000000002")
        open_errors.resolve(session, resolved.id, "ada", "not ours")
        ids = [seeded.error_id, second.id, resolved.id]
    with signed_in(console_app, "otto") as client:
        response = post(client, "/errors/bulk-retry", {"error_id": ids})
        assert response.status_code == 303
        page = client.get(response.headers["location"]).text
        nothing = post(client, "/errors/bulk-retry", {})
    assert "2 retries queued" in page
    assert sorted(call[0] for call in enqueued.calls) == sorted(
        [f"retry:{seeded.error_id}:1", f"retry:{second.id}:1"]
    )
    assert error_row(console_ledger, seeded.error_id).state == "retrying"
    assert error_row(console_ledger, second.id).state == "retrying"
    assert error_row(console_ledger, resolved.id).state == "resolved"
    assert sorted(action for _, action, _ in actions(console_ledger)) == ["error.retry"] * 2
    assert nothing.headers["location"] == "/errors?notice=nothing-selected"


def test_viewer_cannot_act(
    console_app: FastAPI,
    console_ledger: sessionmaker[Session],
    seeded: Seeded,
    enqueued: Enqueued,
) -> None:
    form = {"record_key": str(FAILED_CUSTOMER), "payload": json.dumps(GOOD_PAYLOAD)}
    with signed_in(console_app, "vera") as client:
        for path, data in [
            (f"/errors/{seeded.error_id}/retry", {}),
            (f"/errors/{seeded.error_id}/resolve", {"reason": "because"}),
            (f"/errors/{seeded.error_id}/edit-and-retry", form),
            ("/errors/bulk-retry", {"error_id": [seeded.error_id]}),
            ("/connections/salesforce/test", {}),
        ]:
            response = post(client, path, data)
            assert response.status_code == 403, path
            assert "needs operator" in response.text
    assert error_row(console_ledger, seeded.error_id).state == "open"
    assert enqueued.calls == []
    assert actions(console_ledger) == []


def test_posts_without_csrf_token_are_refused(
    console_app: FastAPI,
    console_ledger: sessionmaker[Session],
    seeded: Seeded,
    enqueued: Enqueued,
) -> None:
    with signed_in(console_app, "ada") as client:
        for path, data in [
            (f"/errors/{seeded.error_id}/retry", {}),
            (f"/errors/{seeded.error_id}/resolve", {"reason": "because"}),
            ("/errors/bulk-retry", {"error_id": [seeded.error_id]}),
            ("/connections/netsuite/test", {}),
        ]:
            assert client.post(path, data=data).status_code == 403, path
            forged = client.post(path, data={**data, "csrf_token": "forged"})
            assert forged.status_code == 403, path
    assert error_row(console_ledger, seeded.error_id).state == "open"
    assert enqueued.calls == []
    assert actions(console_ledger) == []


def test_retrying_a_resolved_error_is_refused(
    console_app: FastAPI, console_ledger: sessionmaker[Session], seeded: Seeded
) -> None:
    with session_scope(console_ledger) as session:
        open_errors.resolve(session, seeded.error_id, "ada", "done")
    with signed_in(console_app, "otto") as client:
        response = post(client, f"/errors/{seeded.error_id}/retry", {})
        missing = post(client, "/errors/999/retry", {})
    assert response.status_code == 409
    assert "cannot be retried" in response.text
    assert missing.status_code == 404
