"""Preview a deal: its plan and, per record, a field-level diff against NetSuite — writing nothing.

Why a preview exists: a flow change or an odd deal should be visible before anything reaches
NetSuite. ``preview_opportunity`` reads the deal as the sync would (``fetch_deal_graph``: at
most two Salesforce calls), loads the flow's lookup tables from NetSuite, plans with the same
``FlowEngine``, then reads what NetSuite holds for every planned record (``current_state``: one
SuiteQL query per record type, one GET per existing record) and diffs each payload against it
(``diff``). Reads only: no upsert, no write-back, no ledger.

Layers, so each can be used alone: ``preview_graph`` starts from a deal graph already fetched
(replaying a stored run), and ``preview_from_snapshot`` is pure — a plan and the current
records in, the result out — for tests and for callers that already hold NetSuite's state.

The JSON document (``PreviewResult.to_json``) is the one of issue 4::

    {"opportunity": "006…", "violations": [...],
     "operations": [{"type", "external_id", "action", "payload", "diff": [{"path", "before",
     "after"}]}]}

A deal with violations still previews (exit code 0 in the CLI): its partial plan shows what is
wrong next to what would be written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.deal_graph import fetch_deal_graph
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.connectors.salesforce.models import to_id18
from dealbridge.core.calls import CallObserver
from dealbridge.core.records import Operation, RecordKey, SyncPlan, Violation, payload_to_json
from dealbridge.errors import ValidationError
from dealbridge.mapping.create_only import update_view
from dealbridge.mapping.current_state import (
    DEFAULT_CONCURRENCY,
    RecordReader,
    read_current_state,
)
from dealbridge.mapping.diff import RecordDiff, diff_record
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import SHIPPED_FLOWS_DIR, LoadedFlow, load_flow
from dealbridge.mapping.lookups import TableCache, load_lookups
from dealbridge.settings import Settings

DEFAULT_FLOW = SHIPPED_FLOWS_DIR / "cpq_closed_won.yaml"
CurrentRecords = Mapping[RecordKey, Mapping[str, Any] | None]


@dataclass(frozen=True)
class OperationPreview:
    """One planned upsert and what it would change."""

    operation: Operation
    diff: RecordDiff

    def to_json(self) -> dict[str, Any]:
        """The operation as the preview document lists it."""
        key = self.operation.key
        return {
            "type": key.record_type,
            "external_id": key.external_id,
            "action": self.diff.action,
            "payload": payload_to_json(self.operation.payload),
            "diff": self.diff.as_list(),
        }


@dataclass(frozen=True)
class PreviewResult:
    """A deal's plan with a diff per record.

    Attributes:
        opportunity: The opportunity id.
        plan: The plan as the engine made it (operations, violations, flow and version).
        operations: One preview per planned operation, in plan order.
        triggered: Whether the flow's trigger holds (False: e.g. the deal is not won yet, and
            the sync would not pick it up; the preview shows it as if it were).
    """

    opportunity: str
    plan: SyncPlan
    operations: tuple[OperationPreview, ...] = field(default=())
    triggered: bool = True

    @property
    def violations(self) -> list[Violation]:
        """Every violation of the deal, errors and warnings."""
        return self.plan.violations

    def counts(self) -> dict[str, int]:
        """How many records each action concerns, e.g. ``{"create": 3, "update": 1, …}``."""
        found = {"create": 0, "update": 0, "unchanged": 0}
        for preview in self.operations:
            found[preview.diff.action] += 1
        return found

    def to_json(self) -> dict[str, Any]:
        """The single JSON document of ``flows preview --json``."""
        return {
            "opportunity": self.opportunity,
            "violations": [violation.as_dict() for violation in self.violations],
            "operations": [preview.to_json() for preview in self.operations],
        }


def preview_from_snapshot(
    plan: SyncPlan, current_records: CurrentRecords, *, triggered: bool = True
) -> PreviewResult:
    """The preview of ``plan`` against given current records; pure.

    Args:
        plan: The engine's plan.
        current_records: What NetSuite holds, by record key (absent or None: no such record),
            each as an expanded GET returns it. A record's ``id`` is its internal id, which
            resolves the ``PendingRef``s pointing at it.
        triggered: Whether the flow's trigger holds for the deal.
    """
    known_ids = {
        key: str(record["id"])
        for key, record in current_records.items()
        if record is not None and record.get("id") is not None
    }
    previews = tuple(
        _preview(operation, current_records.get(operation.key), known_ids)
        for operation in plan.operations
    )
    return PreviewResult(plan.opportunity_id, plan, previews, triggered)


def _preview(
    operation: Operation, current: Mapping[str, Any] | None, known_ids: Mapping[RecordKey, str]
) -> OperationPreview:
    """One record's preview: an existing record is shown as updated without create-only fields.

    The sync sends such a record the payload without them (``create_only.update_view``), so
    the preview shows that payload, and their values on the deal are not changes.
    """
    sent = operation if current is None else update_view(operation)
    diff = diff_record(sent.payload, current, replace=sent.replace, known_ids=known_ids)
    return OperationPreview(sent, diff)


async def preview_graph(
    graph: DealGraph | Mapping[str, Any],
    *,
    settings: Settings,
    flow_path: Path | None = None,
    on_call: CallObserver | None = None,
    cache: TableCache | None = None,
) -> PreviewResult:
    """The preview of a deal graph already fetched (its JSON shape or a ``DealGraph``).

    Args:
        graph: The deal.
        settings: Where NetSuite is (and the default flow, ``sync.flow_path``).
        flow_path: The flow file; default ``sync.flow_path``, else the shipped flow.
        on_call: Receives a record of every NetSuite call (the log by default).
        cache: The SuiteQL lookup cache (default: the process's).

    Raises:
        ConfigError: The flow file is broken (``FlowFileError``) or NetSuite is not configured.
        ConnectorError: NetSuite could not be read.
    """
    flow = load_preview_flow(settings, flow_path)
    async with NetSuiteClient(settings.netsuite, on_call=on_call) as netsuite:
        return await preview_with(FlowEngine(flow), graph, netsuite, cache=cache)


async def preview_opportunity(
    opportunity_id: str,
    *,
    settings: Settings,
    flow_path: Path | None = None,
    on_call: CallObserver | None = None,
    cache: TableCache | None = None,
) -> PreviewResult:
    """Read the deal from Salesforce and preview it against NetSuite; writes nothing.

    The flow is loaded before any call, so a broken flow fails fast without touching either
    system. Arguments as ``preview_graph``, plus the opportunity id (15 or 18 characters).

    Raises:
        ValidationError: The id is not a Salesforce id.
        NotFoundError: Salesforce has no such opportunity.
        ConfigError: As ``preview_graph``.
        ConnectorError: Salesforce or NetSuite could not be read.
    """
    identifier = _id18(opportunity_id)
    flow = load_preview_flow(settings, flow_path)
    async with SalesforceClient(settings.salesforce, on_call=on_call) as salesforce:
        graph = await fetch_deal_graph(
            salesforce, identifier, multi_currency=settings.sync.multi_currency
        )
    async with NetSuiteClient(settings.netsuite, on_call=on_call) as netsuite:
        result = await preview_with(FlowEngine(flow), graph, netsuite, cache=cache)
    return result if result.opportunity else replace(result, opportunity=identifier)


async def preview_with(
    engine: FlowEngine,
    graph: DealGraph | Mapping[str, Any],
    netsuite: RecordReader,
    *,
    cache: TableCache | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> PreviewResult:
    """Plan ``graph`` with lookups read through ``netsuite``, then diff against its records."""
    lookups = await load_lookups(engine.flow, netsuite, cache=cache)
    plan = engine.plan(graph, lookups)
    keys = [operation.key for operation in plan.operations]
    state = await read_current_state(netsuite, keys, concurrency=concurrency)
    return preview_from_snapshot(plan, state.records, triggered=engine.triggered(graph))


def load_preview_flow(settings: Settings, flow_path: Path | None = None) -> LoadedFlow:
    """The flow a preview uses: the given file, else the sync's, else the shipped one."""
    return load_flow(Path(flow_path or settings.sync.flow_path or DEFAULT_FLOW))


def _id18(opportunity_id: str) -> str:
    """The 18-character id; ids copied from reports and URLs have 15."""
    try:
        return to_id18(opportunity_id.strip())
    except ValueError:
        raise ValidationError(
            f"{opportunity_id!r} is not a Salesforce Opportunity id",
            record="Opportunity",
            field_path="Id",
            rule="salesforce_id",
        ) from None
