"""Replay: a past run's deal through the current flow — what would change, and then write it.

The safe way to roll out a mapping change. ``replay_run`` takes the deal graph stored with a run
(the ``extract`` step keeps it) and plans it with the flow as it is now, then compares, record by
record, with the plan that run made (stored with the run as its plan document):

- ``action`` — ``create`` (a record the old plan did not have), ``update`` (field changes, each
  with its old and new value), ``unchanged``, or ``removed`` (the old plan wrote it, the new one
  does not: it would stay in NetSuite, unplanned — an orphan for reconciliation). The comparison
  is ``mapping.diff.diff_record`` with the old payload in the place of NetSuite's record; records
  of the same plan are compared by key, so no NetSuite id is needed.
- ``write`` — what the workflow would do now: ``skip`` when the ledger holds the hash of the
  very body the workflow would send (``upserts.prepare``: create-only fields left out of a record
  it holds, resolved with the NetSuite ids the ledger knows), else ``write``.

``enqueue_replay`` then runs the deal through the normal workflow (trigger ``replay``) under a
new workflow id, ``replay:<run id>:<time>`` — the original id already ran. Workflow inputs are
ids, not payloads, so that workflow reads the deal from Salesforce as it is *now*; when the
opportunity changed since the run (its ``SystemModstamp`` moved) the preview above no longer
describes exactly what it writes, which ``ReplayResult.stale`` lets the caller say.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import Operation, RecordKey, SyncPlan, Violation, payload_to_json
from dealbridge.db import runs
from dealbridge.db.ledger_errors import NotInLedgerError
from dealbridge.db.timestamps import utc_now
from dealbridge.mapping.diff import FieldChange, diff_record
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import TableCache, load_lookups
from dealbridge.sync.ledger import Ledger, SyncedState
from dealbridge.sync.plan_data import plan_from_document
from dealbridge.sync.reconcile import Enqueue
from dealbridge.sync.stamps import salesforce_instant
from dealbridge.sync.triggers import trigger_info
from dealbridge.sync.upserts import is_unchanged, prepare

TRIGGER = "replay"
Action = Literal["create", "update", "unchanged", "removed"]
Decision = Literal["write", "skip"]


@dataclass(frozen=True)
class StoredRun:
    """What replay needs of a run row."""

    run_id: str
    opportunity_id: str
    account_id: str | None
    graph: dict[str, Any]
    plan: dict[str, Any] | None
    system_modstamp: str | None


@dataclass(frozen=True)
class ReplayRecord:
    """One record: how the current flow's payload compares with the one planned then."""

    key: RecordKey
    action: Action
    changes: tuple[FieldChange, ...] = ()
    write: Decision | None = None
    payload: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "type": self.key.record_type,
            "external_id": self.key.external_id,
            "action": self.action,
            "write": self.write,
            "diff": [change.as_dict() for change in self.changes],
            "payload": self.payload,
        }


