"""``bench.ledger_replay`` writes a burst's deals again as the engine wrote them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.ledger_replay import main, read_deals, replay
from sqlalchemy import func, select

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey, SourceRecord
from dealbridge.db.migrate import upgrade
from dealbridge.db.models import ApiCall, Run, SyncedRecord
from dealbridge.db.session import session_scope
from dealbridge.db.synced import SyncedWrite
from dealbridge.sync.ledger import Ledger, RunFinish

OPPORTUNITY = "006000000000001AAA"
PLAN = {
    "operations": [
        {"name": "customer", "type": "customer", "external_id": "SFACC-1", "payload": {}},
    ],
    "violations": [],
}


def _burst_ledger(path: Path) -> None:
    """A ledger holding one synced deal and one failed one, as a burst leaves it."""
    url = f"sqlite:///{path}"
    upgrade(url)
    ledger = Ledger(url)
    trigger = {"kind": "outbound_message", "system_modstamp": "2026-11-28T06:58:12Z"}
    read = CallRecord("salesforce", "GET", "/services/data/v65.0/query?q=x", 200, 3.0)
    upsert = CallRecord("netsuite", "PUT", "/record/v1/customer/eid:SFACC-1", 204, 2.0)
    patch = CallRecord("salesforce", "POST", "/services/data/v65.0/composite", 200, 4.0)
    run_id = ledger.begin_run("deal:1", OPPORTUNITY, trigger, echo_check=True).run_id
    ledger.mark_running(run_id, {"opportunity": {"Id": OPPORTUNITY}}, [read, read])
    key = RecordKey("customer", "SFACC-1")
    write = SyncedWrite(key, "entity", "701", "hash", OPPORTUNITY, SourceRecord("Account", "001A"))
    ledger.record_writes([write], run_id, [upsert])
    ledger.remember_write_back(OPPORTUNITY, "2026-11-28T07:00:00Z", run_id=run_id, calls=[patch])
    ledger.finish_run(run_id, RunFinish("synced", [], 1, 0, PLAN, None))
    failed = ledger.begin_run("deal:2", "006B", trigger, echo_check=False).run_id
    ledger.finish_run(failed, RunFinish("failed", [], 0, 0, None, None))
    ledger.dispose()


def test_a_burst_is_replayed_transaction_for_transaction(tmp_path: Path) -> None:
    _burst_ledger(tmp_path / "burst.sqlite3")
    (deal,) = read_deals(tmp_path / "burst.sqlite3", 10)  # the synced one only
    assert (len(deal.reads), len(deal.upserts), len(deal.write_back)) == (2, 1, 1)
    assert deal.keys == [RecordKey("customer", "SFACC-1")]
    url = f"sqlite:///{tmp_path / 'again.sqlite3'}"
    upgrade(url)
    again = Ledger(url)
    asyncio.run(replay(again, [deal]))
    assert again.own_write_back(OPPORTUNITY) == "2026-11-28T07:00:00Z"
    with session_scope(again.factory) as session:
        run = session.scalars(select(Run)).one()
        assert (run.workflow_id, run.status, run.plan) == ("deal:1", "synced", PLAN)
        assert session.scalar(select(func.count()).select_from(ApiCall)) == 4
        synced = session.scalars(select(SyncedRecord)).one()
        assert (synced.netsuite_id, synced.last_run_id) == ("701", run.id)
    again.dispose()


def test_the_command_reports_cpu_per_deal(tmp_path: Path) -> None:
    _burst_ledger(tmp_path / "burst.sqlite3")
    result = main(["--source", str(tmp_path / "burst.sqlite3"), "--rounds", "2"])
    assert result["deals"] == 1
    assert len(result["rounds"]) == 2
    assert 0 < result["cpu_ms_per_deal"] <= result["cpu_ms_per_deal_median"]
