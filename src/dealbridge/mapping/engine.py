"""``FlowEngine``: one deal graph in, one ``SyncPlan`` out — every operation and every problem.

How a plan is made:

1. The deal graph (``DealGraph`` or its JSON shape) becomes the scope: the views of
   ``deal_views``, ``const`` (the flow's constants) and ``__lookup__`` (the lookup tables).
   The ``before_map`` hook, when enabled, may replace the scope.
2. ``stop_when`` conditions: any that holds stops the deal — the plan holds those violations
   and no operation (an amendment must never be mapped as new business).
3. Each record, referenced records first: for every item of ``for_each`` (named ``as``) that
   passes ``when``, the external id, the source and each field — ``value`` (then its
   transforms), ``ref`` (sent as ``{"id": …}``), ``record_ref`` (a ``PendingRef`` to another
   instance of this plan: the only one, or the one whose external id ``record_ref_key``
   evaluates to), ``const`` and ``sublist`` — then the field rules and record checks.
   A null value leaves the field out (sending null would clear it in NetSuite). A dotted field
   name (``addressBookAddress.city``) sets a field of a nested object (a subrecord).
4. Duplicates merge, operations are ordered by dependency (``plan_order``), and the
   ``after_map`` hook may amend the plan.

Data problems never raise: every one becomes a violation, all of them are collected, and a plan
with an error violation still carries its (partial) operations for preview while ``plan.ok``
is False. An expression that fails on this deal's values is such a problem too (violation rule
``mapping_error``, naming the field and the expression). What raises is a broken flow:
``ConfigError``/``ExpressionError`` when the engine is built, or a ``record_ref`` that cannot
choose between several instances (a flow without ``record_ref_key``).

Speed: everything is compiled once per engine (``compiled_flow``); a plan runs no pydantic
validation on the hot path and copies no graph — only a ``DealGraph`` is dumped once to plain
data — and builds one small scope dict per record instance and sublist line
(``record_mapper``). ``bench/mapping.py`` measures it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import SourceRecord, SyncPlan, Violation
from dealbridge.errors import ConfigError
from dealbridge.mapping.compiled_flow import CompiledFlow, LoadedFlowLike
from dealbridge.mapping.deal_values import model_data, text
from dealbridge.mapping.deal_views import deal_views
from dealbridge.mapping.expressions import LOOKUP_SCOPE_KEY, ExpressionError
from dealbridge.mapping.loader import resolve_hook
from dealbridge.mapping.lookup_recorder import LookupRecorder
from dealbridge.mapping.lookups import LookupTables
from dealbridge.mapping.plan_order import merge_duplicates, ordered_operations
from dealbridge.mapping.record_mapper import MAPPING_ERROR, DealRun

Scope = dict[str, Any]
BeforeMap = Callable[[Scope], Scope]
AfterMap = Callable[[SyncPlan], SyncPlan]

__all__ = ["MAPPING_ERROR", "FlowEngine"]


class FlowEngine:
    """Maps deals with one flow; build once, call ``plan`` for every deal (thread-safe).

    Args:
        flow: The loaded flow (``loader.load_flow``).
        hooks_enabled: Import and run the flow's ``before_map``/``after_map`` hooks.

    Raises:
        ConfigError: The flow cannot be compiled, its records depend on each other in a cycle,
            or a hook cannot be imported.
    """

    def __init__(self, flow: LoadedFlowLike, *, hooks_enabled: bool = True) -> None:
        self.flow = flow
        self.compiled = CompiledFlow(flow)
        self._explicit = {record.name: record.depends_on for record in self.compiled.records}
        hooks = flow.spec.hooks
        self._before: BeforeMap | None = None
        self._after: AfterMap | None = None
        if hooks_enabled:
            self._before = _import_hook(hooks.before_map) if hooks.before_map else None
            self._after = _import_hook(hooks.after_map) if hooks.after_map else None

    def scope(self, graph: DealGraph | Mapping[str, Any]) -> Scope:
        """The names a flow's expressions see for this deal (without lookups)."""
        scope = deal_views(_graph_data(graph), self.compiled.constants)
        scope["const"] = self.compiled.constants
        return scope

    def triggered(self, graph: DealGraph | Mapping[str, Any], scope: Scope | None = None) -> bool:
        """Whether the flow's trigger condition holds for this deal (e.g. the deal is won).

        ``scope``: the deal's ``scope(graph)`` when the caller has it already (the engine asks
        and then plans each deal: building the scope once saves a copy of the whole deal).
        """
        scope = scope if scope is not None else self.scope(graph)
        try:
            return bool(self.compiled.trigger.evaluate(scope))
        except ExpressionError:
            return False

    def plan(
        self,
        graph: DealGraph | Mapping[str, Any],
        lookups: LookupTables,
        scope: Scope | None = None,
    ) -> SyncPlan:
        """The plan of one deal: ordered operations and every violation found.

        ``scope``: as for ``triggered``; the plan adds its lookups to it.
        """
        recorder = LookupRecorder(lookups.resolve)
        scope = scope if scope is not None else self.scope(graph)
        scope[LOOKUP_SCOPE_KEY] = recorder
        if self._before is not None:
            scope = self._before(scope)
        spec = self.compiled.spec
        opportunity = scope.get("opportunity")
        opportunity_id = text(opportunity.get("Id")) if isinstance(opportunity, Mapping) else None
        plan = SyncPlan(spec.flow, spec.version, opportunity_id or "")
        run = DealRun(recorder, self._explicit)
        if not self._stopped(scope, SourceRecord("Opportunity", plan.opportunity_id), run):
            for record in self.compiled.records:
                run.record(record, scope)
            run.add_explicit_dependencies()
            alias = merge_duplicates(run.drafts, run.violations)
            plan.operations = ordered_operations(run.drafts, alias)
        plan.violations = run.violations
        return self._after(plan) if self._after is not None else plan

    def _stopped(self, scope: Scope, source: SourceRecord, run: DealRun) -> bool:
        """Evaluate every stop condition; each that holds is a violation."""
        stopped = False
        for stop in self.compiled.stops:
            try:
                if not stop.when.evaluate(scope):
                    continue
                message = stop.message.render(scope)
            except ExpressionError as error:
                message = f"The stop condition could not be checked: {error.message}"
            run.violations.append(Violation(source, "deal", stop.field, stop.rule, message))
            stopped = True
        return stopped


def _graph_data(graph: DealGraph | Mapping[str, Any]) -> Mapping[str, Any]:
    """The deal as JSON-like data (API field names), whatever form it came in."""
    return model_data(graph) if isinstance(graph, DealGraph) else graph


def _import_hook(target: str) -> Callable[..., Any]:
    try:
        return resolve_hook(target)
    except ValueError as error:
        raise ConfigError(f"hook {target!r}: {error}") from None
