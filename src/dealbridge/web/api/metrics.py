"""``GET /metrics``: Prometheus text, computed from the ledger and DBOS at each scrape.

Who may read it: any API token of role viewer or above, sent as ``Authorization: Bearer dbt_…``
(``dealbridge tokens create prometheus --role viewer``; in Prometheus,
``authorization: {type: Bearer, credentials_file: …}``). A request without a bearer token gets
401, never the figures: they reveal deal volumes and error rates. A console session does not
count here, so a browser tab cannot become a scraper by accident.

Why a custom collector instead of counters incremented in code: deals run in worker processes
and may be answered by any web node, so in-process counters would each see a fraction. The
ledger sees every run, so every node answers the same figures; no multiprocess directory is
needed. Each app has its own ``CollectorRegistry`` (the global one would mix two apps of one
process, such as tests or a demo beside a server).

The families:

- ``dealbridge_deals_total{status}``: finished runs by outcome (synced, unchanged, invalid, failed);
- ``dealbridge_deal_latency_seconds``: trigger → done of runs that synced or were unchanged,
  bucketed from the runs' stored latencies;
- ``dealbridge_api_calls_total{system,status}``: calls to Salesforce and NetSuite by HTTP status
  (``none``: no answer);
- ``dealbridge_queue_depth{state}``: deals ``enqueued`` (waiting) and ``pending`` (running) on the
  ``deals`` queue, with ``dealbridge_queue_readable`` 0 when DBOS could not be asked;
- ``dealbridge_open_errors{class,state}``: errors not yet resolved, by failure class.

Counters come from tables that pruning may shorten; Prometheus treats a drop as a reset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dealbridge.db.api_calls import NO_RESPONSE
from dealbridge.db.models import ACTIVE_ERROR_STATES, FINISHED_STATUSES, ApiCall, Run, SyncError
from dealbridge.db.runs import SUCCESS_STATUSES
from dealbridge.db.session import session_scope
from dealbridge.errors import FAILURE_TYPES
from dealbridge.web.api.failures import BearerRequiredError, ProblemRoute
from dealbridge.web.api.queue import QueueDepth, queue_depth
from dealbridge.web.context import WebContext, ledger_session, web_context
from dealbridge.web.security.roles import Principal, require_role

METRICS_PATH = "/metrics"
# Upper bounds (seconds) of the latency buckets: a deal takes seconds, minutes in an outage.
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
_STATE_KEY = "dealbridge_metrics_registry"


@dataclass
class LedgerFigures:
    """What one scrape reads from the ledger."""

    deals: dict[str, int] = field(default_factory=dict)
    latency_buckets: list[int] = field(default_factory=list)
    latency_count: int = 0
    latency_sum_ms: float = 0.0
    api_calls: dict[tuple[str, str], int] = field(default_factory=dict)
    open_errors: dict[tuple[str, str], int] = field(default_factory=dict)


def read_figures(session: Session) -> LedgerFigures:
    """Every ledger figure of a scrape, in four grouped queries."""
    figures = LedgerFigures()
    by_status = select(Run.status, func.count()).where(Run.status.in_(FINISHED_STATUSES))
    figures.deals = {
        status: int(count) for status, count in session.execute(by_status.group_by(Run.status))
    }
    _read_latency(session, figures)
    calls = select(ApiCall.system, ApiCall.status, func.count()).group_by(
        ApiCall.system, ApiCall.status
    )
    for system, status, count in session.execute(calls):
        key = (system, NO_RESPONSE if status is None else str(status))
        figures.api_calls[key] = figures.api_calls.get(key, 0) + int(count)
    errors = (
        select(SyncError.failure_type, SyncError.state, func.count())
        .where(SyncError.state.in_(ACTIVE_ERROR_STATES))
        .group_by(SyncError.failure_type, SyncError.state)
    )
    figures.open_errors = {
        (kind, state): int(count) for kind, state, count in session.execute(errors)
    }
    return figures


def _read_latency(session: Session, figures: LedgerFigures) -> None:
    """Cumulative bucket counts, count and sum of successful runs' latencies, in one query."""
    latency = Run.latency_ms
    columns = [func.sum(case((latency <= bound * 1000, 1), else_=0)) for bound in LATENCY_BUCKETS]
    query = select(func.count(), func.sum(latency), *columns).where(
        Run.status.in_(SUCCESS_STATUSES), latency.is_not(None)
    )
    row = session.execute(query).one()
    figures.latency_count = int(row[0] or 0)
    figures.latency_sum_ms = float(row[1] or 0)
    figures.latency_buckets = [int(value or 0) for value in row[2:]]


