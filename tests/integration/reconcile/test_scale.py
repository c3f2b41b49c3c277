"""Reconciling 5,000 deals costs at most one NetSuite call per 500 records checked.

Done means (issue 7), counted by the NetSuite emulator itself (its request statistics) and by
the report. To fit CI time, both systems are seeded directly (``bulk_org``): 5,000 won deals
cloned into the Salesforce emulator, and the records a faithful sync of them writes loaded into
the NetSuite emulator through its control API (the engine itself is exercised by
``test_findings``). The deals are single-package ones: every SuiteQL page costs the emulator a
scan of its whole table, and multi-package deals would double the subscription table without
changing what is measured.

"Records checked" is every NetSuite record compared: ours (read by external id prefix) and the
subscriptions' price intervals (each a ``subscriptionpriceinterval`` record with its own id,
valued by the money check). The report counts them apart; on our records alone the ratio is
asserted too, at one call per 450 — the price intervals cost as many pages as they hold
thousands of rows, which on their own would round the ratio just under 500.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import load_flow
from dealbridge.mapping.lookups import LookupTables, TableCache, load_lookups
from dealbridge.settings import Settings
from dealbridge.sync.runtime import DEFAULT_FLOW
from tests.integration.reconcile import bulk_org
from tests.integration.reconcile.support import reconcile_with
from tests.integration.sync.harness import Emulators, run, settings_for
from tests.support.netsuite import shared_ssl_context

DEALS = 5000
RECORDS_PER_CALL = 500
OUR_RECORDS_PER_CALL = 450
PATIENT = 600.0  # seconds: a page of a 5,000-deal table is slow on a busy emulator


@pytest.mark.slow
def test_reconciling_5000_deals_costs_one_netsuite_call_per_500_records(
    emulators: Emulators, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = _patient(settings_for(emulators, tmp_path_factory.mktemp("scale") / "data"))
    engine = FlowEngine(load_flow(DEFAULT_FLOW))
    _seed(emulators, settings, engine)
    emulators.netsuite_control.reset_stats()

    report = reconcile_with(settings, engine).report

    stats = emulators.netsuite_control.stats()
    calls = stats["total_requests"]  # API requests; token requests are counted apart
    checked = report.checked["records"] + report.checked["price_intervals"]
    assert report.items == []
    assert report.checked["deals"] == DEALS
    assert report.calls["netsuite"] == calls
    assert calls * RECORDS_PER_CALL <= checked, (calls, report.checked)
    assert calls * OUR_RECORDS_PER_CALL <= report.checked["records"], (calls, report.checked)
    assert report.calls["salesforce"] <= 2 * DEALS // 200 + 3  # listing pages + 2 per 200


def _patient(settings: Settings) -> Settings:
    netsuite = settings.netsuite.model_copy(update={"timeout_seconds": PATIENT})
    salesforce = settings.salesforce.model_copy(update={"timeout_seconds": PATIENT})
    return settings.model_copy(update={"netsuite": netsuite, "salesforce": salesforce})


def _seed(emulators: Emulators, settings: Settings, engine: FlowEngine) -> None:
    """Both emulators seeded; Salesforce loads in a thread while this process plans the deals.

    The Salesforce emulator's load and the planning here run in different processes, so on two
    cores they overlap rather than queue.
    """
    emulators.netsuite_control.reset()
    emulators.sf_control("POST", "/reset")
    rows = bulk_org.cloned_org(bulk_org.won_template(3, 4000, single_package=True), DEALS)

    async def lookups() -> LookupTables:
        async with NetSuiteClient(settings.netsuite) as netsuite:
            return await load_lookups(engine.flow, netsuite, cache=TableCache())

    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(bulk_org.load_salesforce, emulators.salesforce["control_url"], rows)
        plans = bulk_org.plan_all(engine, run(lookups()), bulk_org.graphs_of(rows))
        records = bulk_org.netsuite_seed(plans)
        loading.result()
    bulk_org.load_netsuite(emulators.netsuite["control_url"], records, shared_ssl_context())
