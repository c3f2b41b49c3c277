"""The console when the ``deals`` queue refuses: a clear answer, nothing lost, the audit honest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import open_errors
from dealbridge.db.session import session_scope
from dealbridge.settings import Settings
from dealbridge.web.api.operations import guarded_enqueue
from dealbridge.web.console.services import QueueDepth
from tests.integration.web.console.conftest import (
    FAILED_CUSTOMER,
    Seeded,
    console_with,
)
from tests.integration.web.console.test_console_actions import actions, error_row, post
from tests.integration.web.web_client import signed_in
from tests.support.alert_receivers import FakeClock

SECRET_URL = "postgresql://dbos:hunter2@10.9.8.7:5432/dbos"


def refuse(_workflow_id: str, _opportunity_id: str, _info: dict[str, Any]) -> None:
    """What DBOS raises when its database is gone: a message quoting the URL."""
    raise OperationalError(f"connect to {SECRET_URL}", None, ConnectionRefusedError())


@pytest.fixture
def console_app(settings: Settings, clock: FakeClock) -> Iterator[FastAPI]:
    """The console whose queue refuses every retry, guarded as the real services are.

    Overrides the package's ``console_app``, so its ``console_ledger`` and ``seeded`` serve here.
    """
    with console_with(settings, clock, guarded_enqueue(refuse), QueueDepth(None)) as app:
        yield app


def test_a_retry_the_queue_refuses_answers_503_and_leaves_the_error_open(
    console_app: FastAPI, console_ledger: sessionmaker[Session], seeded: Seeded
) -> None:
    error_id = seeded.error_id
    with signed_in(console_app, "otto") as client:
        response = post(client, f"/errors/{error_id}/retry", {})
    assert response.status_code == 503  # type: ignore[attr-defined]
    page: str = response.text  # type: ignore[attr-defined]
    assert "nothing was queued and the error is open again" in page
    assert "hunter2" not in page
    assert "10.9.8.7" not in page
    assert error_row(console_ledger, error_id).state == "open"
    assert actions(console_ledger) == [
        ("otto", "error.retry", str(error_id)),
        ("otto", "error.retry_failed", str(error_id)),
    ]


def test_an_edit_and_retry_the_queue_refuses_keeps_the_typed_payload(
    console_app: FastAPI, console_ledger: sessionmaker[Session], seeded: Seeded
) -> None:
    typed = '{"companyName": "Acme & Co", "subsidiary": {"id": "2"}}'
    with signed_in(console_app, "otto") as client:
        response = post(
            client,
            f"/errors/{seeded.error_id}/edit-and-retry",
            {"record_key": str(FAILED_CUSTOMER), "payload": typed},
        )
    assert response.status_code == 503  # type: ignore[attr-defined]
    page: str = response.text  # type: ignore[attr-defined]
    assert "nothing was queued" in page
    assert "Acme &amp; Co" in page  # the form as it was sent, to send again
    assert error_row(console_ledger, seeded.error_id).state == "open"


def test_a_bulk_retry_stops_at_the_first_refusal_and_says_so(
    console_app: FastAPI, console_ledger: sessionmaker[Session], seeded: Seeded
) -> None:
    with session_scope(console_ledger) as session:
        failure = open_errors.Failure("validation", "Account has no billing country")
        second = open_errors.record_failure(session, failure, opportunity_id="006BULK0000000001")
        second_id = second.id
    with signed_in(console_app, "otto") as client:
        response = post(client, "/errors/bulk-retry", {"error_id": [seeded.error_id, second_id]})
        location = response.headers["location"]  # type: ignore[attr-defined]
        page = client.get(location).text
    assert location == "/errors?notice=bulk-stopped&count=0"
    assert "0 retries queued, then the queue could not be reached" in page
    assert error_row(console_ledger, seeded.error_id).state == "open"
    assert error_row(console_ledger, second_id).state == "open"
    assert [action for _, action, _ in actions(console_ledger)] == [
        "error.retry",
        "error.retry_failed",
    ]  # the second error was never touched
