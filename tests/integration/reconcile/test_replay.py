"""Replay after a real sync: the same flow changes nothing, a changed flow shows and writes.

The write goes through the normal workflow of a worker restarted with the changed flow.
"""

from __future__ import annotations

from pathlib import Path

from dbos import DBOS

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.db import runs
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import load_flow
from dealbridge.mapping.lookups import TableCache
from dealbridge.sync import Runtime
from dealbridge.sync.reconcile_ledger import wait_for_runs
from dealbridge.sync.replay import ReplayResult, enqueue_replay, replay_run
from dealbridge.sync.runtime import DEFAULT_FLOW
from dealbridge.sync.triggers import start_on_queue
from tests.integration.reconcile.support import SyncedOrg, cli_json, solo_deals
from tests.integration.sync.harness import run

OLD_MEMO = "concat('CPQ quote ', quote.Name"
NEW_MEMO = "concat('Quote ', quote.Name"


def changed_flow(tmp_path: Path) -> Path:
    """The shipped flow with another subscription memo."""
    text = DEFAULT_FLOW.read_text(encoding="utf-8")
    assert OLD_MEMO in text
    path = tmp_path / "cpq_closed_won.yaml"
    path.write_text(text.replace(OLD_MEMO, NEW_MEMO), encoding="utf-8")
    return path


def first_run(synced: SyncedOrg) -> str:
    """The run of a deal alone on its account: no other deal rewrote its records since."""
    solo = {deal.opportunity_id for deal in solo_deals(synced)}
    with synced.runtime.ledger.session() as session:
        found = runs.list_runs(session, runs.RunFilter(status="synced"), limit=100)
        return next(r.id for r in reversed(found) if r.opportunity_id in solo)


def replay(runtime: Runtime, run_id: str, engine: FlowEngine) -> ReplayResult:
    async def go() -> ReplayResult:
        async with synced_netsuite(runtime) as netsuite:
            return await replay_run(runtime.ledger, run_id, engine, netsuite, cache=TableCache())

    return run(go())


def synced_netsuite(runtime: Runtime) -> NetSuiteClient:
    return NetSuiteClient(runtime.settings.netsuite)


def test_the_same_flow_plans_what_the_run_planned(synced: SyncedOrg) -> None:
    result = replay(synced.runtime, first_run(synced), synced.runtime.engine)

    counts = result.counts()
    assert counts["create"] == counts["update"] == counts["removed"] == 0
    assert counts["unchanged"] == len(result.records) > 5


def test_a_changed_flow_shows_its_change_then_writes_it_as_a_replay(
    synced: SyncedOrg, tmp_path: Path
) -> None:
    run_id = first_run(synced)
    flow = changed_flow(tmp_path)

    shown = cli_json(synced.runtime, "replay", run_id, "--dry-run", "--json")
    preview = replay(synced.runtime, run_id, FlowEngine(load_flow(flow)))

    assert shown["counts"]["update"] == 0  # the CLI plans with the sync's (shipped) flow
    changed = [r for r in preview.records if r.action == "update"]
    assert changed
    assert {r.key.record_type for r in changed} == {"subscription"}
    assert all(r.write == "write" for r in changed)
    changes = [change for record in changed for change in record.changes]
    assert {change.path for change in changes} == {"memo"}
    assert all(change.after.startswith("Quote ") for change in changes)

    runtime = _relaunch(synced, flow)
    outcome = run(_write(runtime, preview))
    assert outcome == "synced"
    memos = {s["memo"] for s in synced.org.ns_records("subscription")}
    assert any(memo.startswith("Quote ") for memo in memos)
    assert replay(runtime, run_id, runtime.engine).counts()["write"] == 0


def _relaunch(synced: SyncedOrg, flow: Path) -> Runtime:
    """The worker restarted with the new flow (the fixture shuts the last one down)."""
    settings = synced.runtime.settings
    synced.runtime.shutdown(0)
    DBOS.destroy()
    sync = settings.sync.model_copy(update={"flow_path": flow})
    runtime = Runtime(settings.model_copy(update={"sync": sync}))
    runtime.launch()
    synced.runtime = runtime
    return runtime


async def _write(runtime: Runtime, preview: ReplayResult) -> str:
    workflow_id = await enqueue_replay(preview, start_on_queue)
    outcomes = await wait_for_runs(runtime.ledger, [workflow_id], timeout=120)
    return outcomes[workflow_id].status


def test_the_command_writes_through_the_running_worker(synced: SyncedOrg) -> None:
    run_id = first_run(synced)

    shown = cli_json(synced.runtime, "replay", run_id, "--json")

    # What the preview said the workflow would write is what it wrote: nothing, or (a shared
    # customer last written by another deal of the account) those few records.
    expected = "synced" if shown["counts"]["write"] else "unchanged"
    assert shown["outcome"]["status"] == expected
    with synced.runtime.ledger.session() as session:
        replayed = runs.get_run_by_workflow(session, shown["outcome"]["workflow_id"])
        assert replayed is not None
        assert (replayed.trigger, replayed.records_written) == ("replay", shown["counts"]["write"])
    assert shown["outcome"]["workflow_id"].startswith(f"replay:{run_id}:")