@dataclass
class ReplayResult:
    """The whole comparison of one run."""

    run: StoredRun
    flow_then: str | None
    flow_now: str
    violations: list[Violation] = field(default_factory=list)
    records: list[ReplayRecord] = field(default_factory=list)
    current_modstamp: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the current flow accepts the deal (it could be written)."""
        return not any(violation.severity == "error" for violation in self.violations)

    @property
    def stale(self) -> bool:
        """Whether the opportunity changed in Salesforce after the run (when known)."""
        then, now = self.run.system_modstamp, self.current_modstamp
        return bool(then and now and salesforce_instant(then) != salesforce_instant(now))

    def counts(self) -> dict[str, int]:
        """Records per action, and how many the workflow would write now."""
        found: Counter[str] = Counter(record.action for record in self.records)
        found["write"] = sum(record.write == "write" for record in self.records)
        return {
            name: found.get(name, 0)
            for name in ("create", "update", "unchanged", "removed", "write")
        }

    def to_json(self) -> dict[str, Any]:
        """The document ``replay --json`` prints."""
        return {
            "run": self.run.run_id,
            "opportunity": self.run.opportunity_id,
            "flow_then": self.flow_then,
            "flow_now": self.flow_now,
            "stale": self.stale,
            "counts": self.counts(),
            "violations": [violation.as_dict() for violation in self.violations],
            "records": [record.to_json() for record in self.records],
        }


def load_run(ledger: Ledger, run_id: str) -> StoredRun:
    """The run with its stored graph.

    Raises:
        NotInLedgerError: No such run, or it stored no deal graph (it ended before extracting).
    """
    with ledger.session() as session:
        run = runs.get_run(session, run_id)
        if run is None:
            raise NotInLedgerError(f"no run with id {run_id}")
        if not run.deal_graph:
            raise NotInLedgerError(f"run {run_id} has no stored deal graph to replay")
        stamp = run.system_modstamp.isoformat() if run.system_modstamp else None
        graph_stamp = (run.deal_graph.get("opportunity") or {}).get("SystemModstamp")
        return StoredRun(
            run.id, run.opportunity_id, run.account_id, dict(run.deal_graph),
            dict(run.plan) if run.plan else None, graph_stamp or stamp,
        )  # fmt: skip


async def replay_run(
    ledger: Ledger,
    run_id: str,
    engine: FlowEngine,
    netsuite: NetSuiteClient,
    *,
    cache: TableCache | None = None,
) -> ReplayResult:
    """Plan the run's stored deal with the current flow and compare (module docstring).

    NetSuite is read only for the flow's lookup tables (cached like a sync's).
    """
    stored = load_run(ledger, run_id)
    lookups = await load_lookups(engine.flow, netsuite, cache=cache)
    # As the workflow's plan step does: the stored JSON back into a DealGraph first (planned
    # from the raw JSON, decimals would render as text: "line 1.0" instead of "line 1").
    now = engine.plan(DealGraph.from_json(json.dumps(stored.graph)), lookups)
    then = plan_from_document(stored.plan) if stored.plan else None
    result = ReplayResult(
        stored,
        flow_then=_flow_name(stored.plan),
        flow_now=f"{now.flow} v{now.flow_version}",
        violations=now.violations,
    )
    result.records = compare_plans(then, now, ledger_hashes(ledger, now))
    return result


def compare_plans(
    then: SyncPlan | None, now: SyncPlan, decisions: Mapping[RecordKey, Decision]
) -> list[ReplayRecord]:
    """Each record of ``now`` against ``then``, then the records only ``then`` had."""
    old = {operation.key: operation for operation in then.operations} if then else {}
    keys = {*old, *(operation.key for operation in now.operations)}
    symbolic = {key: str(key) for key in keys}
    records = []
    for operation in now.operations:
        previous = old.get(operation.key)
        before = previous.resolved_payload(symbolic) if previous is not None else None
        diff = diff_record(operation.resolved_payload(symbolic), before, replace=operation.replace)
        records.append(
            ReplayRecord(
                operation.key,
                diff.action,
                diff.changes,
                write=decisions.get(operation.key, "write"),
                payload=payload_to_json(operation.payload),
            )
        )
    planned = {operation.key for operation in now.operations}
    records += [ReplayRecord(key, "removed") for key in old if key not in planned]
    return records


def ledger_hashes(ledger: Ledger, plan: SyncPlan) -> dict[RecordKey, Decision]:
    """``"skip"`` for each record the workflow would find unchanged now, else ``"write"``.

    Decided as the workflow decides it (``upserts.prepare`` and ``upserts.is_unchanged``):
    the hash of the body it would send — without create-only fields for a record the ledger
    holds, or a pending override as written — against the ledger's.
    """
    states = ledger.synced_state([operation.key for operation in plan.operations])
    known = {key: state.netsuite_id for key, state in states.items() if state.netsuite_id}
    return {
        operation.key: _decision(operation, states.get(operation.key), known)
        for operation in plan.operations
    }


def _decision(
    operation: Operation, state: SyncedState | None, known: Mapping[RecordKey, str]
) -> Decision:
    try:
        prepared = prepare(operation, state, known)
    except KeyError:  # a record it refers to was never written: so neither was this one
        return "write"
    return "skip" if is_unchanged(state, prepared.hash) else "write"


async def enqueue_replay(result: ReplayResult, enqueue: Enqueue) -> str:
    """Run the deal again through the normal workflow; returns the new workflow id."""
    run = result.run
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    workflow_id = f"replay:{run.run_id}:{stamp}"
    info = trigger_info(
        TRIGGER,
        account_id=run.account_id,
        system_modstamp=result.current_modstamp,
        trigger_ref=f"run:{run.run_id}",
    )
    await enqueue(workflow_id, run.opportunity_id, info)
    return workflow_id


def _flow_name(document: dict[str, Any] | None) -> str | None:
    if not document:
        return None
    return f"{document.get('flow')} v{document.get('flow_version')}"
