"""The Outbound Message listener with a launched runtime: Ack means queued, repeats are no-ops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dealbridge.connectors.salesforce.models import OUTBOUND_MESSAGE_PATH
from dealbridge.connectors.salesforce.outbound import (
    Notification,
    build_ack,
    build_outbound_message,
)
from dealbridge.sync import Runtime, wait_for_outcome, workflow_id_for
from dealbridge.web import create_web_app, hooks
from tests.integration.sync.harness import Emulators, run

TOKEN = "integration-token-0123456789abcdef"
FIELDS = ("Id", "AccountId", "StageName", "IsWon", "SystemModstamp")


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    settings = runtime.settings.model_copy(update={"webhook_token": SecretStr(TOKEN)})
    app = create_web_app(settings, runtime=runtime, routers=[hooks.router])
    with TestClient(app) as started:
        yield started


def deliver(client: TestClient, org: Emulators, *rows: dict[str, Any], serial: int = 1) -> Any:
    """POST an Outbound Message carrying ``rows`` as Salesforce would send them."""
    notifications = [
        Notification(f"04l00000000{serial:03d}{n:04d}", "Opportunity", {f: row[f] for f in FIELDS})
        for n, row in enumerate(rows, start=1)
    ]
    body = build_outbound_message(
        org.salesforce["org_id"],
        "04k000000000001AAA",
        notifications,
        enterprise_url="https://example.invalid/c",
        partner_url="https://example.invalid/u",
    )
    return client.post(
        OUTBOUND_MESSAGE_PATH + TOKEN, content=body, headers={"Content-Type": "text/xml"}
    )


def sync_workflows() -> list[str]:
    return sorted(w.workflow_id for w in DBOS.list_workflows(name="sync_deal", load_input=False))


def test_acked_deals_sync_and_repeats_change_nothing(client: TestClient, org: Emulators) -> None:
    first, second = org.seeded["won_candidates"][:2]
    rows = [org.close_won(first), org.close_won(second)]

    answer = deliver(client, org, *rows)

    assert answer.status_code == 200
    assert answer.content == build_ack()
    ids = [workflow_id_for(row["Id"], row["SystemModstamp"]) for row in rows]
    assert sync_workflows() == sorted(ids)  # durably queued before the Ack
    outcomes = [run(wait_for_outcome(workflow_id, 120)) for workflow_id in ids]
    assert [outcome["status"] for outcome in outcomes] == ["synced", "synced"]

    assert deliver(client, org, *reversed(rows), serial=2).status_code == 200
    assert deliver(client, org, rows[0], serial=3).status_code == 200
    assert sync_workflows() == sorted(ids)
    customers = [r["externalId"] for r in org.ns_records("customer")]
    assert len(customers) == len(set(customers))


def test_a_notification_of_our_own_write_back_is_an_echo(
    client: TestClient, org: Emulators
) -> None:
    deal = org.seeded["won_candidates"][0]
    closed = org.close_won(deal)
    deliver(client, org, closed)
    run(wait_for_outcome(workflow_id_for(deal, closed["SystemModstamp"]), 120))
    written_back = org.get("Opportunity", deal)

    # A retried delivery carries the record's values at send time: our write-back's stamp.
    assert deliver(client, org, written_back, serial=2).status_code == 200

    echo = run(wait_for_outcome(workflow_id_for(deal, written_back["SystemModstamp"]), 60))
    if written_back["SystemModstamp"] != closed["SystemModstamp"]:
        assert echo["status"] == "unchanged"
        assert echo["reason"] == "own_write_back"
        assert echo["records_written"] == 0
