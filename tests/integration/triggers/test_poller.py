"""The poller against the Salesforce emulator: what push missed is synced, our echo never is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dbos import DBOS

from dealbridge.db import watermarks
from dealbridge.sync import Runtime, wait_for_outcome, workflow_id_for
from dealbridge.sync.poller import FLOOR, WATERMARK, poll_won_opportunities, query_won
from tests.integration.sync.harness import Emulators, run, wait_until

CONTEXT = {"overlap_seconds": 60}


def poll(at: datetime) -> None:
    run(poll_won_opportunities(at, CONTEXT))


def marks(runtime: Runtime) -> tuple[str | None, str | None]:
    with runtime.ledger.session() as session:
        return watermarks.get_watermark(session, WATERMARK), watermarks.get_watermark(
            session, FLOOR
        )


def deal_runs(runtime: Runtime, opportunity_id: str) -> list[dict[str, Any]]:
    from dealbridge.db.runs import RunFilter, list_runs

    with runtime.ledger.session() as session:
        rows = list_runs(session, RunFilter(opportunity=opportunity_id), limit=50)
        return [{"trigger": row.trigger, "status": row.status} for row in rows]


def sync_workflows() -> list[str]:
    return [w.workflow_id for w in DBOS.list_workflows(name="sync_deal", load_input=False)]


@pytest.fixture(autouse=True)
def seed_in_an_earlier_second(org: Emulators) -> None:
    """Start each test in a later second than the seed.

    The emulator stamps the seeded rows with the time of its reset, and the first poll's floor
    is the second before its tick: a tick in the seed's own second would take the seeded won
    deals for fresh wins (regression: CI picked up a seeded deal in two of these tests).
    """
    seeded = datetime.now(UTC)
    wait_until(lambda: _second(datetime.now(UTC)) > _second(seeded), "the second after the seed")


def test_the_first_poll_only_marks_where_it_starts(runtime: Runtime, org: Emulators) -> None:
    won_before = org.seeded["won_candidates"][0]
    org.close_won(won_before)  # won before dealbridge's first poll: the backfill's business

    poll(datetime.now(UTC))

    mark, floor = marks(runtime)
    assert mark is not None
    assert mark == floor
    assert sync_workflows() == []


def test_a_deal_push_missed_is_synced_and_its_write_back_is_not(
    runtime: Runtime, org: Emulators
) -> None:
    start = datetime.now(UTC)
    poll(start)
    deal = org.seeded["won_candidates"][0]
    closed = org.close_won(deal)  # no Outbound Message endpoint: push misses it

    poll(start + timedelta(seconds=30))

    outcome = run(wait_for_outcome(workflow_id_for(deal, closed["SystemModstamp"]), 120))
    assert outcome["status"] == "synced"
    assert deal_runs(runtime, deal) == [{"trigger": "poller", "status": "synced"}]
    written_back = org.get("Opportunity", deal)
    assert written_back["NetSuite_Sync_Status__c"] == "Synced"

    _, floor = marks(runtime)
    assert floor is not None
    echo = run(query_won(floor))
    assert [change["id"] for change in echo["changes"]] == []
    assert echo["own_write_backs"] == 1

    poll(start + timedelta(seconds=60))
    assert len(sync_workflows()) == 1
    assert deal_runs(runtime, deal) == [{"trigger": "poller", "status": "synced"}]
    mark, _ = marks(runtime)
    assert mark is not None
    assert watermarks.parse_instant(mark) >= watermarks.parse_instant(
        written_back["SystemModstamp"]
    )


def test_overlapping_polls_start_one_workflow_per_change(runtime: Runtime, org: Emulators) -> None:
    start = datetime.now(UTC)
    poll(start)
    deals = org.seeded["won_candidates"][:2]
    stamps = {deal: org.close_won(deal)["SystemModstamp"] for deal in deals}

    poll(start + timedelta(seconds=10))
    poll(start + timedelta(seconds=20))  # the overlap reads both deals again

    for deal, stamp in stamps.items():
        outcome = run(wait_for_outcome(workflow_id_for(deal, stamp), 120))
        assert outcome["status"] == "synced"
    assert sorted(sync_workflows()) == sorted(workflow_id_for(d, s) for d, s in stamps.items())


def test_a_later_edit_of_a_won_deal_is_synced_again_once(runtime: Runtime, org: Emulators) -> None:
    start = datetime.now(UTC)
    poll(start)
    deal = org.seeded["won_candidates"][0]
    first = org.close_won(deal)
    poll(start + timedelta(seconds=10))
    run(wait_for_outcome(workflow_id_for(deal, first["SystemModstamp"]), 120))
    own = org.get("Opportunity", deal)["SystemModstamp"]
    # Stamps have whole seconds: an edit in our write-back's second would look like our echo.
    wait_until(lambda: _second(datetime.now(UTC)) > _second(_instant(own)), "the next second")

    org.update("Opportunity", deal, {"Description": "amended after the win"})
    edited = org.get("Opportunity", deal)["SystemModstamp"]
    poll(start + timedelta(seconds=20))
    poll(start + timedelta(seconds=30))

    again = run(wait_for_outcome(workflow_id_for(deal, edited), 120))
    assert again["status"] == "unchanged"  # nothing differs in NetSuite: nothing written
    assert [r["trigger"] for r in deal_runs(runtime, deal)] == ["poller", "poller"]
    assert len(sync_workflows()) == 2


def _instant(text: str) -> datetime:
    return watermarks.parse_instant(text)


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
