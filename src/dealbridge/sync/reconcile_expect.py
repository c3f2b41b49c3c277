"""What NetSuite should hold: every won deal of the window planned with the current flow.

Each deal's graph goes through the same ``FlowEngine`` and lookup tables as a live sync, so "what
should be there" is exactly what a sync would write now. The plans are indexed by record: many
deals plan the same customer (one per account), price plan or subscription plan, and they need
not agree on every field — the customer's e-mail is the primary contact of *that* deal — so a
record keeps every deal's variant, in deal order, and matches NetSuite when any variant does.

A deal that cannot be planned — its graph did not load, or the flow's rules refuse it — expects
nothing: it becomes a ``blocked`` finding instead of a flood of "missing" records.

What SuiteQL can compare (``comparable_fields``): body fields whose planned value is plain (text,
number, boolean, date) or a reference (``{"id": …}`` or a record of the same plan). Sublists and
subrecords (address book, plan members, price intervals) have no column in a record's SuiteQL
table, so drift does not look at them; the money check reads the price intervals instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import Operation, PendingRef, RecordKey, SyncPlan
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import LookupTables
from dealbridge.sync.reconcile_fetch import GraphBatch, WonDeal
from dealbridge.sync.reconcile_report import Item

SUBSCRIPTION_TYPE = "subscription"
DEFAULT_CURRENCY = "USD"
_TEMPLATE_START = "{{"


@dataclass(frozen=True)
class Variant:
    """One deal's planned operation for one record."""

    opportunity_id: str
    operation: Operation


@dataclass
class DealExpectation:
    """One won deal: its graph and plan, or why it expects nothing."""

    deal: WonDeal
    graph: DealGraph | None = None
    plan: SyncPlan | None = None
    problem: str | None = None
    currency: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the deal has a plan the flow accepts."""
        return self.plan is not None and self.problem is None

    def keys(self, record_type: str | None = None) -> list[RecordKey]:
        """The records the deal plans, optionally of one type, in plan order."""
        if self.plan is None or not self.ok:
            return []
        return [
            op.key
            for op in self.plan.operations
            if record_type is None or op.key.record_type == record_type
        ]


@dataclass
class Expectation:
    """The window's deals and every record they plan."""

    deals: dict[str, DealExpectation] = field(default_factory=dict)
    records: dict[RecordKey, list[Variant]] = field(default_factory=dict)
    prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def types(self) -> list[str]:
        """Every record type to read from NetSuite: planned ones and the flow's own."""
        return sorted({key.record_type for key in self.records} | set(self.prefixes))

    def keys_of(self, record_type: str) -> list[RecordKey]:
        """The planned records of one type."""
        return [key for key in self.records if key.record_type == record_type]

    def owners(self, key: RecordKey) -> tuple[str, ...]:
        """The deals planning ``key``, in deal order."""
        return tuple(dict.fromkeys(v.opportunity_id for v in self.records.get(key, ())))

    def blocked_items(self) -> list[Item]:
        """A ``blocked`` finding per deal that expects nothing."""
        return [
            Item(
                category="blocked",
                message=expected.problem or "",
                opportunities=(opportunity_id,),
            )
            for opportunity_id, expected in self.deals.items()
            if not expected.ok
        ]


def expect(
    deals: Iterable[WonDeal], batch: GraphBatch, engine: FlowEngine, lookups: LookupTables
) -> Expectation:
    """Plan every deal (in the given order) and index the planned records."""
    expectation = Expectation(prefixes=flow_prefixes(engine))
    for deal in deals:
        expected = plan_deal(deal, batch, engine, lookups)
        expectation.deals[deal.opportunity_id] = expected
        if expected.plan is None or not expected.ok:
            continue
        for operation in expected.plan.operations:
            variants = expectation.records.setdefault(operation.key, [])
            variants.append(Variant(deal.opportunity_id, operation))
    return expectation


def plan_deal(
    deal: WonDeal, batch: GraphBatch, engine: FlowEngine, lookups: LookupTables
) -> DealExpectation:
    """One deal planned, or the reason it cannot be."""
    graph = batch.graphs.get(deal.opportunity_id)
    if graph is None:
        problem = batch.problems.get(deal.opportunity_id, "the deal could not be read")
        return DealExpectation(deal, problem=problem)
    plan = engine.plan(graph, lookups)
    expected = DealExpectation(deal, graph, plan, currency=deal_currency(graph, engine))
    if not plan.ok:
        reasons = "; ".join(violation.message for violation in plan.errors)
        expected.problem = f"The flow refuses this deal, so NetSuite holds nothing: {reasons}"
    return expected


def deal_currency(graph: DealGraph, engine: FlowEngine) -> str:
    """The deal's currency as the flow's ``currency`` view has it (``deal_views``).

    The first ``CurrencyIsoCode`` of quote, opportunity and account, else the flow's
    ``const.default_currency``.
    """
    quote = graph.quote.currency_iso_code if graph.quote is not None else None
    for code in (quote, graph.opportunity.currency_iso_code, graph.account.currency_iso_code):
        if code and code.strip():
            return code.strip().upper()
    return str(engine.compiled.constants.get("default_currency") or DEFAULT_CURRENCY).upper()


def flow_prefixes(engine: FlowEngine) -> dict[str, tuple[str, ...]]:
    """External id prefixes per record type: the literal text before the first ``{{``.

    ``SFACC-{{ account.Id }}`` gives ``SFACC-``; a template that starts with a hole has no
    prefix, and its type cannot be searched for orphans.
    """
    prefixes: dict[str, set[str]] = {}
    for record in engine.compiled.records:
        prefix = record.external_id.source.split(_TEMPLATE_START, 1)[0].strip()
        if prefix:
            prefixes.setdefault(record.type, set()).add(prefix)
    return {record_type: tuple(sorted(found)) for record_type, found in prefixes.items()}


def comparable_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload's fields SuiteQL can compare (module docstring), by field name."""
    return {name: value for name, value in payload.items() if is_comparable(value)}


def is_comparable(value: Any) -> bool:
    """A plain value or a reference; not a sublist, subrecord or list."""
    if isinstance(value, PendingRef):
        return True
    if isinstance(value, Mapping):
        return set(value) == {"id"}
    return value is None or isinstance(value, str | int | float | bool)


def columns_of(variants: Iterable[list[Variant]]) -> list[str]:
    """The SuiteQL columns of every comparable planned field (lower case, contracts §4)."""
    found: set[str] = set()
    for entries in variants:
        for variant in entries:
            found.update(name.lower() for name in comparable_fields(variant.operation.payload))
    return sorted(found - {"id", "externalid"})
