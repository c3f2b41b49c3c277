"""The ledger's share of a deal: a finished burst's deals written again into a fresh ledger.

Why: the overhead bench gives the whole service's CPU per deal, on a VM whose speed drifts by
±15 % within minutes; a change to the ledger worth a tenth of a millisecond is lost in that. The
ledger alone, measured in one process on the same data, varies by a few percent. So this reads
the deals of a ledger a burst left behind (``bench.overhead``'s, by default) and makes, for each,
the six ledger transactions the engine made, through ``Ledger.call`` on an event loop as the
steps do (on the loop's thread, ``db/inline.py``): open the run (with the echo check), store the
graph with the Salesforce reads, read the id map of the plan, record the writes with the
NetSuite calls, keep the write-back stamp with its call, finish the run (closing an open error).
Each round starts from a freshly migrated ledger; CPU is ``time.process_time()`` around the
transactions only, the data read before.

Run: ``.venv/bin/python -m bench.overhead --deals 300``, then
``.venv/bin/python -m bench.ledger_replay`` (prints one JSON object).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.results_io import SCRATCH_DIR
from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey, SourceRecord
from dealbridge.db.migrate import upgrade
from dealbridge.db.models import ApiCall, Run, SyncedRecord, Watermark
from dealbridge.db.session import make_engine
from dealbridge.db.synced import SyncedWrite
from dealbridge.sync.ledger import WRITE_BACK_WATERMARK, Ledger, RunFinish
from dealbridge.sync.overrides import operation_keys

DEFAULT_SOURCE = SCRATCH_DIR / "overhead" / "data" / "dealbridge.sqlite3"


@dataclass
class Deal:
    """What the engine gave the ledger for one deal."""

    workflow_id: str
    opportunity_id: str
    trigger: dict[str, Any]
    graph: dict[str, Any]
    keys: list[RecordKey]
    writes: list[SyncedWrite]
    finish: RunFinish
    modstamp: str | None
    reads: list[CallRecord] = field(default_factory=list)
    upserts: list[CallRecord] = field(default_factory=list)
    write_back: list[CallRecord] = field(default_factory=list)


def read_deals(source: Path, limit: int) -> list[Deal]:
    """The first ``limit`` synced deals of the ledger at ``source``, oldest first."""
    engine = make_engine(f"sqlite:///{source}")
    try:
        with engine.connect() as connection:
            runs = connection.execute(
                select(Run).where(Run.status == "synced").order_by(Run.received_at).limit(limit)
            ).all()
            return [_deal(connection, run) for run in runs]
    finally:
        engine.dispose()


def _deal(connection: Any, run: Any) -> Deal:
    calls = connection.execute(
        select(ApiCall).where(ApiCall.run_id == run.id).order_by(ApiCall.at, ApiCall.id)
    ).all()
    written = connection.execute(
        select(SyncedRecord).where(SyncedRecord.last_run_id == run.id)
    ).all()
    stamp = connection.execute(
        select(Watermark.value).where(Watermark.name == WRITE_BACK_WATERMARK + run.opportunity_id)
    ).scalar()
    deal = Deal(
        workflow_id=run.workflow_id,
        opportunity_id=run.opportunity_id,
        trigger={
            "kind": run.trigger,
            "account_id": run.account_id,
            "trigger_ref": run.trigger_ref,
            "system_modstamp": run.system_modstamp.isoformat() if run.system_modstamp else None,
            "received_at": run.received_at.isoformat(),
        },
        graph=run.deal_graph or {},
        keys=operation_keys(run.plan) if run.plan else [],
        writes=[_write(row) for row in written],
        finish=RunFinish(
            run.status,
            run.step_timings,
            run.records_written,
            run.records_unchanged,
            run.plan,
            None,
        ),
        modstamp=stamp,
    )
    for row in calls:
        record = CallRecord(
            row.system, row.method, row.path, row.status, row.duration_ms, row.error_code,
            row.request_id, row.attempt, {**(row.extra or {}), "at": row.at},
            row.request_body, row.response_body,
        )  # fmt: skip
        if row.system == "netsuite":
            deal.upserts.append(record)
        elif row.method == "GET":
            deal.reads.append(record)
        else:
            deal.write_back.append(record)
    return deal


def _write(row: Any) -> SyncedWrite:
    source = SourceRecord(row.source_sobject, row.source_id) if row.source_sobject else None
    return SyncedWrite(
        RecordKey(row.record_type, row.external_id),
        row.record_group,
        row.netsuite_id or "",
        row.payload_hash or "",
        row.opportunity_id,
        source,
        row.flow,
    )


async def replay(ledger: Ledger, deals: list[Deal]) -> None:
    """Each deal's six transactions, in the engine's order, as its steps make them."""
    for deal in deals:
        begun = await ledger.call(
            ledger.begin_run, deal.workflow_id, deal.opportunity_id, deal.trigger, echo_check=True
        )
        await ledger.call(ledger.mark_running, begun.run_id, deal.graph, deal.reads)
        await ledger.call(ledger.synced_state, deal.keys)
        await ledger.call(ledger.record_writes, deal.writes, begun.run_id, deal.upserts)
        if deal.modstamp is not None:
            await ledger.call(
                ledger.remember_write_back,
                deal.opportunity_id,
                deal.modstamp,
                run_id=begun.run_id,
                calls=deal.write_back,
            )
        await ledger.call(
            ledger.finish_run, begun.run_id, deal.finish, resolve_opportunity=deal.opportunity_id
        )


def one_round(deals: list[Deal], directory: Path) -> float:
    """CPU milliseconds per deal of one replay into a fresh ledger under ``directory``."""
    url = f"sqlite:///{directory / 'ledger.sqlite3'}"
    upgrade(url)
    ledger = Ledger(url)
    try:
        started = time.process_time()
        asyncio.run(replay(ledger, deals))
        return (time.process_time() - started) * 1000 / len(deals)
    finally:
        ledger.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Replay ``--rounds`` times and print the CPU per deal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a burst's ledger")
    parser.add_argument("--deals", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.source.exists():
        parser.error(f"{args.source} does not exist: run python -m bench.overhead first")
    deals = read_deals(args.source, args.deals)
    if not deals:
        parser.error(f"{args.source} holds no synced deal")
    rounds: list[float] = []
    for number in range(args.rounds):
        directory = Path(tempfile.mkdtemp(prefix=f"ledger-replay-{number}-"))
        try:
            rounds.append(one_round(deals, directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    result = {
        "deals": len(deals),
        "cpu_ms_per_deal": round(min(rounds), 3),
        "cpu_ms_per_deal_median": round(statistics.median(rounds), 3),
        "rounds": [round(value, 3) for value in rounds],
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
