"""The steps of ``sync_deal``: each one idempotent, each returning plain JSON-like data.

Steps are at-least-once (a crash re-runs the step in flight), so each is safe to repeat: the run
row is keyed by workflow id, NetSuite writes are upserts by external id, the ledger's writes are
upserts, the write-back sets fields to values. What a step returns is DBOS's checkpoint; ``ms``
in it is the step's own duration, which the run's ``step_timings`` collect.

Every step that calls a remote system collects its API calls (``call_log``) and stores them with
the run when it ends, successful or not — in the transaction of the step's own last ledger write
when it has one (``_store_with``), so a deal costs as few transactions and thread hops as it can.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from dealbridge.connectors.salesforce.deal_graph import fetch_deal_graph
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.calls import CallRecord
from dealbridge.db.open_errors import Failure
from dealbridge.db.timestamps import utc_now
from dealbridge.sync.call_log import collecting_calls
from dealbridge.sync.ledger import RunFinish
from dealbridge.sync.overrides import blocking, operation_keys, waive_overridden
from dealbridge.sync.plan_data import plan_document
from dealbridge.sync.runtime import current_runtime
from dealbridge.sync.stamps import salesforce_instant
from dealbridge.sync.upserts import UpsertContext, execute_operations
from dealbridge.sync.write_back import WriteBack, stamp_of, subrequests

T = TypeVar("T")
# The plan's checkpoint says how its upserts run: one ``upserts`` step in dependency order. A
# checkpoint without it was written by the previous release, whose deals go on wave by wave.
UPSERT_LAYOUT_KEY = "upsert_layout"
DEPENDENCY_ORDER = "dependency_order"
# ``start_run``'s checkpoint says how the deal is read: extract and plan in one step. Without it
# (earlier releases) the deal goes on with an ``extract`` step and a ``plan`` step.
READ_LAYOUT_KEY = "read_layout"
ONE_READ_STEP = "read_and_plan"
# The trigger (the workflow's input, fixed when the deal is queued) says how the run is opened:
# outside any step. A trigger without it was queued by an earlier release, whose deals begin
# with a ``start_run`` step.
START_LAYOUT_KEY = "start_layout"
RUN_OPENED_WITHOUT_STEP = "no_step"
AUTOMATIC_TRIGGERS = frozenset({"outbound_message", "poller"})


async def start_run(
    workflow_id: str, opportunity_id: str, trigger: dict[str, Any]
) -> dict[str, Any]:
    """The run row (created once per workflow id), and whether the trigger is our own echo.

    A ledger write outside any step for deals queued by this release (``deal_sync``), the first
    step of those queued by earlier ones (``START_LAYOUT_KEY``). ``reopened``: the row was there
    already (the deal is resumed, or the step repeated).
    """
    runtime = current_runtime()
    started = time.perf_counter()
    begun = await runtime.ledger.call(
        runtime.ledger.begin_run,
        workflow_id,
        opportunity_id,
        trigger,
        echo_check=trigger["kind"] in AUTOMATIC_TRIGGERS,
    )
    return {
        "run_id": begun.run_id,
        "own_write_back": begun.own_write_back,
        "reopened": begun.reopened,
        READ_LAYOUT_KEY: ONE_READ_STEP,
        "ms": _ms(started),
    }


async def read_and_plan(run_id: str, opportunity_id: str, fresh_lookups: bool) -> dict[str, Any]:
    """``extract`` and ``plan`` in one step: the deal graph read, stored with the run, planned.

    Why one step: both only read (Salesforce, NetSuite's lookup tables), so repeating both after
    a crash or an outage is as safe as repeating either, and the graph then needs no checkpoint
    of its own — one step fewer per deal, and no copy of the graph through DBOS. Its checkpoint
    is the plan's, with the run's ``timings`` of each half for the console.
    """
    started = time.perf_counter()
    graph, _data = await _read_graph(run_id, opportunity_id)
    read_ms = _ms(started)
    planned = await _plan_graph(run_id, graph, fresh_lookups)
    timings = [{"step": "extract", "ms": read_ms}, {"step": "plan", "ms": planned["ms"]}]
    return {**_graph_facts(graph), **planned, "timings": timings, "ms": _ms(started)}


async def extract(run_id: str, opportunity_id: str) -> dict[str, Any]:
    """The deal graph (≤ 2 Salesforce calls), stored with the run for replay.

    The step of deals planned by earlier releases (``start_run``'s checkpoint without
    ``read_layout``); later ones read and plan in ``read_and_plan``.
    """
    started = time.perf_counter()
    graph, data = await _read_graph(run_id, opportunity_id)
    return {"graph": data, **_graph_facts(graph), "ms": _ms(started)}


async def plan(run_id: str, graph: dict[str, Any], fresh_lookups: bool) -> dict[str, Any]:
    """The flow's plan of the deal, as a document (``plan_data``), or why there is none.

    ``fresh_lookups`` drops the cached SuiteQL tables first: a retry usually follows a fix of
    NetSuite's reference data (an item added), which a cached table would hide. The step of
    deals of earlier releases, as ``extract``.
    """
    return await _plan_graph(run_id, DealGraph.from_json(json.dumps(graph)), fresh_lookups)


async def _read_graph(run_id: str, opportunity_id: str) -> tuple[DealGraph, dict[str, Any]]:
    """The deal graph from Salesforce, stored with the run (with the calls) for replay."""
    runtime = current_runtime()

    async def fetch(calls: list[CallRecord]) -> tuple[DealGraph, dict[str, Any]]:
        clients = await runtime.loop_clients()
        multi_currency = runtime.settings.sync.multi_currency
        graph = await fetch_deal_graph(
            clients.salesforce, opportunity_id, multi_currency=multi_currency
        )
        data = graph.stored_data()
        await _store_with(calls, partial(runtime.ledger.mark_running, run_id, data))
        return graph, data

    return await _recording_calls(run_id, fetch)


def _graph_facts(graph: DealGraph) -> dict[str, Any]:
    stamp = graph.opportunity.system_modstamp
    return {
        "account_id": graph.opportunity.account_id,
        "system_modstamp": salesforce_instant(stamp) if stamp else None,
    }


async def _plan_graph(run_id: str, deal: DealGraph, fresh_lookups: bool) -> dict[str, Any]:
    """The plan document of ``deal`` and whether it may be sent (``plan``'s answer)."""
    runtime = current_runtime()
    if fresh_lookups:
        runtime.table_cache.clear()
    started = time.perf_counter()
    scope = runtime.engine.scope(deal)
    if not runtime.engine.triggered(deal, scope):
        return {"triggered": False, "ok": False, "plan": None, "ms": _ms(started)}

    async def make(_calls: list[CallRecord]) -> dict[str, Any]:
        clients = await runtime.loop_clients()
        lookups = await runtime.lookups(clients.netsuite)
        return plan_document(runtime.engine.plan(deal, lookups, scope))

    document = await _recording_calls(run_id, make)
    if blocking(document["violations"]):
        states = await runtime.ledger.call(runtime.ledger.synced_state, operation_keys(document))
        edited = [key for key, state in states.items() if state.override is not None]
        document = waive_overridden(document, edited)
    ok = not blocking(document["violations"])
    return {
        "triggered": True,
        "ok": ok,
        "plan": document,
        UPSERT_LAYOUT_KEY: DEPENDENCY_ORDER,
        "ms": _ms(started),
    }


async def upserts(
    run_id: str,
    opportunity_id: str,
    entries: list[dict[str, Any]],
    known_ids: dict[str, str],
    flow: str,
) -> dict[str, Any]:
    """The entries' upserts, each sent once its dependencies are written (``sync.upserts``).

    One step for the whole plan (``known_ids`` empty), or one per wave for a deal planned under
    the previous layout (``deal_sync``), the ids of earlier waves coming from their checkpoints.
    """
    runtime = current_runtime()
    started = time.perf_counter()

    async def execute(calls: list[CallRecord]) -> dict[str, Any]:
        clients = await runtime.loop_clients()
        context = UpsertContext(
            clients.netsuite, runtime.ledger, run_id, opportunity_id, flow, calls
        )
        return await execute_operations(entries, known_ids, context)

    result = await _recording_calls(run_id, execute)
    return {**result, "ms": _ms(started)}


async def write_back(run_id: str, write: dict[str, Any], unchanged: bool) -> dict[str, Any]:
    """One composite call to Salesforce, unless disabled or nothing would change."""
    runtime = current_runtime()
    started = time.perf_counter()
    if not runtime.settings.sync.write_back:
        return {"status": "disabled", "ms": _ms(started)}
    target = WriteBack(**write)
    shows_synced = runtime.ledger.shows_synced
    if unchanged and await runtime.ledger.call(shows_synced, target.opportunity_id, run_id):
        return {"status": "skipped", "ms": _ms(started)}

    async def send(calls: list[CallRecord]) -> str:
        clients = await runtime.loop_clients()
        stamp = stamp_of(await clients.salesforce.composite(subrequests(target, utc_now())))
        remember = partial(runtime.ledger.remember_write_back, target.opportunity_id, stamp)
        await _store_with(calls, lambda batch: remember(run_id=run_id, calls=batch))
        return stamp

    stamp = await _recording_calls(run_id, send)
    return {"status": "written", "modstamp": stamp, "ms": _ms(started)}


async def record_failure(
    run_id: str, workflow_id: str, opportunity_id: str, failure: Failure
) -> dict[str, Any]:
    """Open (or update) the opportunity's error."""
    runtime = current_runtime()
    started = time.perf_counter()
    error_id = await runtime.ledger.call(
        runtime.ledger.record_failure, failure, opportunity_id, run_id, workflow_id
    )
    return {"error_id": error_id, "ms": _ms(started)}


async def finish_run(
    run_id: str, opportunity_id: str, finish: RunFinish, succeeded: bool
) -> dict[str, Any]:
    """Record the outcome; after a success, close the opportunity's open error (one transaction).

    Not a checkpointed step (``deal_sync`` runs it through ``runtime.ledger_write``): run again
    after a crash, it records the same facts and finds the error already closed.
    """
    runtime = current_runtime()
    resolve = opportunity_id if succeeded else None
    resolved = await runtime.ledger.call(
        runtime.ledger.finish_run, run_id, finish, resolve_opportunity=resolve
    )
    return {"resolved_error_id": resolved}


async def _recording_calls(run_id: str, work: Callable[[list[CallRecord]], Awaitable[T]]) -> T:
    """Run ``work`` and store the API calls it made with the run, even when it fails.

    ``work`` gets the live list of the step's calls and may store them itself with its last
    ledger write (``_store_with``); whatever is left in the list is stored here, without any
    transaction when nothing is.
    """
    with collecting_calls() as calls:
        try:
            return await work(calls)
        finally:
            if calls:
                ledger = current_runtime().ledger
                await ledger.call(ledger.record_calls, run_id, list(calls))


async def _store_with(calls: list[CallRecord], store: Callable[[list[CallRecord]], None]) -> None:
    """Run ``store`` (a ledger write taking the calls); the calls it stored leave."""
    batch = list(calls)
    await current_runtime().ledger.call(store, batch)
    del calls[: len(batch)]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
