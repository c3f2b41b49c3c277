"""Reconciliation: prove NetSuite holds what the flow says the won deals need, and repair it.

``reconcile`` runs six stages, each in bulk (``docs/reconciliation.md`` has a sample report):

1. The window's won deals from Salesforce, a page per 2,000 (``reconcile_fetch.iter_won``),
   and their deal graphs, two queries per 200 deals (``fetch_graphs``) — each page and batch
   only after the usage guard allows ``reconcile`` work (``limits.ApiUsage.guard``: it raises
   ``RateLimitedError`` above the share kept for live deals, and nothing is half-reported).
2. Each graph planned by the same ``FlowEngine`` and lookup tables as a sync
   (``reconcile_expect``): the records NetSuite should hold.
3. Our records of every type, one SuiteQL scan per type by external id prefix
   (``reconcile_netsuite.read_ours``): what NetSuite holds.
4. ``missing``, ``drift`` and ``orphan`` findings (``reconcile_compare``); with a window (or a
   ledger), records of won deals outside it, or of deals that could not be read, are not
   called orphans.
5. ``duplicate`` findings: customers and contacts without our external id that share a name or
   e-mail with ours (``read_lookalikes``).
6. ``money``: subscriptions valued from their price intervals against the quote's net amount,
   summed per currency (``reconcile_money``).

Costs: Salesforce ~2 calls per 200 deals; NetSuite one call per 1,000 of our records (plus one
per type), per 1,000 price intervals and per 1,000 names/e-mails — never one per record. The
report counts both (``calls``).

``repair`` re-syncs, through the normal workflow, the deals of missing and drifted records and
the deals whose subscriptions NetSuite values otherwise than planned (money: drift inside the
price intervals): the ledger rows of those records are forgotten first
(``reconcile_ledger.forget_records``) so the workflow's hash check lets them through; NetSuite is
only ever written by the workflow's upserts. Orphans, duplicates and blocked deals are for a
person: they are only reported.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.core.calls import CallObserver, CallRecord
from dealbridge.core.records import RecordKey
from dealbridge.db.models import TRIGGERS
from dealbridge.db.timestamps import utc_now
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import TableCache, load_lookups
from dealbridge.sync.call_log import collecting_calls
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.reconcile_compare import (
    DUPLICATE_FIELDS,
    Actual,
    drift_items,
    duplicate_items,
    lookalike_values,
    missing_items,
    orphan_items,
)
from dealbridge.sync.reconcile_expect import (
    SUBSCRIPTION_TYPE,
    Expectation,
    columns_of,
    expect,
)
from dealbridge.sync.reconcile_fetch import (
    GraphBatch,
    Window,
    WonDeal,
    fetch_graphs,
    iter_won,
    still_won,
)
from dealbridge.sync.reconcile_ledger import forget_records, ledger_owners
from dealbridge.sync.reconcile_money import money_findings, planned_intervals
from dealbridge.sync.reconcile_netsuite import bounded, read_intervals, read_lookalikes, read_ours
from dealbridge.sync.reconcile_report import Item, Report
from dealbridge.sync.triggers import opportunity_id18, trigger_info

# "reconcile" joins the ledger's triggers with the engine's next schema change; until then a
# repair is recorded as a manual sync whose trigger_ref names the reconciliation.
REPAIR_TRIGGER = "reconcile" if "reconcile" in TRIGGERS else "manual"
Enqueue = Callable[[str, str, dict[str, Any]], Awaitable[None]]
"""``(workflow id, opportunity id, trigger info)`` → the deal is durably queued."""
Progress = Callable[[str], None]


@dataclass
class Reconciliation:
    """A report and what it was made from (``repair`` needs the deals behind the findings)."""

    report: Report
    expectation: Expectation
    actual: Actual


@dataclass(frozen=True)
class Repair:
    """One deal to re-sync, and the records it is re-synced for."""

    deal: WonDeal
    keys: tuple[RecordKey, ...] = field(default=())


async def reconcile(
    salesforce: SalesforceClient,
    netsuite: NetSuiteClient,
    engine: FlowEngine,
    *,
    window: Window | None = None,
    multi_currency: bool = True,
    ledger: Ledger | None = None,
    cache: TableCache | None = None,
    progress: Progress | None = None,
    counter: CallCounter | None = None,
) -> Reconciliation:
    """Compare the window's won deals with NetSuite (module docstring); writes nothing.

    The report's ``calls`` come from ``counter`` when the clients report to one, else from the
    calls collected while it runs (the runtime's clients, ``call_log.observe_call``).
    """
    window = window or Window()
    say = progress or (lambda _stage: None)
    before = counter.snapshot() if counter is not None else {}
    with collecting_calls() as calls:
        say("reading won deals")
        deals, graphs = await read_deals(salesforce, window, multi_currency)
        say("planning")
        lookups = await load_lookups(engine.flow, netsuite, cache=cache)
        expectation = expect(deals, graphs, engine, lookups)
        say("reading NetSuite")
        actual = await read_actual(netsuite, expectation)
        say("comparing")
        items = await _findings(salesforce, netsuite, expectation, actual, window, ledger)
        money = money_findings(expectation, actual, await _intervals(netsuite, expectation, actual))
    report = Report(
        generated_at=utc_now().isoformat().replace("+00:00", "Z"),
        window={"since": _iso(window.since), "until": _iso(window.until)},
        items=[*items, *money.items],
        totals=money.totals,
        checked={
            "deals": len(expectation.deals),
            "records": len(set(expectation.records) | _held_keys(actual)),
            "price_intervals": money.intervals,
        },
        calls=counter.since(before) if counter is not None else count_calls(calls),
    )
    return Reconciliation(report, expectation, actual)


async def read_deals(
    salesforce: SalesforceClient, window: Window, multi_currency: bool
) -> tuple[list[WonDeal], GraphBatch]:
    """Every won deal of the window and its graph, the guard checked before each call batch."""
    deals: list[WonDeal] = []
    graphs = GraphBatch()
    salesforce.guard("reconcile")
    async for page in iter_won(salesforce, window):
        deals.extend(page)
        salesforce.guard("reconcile")
        batch = await fetch_graphs(
            salesforce, [deal.opportunity_id for deal in page], multi_currency=multi_currency
        )
        graphs.graphs.update(batch.graphs)
        graphs.problems.update(batch.problems)
        salesforce.guard("reconcile")
    return deals, graphs


async def read_actual(netsuite: NetSuiteClient, expectation: Expectation) -> Actual:
    """Our records of every type the flow writes, one prefix scan per type."""
    types = [t for t in expectation.types() if expectation.prefixes.get(t)]

    def scan(record_type: str) -> Callable[[], Awaitable[dict[str, Any]]]:
        columns = columns_of(expectation.records[key] for key in expectation.keys_of(record_type))
        prefixes = expectation.prefixes[record_type]
        return lambda: read_ours(netsuite, record_type, prefixes, columns)

    scanned = await bounded([scan(record_type) for record_type in types])
    return Actual(dict(zip(types, scanned, strict=True)))


async def _findings(
    salesforce: SalesforceClient,
    netsuite: NetSuiteClient,
    expectation: Expectation,
    actual: Actual,
    window: Window,
    ledger: Ledger | None,
) -> list[Item]:
    scope = await _out_of_scope(salesforce, expectation, actual, window, ledger)
    items = [
        *expectation.blocked_items(),
        *missing_items(expectation, actual),
        *drift_items(expectation, actual),
        *orphan_items(expectation, actual, scope),
    ]
    for record_type, columns in DUPLICATE_FIELDS.items():
        values = lookalike_values(expectation, record_type)
        prefixes = expectation.prefixes.get(record_type, ())
        if not any(values) or not prefixes:
            continue
        lower = (columns[0].lower(), columns[1].lower())
        rows = await read_lookalikes(netsuite, record_type, prefixes, lower, values)
        items.extend(duplicate_items(expectation, record_type, rows))
    return items


async def _out_of_scope(
    salesforce: SalesforceClient,
    expectation: Expectation,
    actual: Actual,
    window: Window,
    ledger: Ledger | None,
) -> set[RecordKey]:
    """Unplanned records that are not orphans: a won deal outside the window, or unreadable.

    Without a ledger nothing is known about who wrote a record, so a windowless reconciliation
    calls every unplanned record an orphan; with a window and no ledger, none is called one.
    """
    candidates = _held_keys(actual) - set(expectation.records)
    windowed = window.since is not None or window.until is not None
    if not candidates or ledger is None:
        return candidates if windowed else set()
    owners = await asyncio.to_thread(ledger_owners, ledger, candidates)
    unreadable = {key for key, deal in expectation.deals.items() if deal.graph is None}
    outside = {owner for owner in owners.values() if owner and owner not in expectation.deals}
    won = await still_won(salesforce, sorted(outside)) if windowed and outside else set()
    return {key for key, owner in owners.items() if owner in unreadable or owner in won}


async def _intervals(
    netsuite: NetSuiteClient, expectation: Expectation, actual: Actual
) -> dict[str, list[dict[str, Any]]]:
    """The price intervals of every planned subscription NetSuite holds."""
    expected: dict[str, int] = {}
    for key in expectation.keys_of(SUBSCRIPTION_TYPE):
        internal = actual.internal_id(key)
        if internal is not None:
            payload = expectation.records[key][-1].operation.payload
            expected[internal] = planned_intervals(payload)
    return await read_intervals(netsuite, expected) if expected else {}


def plan_repairs(reconciliation: Reconciliation) -> list[Repair]:
    """The deals to re-sync, each with the records to write again.

    A missing or drifted record goes under the latest deal that plans it (re-syncing one deal
    writes a record shared with others); a ``money`` finding re-syncs its deal's subscriptions,
    whose price intervals are replaced as planned.
    """
    deals = reconciliation.expectation.deals
    by_deal: dict[str, list[RecordKey]] = {}
    for item in reconciliation.report.repairable():
        if not item.opportunities or item.opportunities[-1] not in deals:
            continue
        owner = item.opportunities[-1]
        if item.category == "money":
            by_deal.setdefault(owner, []).extend(deals[owner].keys(SUBSCRIPTION_TYPE))
        elif item.record_type is not None and item.external_id is not None:
            by_deal.setdefault(owner, []).append(RecordKey(item.record_type, item.external_id))
    return [Repair(deals[key].deal, tuple(dict.fromkeys(keys))) for key, keys in by_deal.items()]


async def repair(
    repairs: Iterable[Repair], ledger: Ledger, enqueue: Enqueue, *, reference: str
) -> list[str]:
    """Forget the repaired records' hashes, then queue each deal; returns the workflow ids.

    ``reference`` (the report's time) makes the workflow ids new — the deal's own
    ``deal:<Id>:<SystemModstamp>`` id already ran and would be a no-op.
    """
    queued: list[str] = []
    for item in repairs:
        forget_records(ledger, item.keys)
        deal = item.deal
        opportunity_id = opportunity_id18(deal.opportunity_id)
        workflow_id = f"reconcile:{opportunity_id}:{reference}"
        info = trigger_info(
            REPAIR_TRIGGER,
            account_id=deal.account_id,
            system_modstamp=deal.system_modstamp,
            trigger_ref=f"reconcile:{reference}",
        )
        await enqueue(workflow_id, opportunity_id, info)
        queued.append(workflow_id)
    return queued


def count_calls(calls: Iterable[CallRecord]) -> dict[str, int]:
    """API calls per system, token requests left out."""
    counts: dict[str, int] = {}
    for call in calls:
        if not is_token_call(call):
            counts[call.system] = counts.get(call.system, 0) + 1
    return counts


def is_token_call(call: CallRecord) -> bool:
    """A request for an access token, not an API call."""
    return call.path.rstrip("/").endswith("/token")


class CallCounter:
    """An ``on_call`` observer: counts API calls per system and passes each record on.

    Args:
        forward: Receives every record too (default: logged at debug level).
    """

    def __init__(self, forward: CallObserver | None = None) -> None:
        self._forward = forward or _debug
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, record: CallRecord) -> None:
        """Count one call (token requests left out)."""
        if not is_token_call(record):
            with self._lock:
                self._counts[record.system] = self._counts.get(record.system, 0) + 1
        self._forward(record)

    def snapshot(self) -> dict[str, int]:
        """Calls so far, per system."""
        with self._lock:
            return dict(self._counts)

    def since(self, before: Mapping[str, int]) -> dict[str, int]:
        """Calls made after ``before`` was taken."""
        now = self.snapshot()
        return {system: count - before.get(system, 0) for system, count in now.items()}


def _debug(record: CallRecord) -> None:
    structlog.get_logger("dealbridge.calls").debug("api_call", **record.as_dict())


def _held_keys(actual: Actual) -> set[RecordKey]:
    return {
        RecordKey(record_type, external_id)
        for record_type, rows in actual.rows.items()
        for external_id in rows
    }


def _iso(value: object) -> str | None:
    return None if value is None else str(value)