def metric_families(figures: LedgerFigures, depth: QueueDepth | None) -> Iterator[Metric]:
    """The Prometheus families of one scrape (see the module docstring)."""
    deals = CounterMetricFamily(
        "dealbridge_deals", "Deal runs finished, by outcome", labels=["status"]
    )
    for status in FINISHED_STATUSES:
        deals.add_metric([status], figures.deals.get(status, 0))
    yield deals

    buckets = [
        (f"{bound:g}", count)
        for bound, count in zip(LATENCY_BUCKETS, figures.latency_buckets, strict=True)
    ]
    yield HistogramMetricFamily(
        "dealbridge_deal_latency_seconds",
        "Trigger to done latency of deals that synced or were unchanged",
        buckets=[*buckets, ("+Inf", figures.latency_count)],
        sum_value=figures.latency_sum_ms / 1000.0,
    )

    calls = CounterMetricFamily(
        "dealbridge_api_calls",
        "Calls to Salesforce and NetSuite by HTTP status (none: no answer)",
        labels=["system", "status"],
    )
    for (system, status), count in sorted(figures.api_calls.items()):
        calls.add_metric([system, status], count)
    yield calls

    yield GaugeMetricFamily(
        "dealbridge_queue_readable", "1 when DBOS answered the queue depth", value=depth is not None
    )
    if depth is not None:
        queue = GaugeMetricFamily(
            "dealbridge_queue_depth", "Deals on the deals queue", labels=["state"]
        )
        queue.add_metric(["enqueued"], depth.enqueued)
        queue.add_metric(["pending"], depth.pending)
        yield queue

    errors = GaugeMetricFamily(
        "dealbridge_open_errors", "Errors not yet resolved, by class", labels=["class", "state"]
    )
    for kind in FAILURE_TYPES:
        for state in ACTIVE_ERROR_STATES:
            errors.add_metric([kind, state], figures.open_errors.get((kind, state), 0))
    yield errors


class LedgerCollector(Collector):
    """Reads the figures at each scrape.

    Args:
        context: The app's shared services (its ledger, its runtime or DBOS client settings).
    """

    def __init__(self, context: WebContext) -> None:
        self.context = context

    def describe(self) -> Iterable[Metric]:
        """Nothing: registering must not query the ledger."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Query the ledger, then DBOS, and build the families."""
        with session_scope(self.context.ledger) as session:
            figures = read_figures(session)
        return list(metric_families(figures, queue_depth(self.context)))


def registry_for(app: FastAPI, context: WebContext) -> CollectorRegistry:
    """The app's own registry, made on first use."""
    registry = getattr(app.state, _STATE_KEY, None)
    if isinstance(registry, CollectorRegistry):
        return registry
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(context))
    setattr(app.state, _STATE_KEY, registry)
    return registry


def bearer_only(request: Request) -> None:
    """Refuse a request without ``Authorization`` with a 401 (not a redirect to the login)."""
    if "authorization" not in request.headers:
        raise BearerRequiredError("a bearer API token (role viewer or above) is required")


router = APIRouter(route_class=ProblemRoute, include_in_schema=False)


@router.get(METRICS_PATH, dependencies=[Depends(bearer_only)])
def metrics(
    request: Request,
    session: Annotated[Session, Depends(ledger_session)],
    _reader: Annotated[Principal, Depends(require_role("viewer"))],
) -> Response:
    """The figures in Prometheus text format (viewer token)."""
    session.commit()  # end the guard's transaction: the collector reads in its own
    registry = registry_for(request.app, web_context(request))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
