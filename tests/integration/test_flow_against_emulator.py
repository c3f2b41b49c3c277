"""The shipped flow's plans, written by the real ``NetSuiteClient`` into a started emulator.

Proves the mapping produces payloads NetSuite (as emulated) accepts: lookups are read by SuiteQL
from the emulator, every operation of three sound deals is upserted in plan order with its
``PendingRef``s resolved to the internal ids just written, the subscriptions carry the quote's
quantities and discounts, and planning and writing the same deals again creates nothing new.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import RecordKey, SyncPlan
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import TableCache, load_lookups
from tests.support.flows import GOLDEN_DIR, shipped_flow
from tests.support.netsuite import EmulatorControl, Info, netsuite_settings, running_emulator

pytestmark = pytest.mark.anyio

SOUND_DEALS = ("03_nested_bundle", "05_currency_gbp", "09_one_time_and_recurring")
WRITTEN_TYPES = (
    "customer",
    "contact",
    "billingAccount",
    "pricePlan",
    "subscriptionPlan",
    "priceBook",
    "subscription",
    "customrecord_cpq_package",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    with running_emulator(tmp_path_factory.mktemp("netsuite")) as info:
        yield info


@pytest.fixture(scope="module")
def control(emulator: Info) -> Iterator[EmulatorControl]:
    with EmulatorControl(emulator) as hooks:
        hooks.fresh()
        yield hooks


@pytest.fixture(scope="module")
def engine() -> FlowEngine:
    return FlowEngine(shipped_flow())


def golden_deal(name: str) -> DealGraph:
    text = (GOLDEN_DIR / "deals" / f"{name}.json").read_text(encoding="utf-8")
    return DealGraph.model_validate(json.loads(text))


async def write_plan(client: NetSuiteClient, plan: SyncPlan) -> dict[RecordKey, str]:
    """Upsert every operation in order; returns the internal id of each record."""
    written: dict[RecordKey, str] = {}
    for operation in plan.operations:
        body = operation.resolved_payload(written)
        written[operation.key] = await client.upsert(
            operation.key.record_type, operation.key.external_id, body, replace=operation.replace
        )
    return written


async def plan_and_write(
    engine: FlowEngine, emulator: Info
) -> tuple[dict[str, SyncPlan], dict[RecordKey, str]]:
    settings = netsuite_settings(emulator)
    async with NetSuiteClient(settings, on_call=lambda _record: None) as client:
        lookups = await load_lookups(engine.flow, client, cache=TableCache())
        plans = {name: engine.plan(golden_deal(name), lookups) for name in SOUND_DEALS}
        written: dict[RecordKey, str] = {}
        for plan in plans.values():
            assert plan.ok, [v.message for v in plan.errors]
            written.update(await write_plan(client, plan))
    return plans, written


def counts(control: EmulatorControl) -> dict[str, int]:
    return {record_type: len(control.records(record_type)) for record_type in WRITTEN_TYPES}


def intervals_of(plan: SyncPlan) -> dict[str, dict[int, dict[str, Any]]]:
    """Planned price intervals by subscription external id and line number."""
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for operation in plan.operations:
        if operation.key.record_type == "subscription":
            items = operation.payload["priceInterval"]["items"]
            found[operation.key.external_id] = {i["subscriptionPlanLineNumber"]: i for i in items}
    return found


async def test_sound_deals_are_written_and_rewriting_creates_nothing_new(
    engine: FlowEngine, emulator: Info, control: EmulatorControl
) -> None:
    _plans, first_ids = await plan_and_write(engine, emulator)
    first_counts = counts(control)
    assert all(first_counts[record_type] > 0 for record_type in WRITTEN_TYPES)

    _, second_ids = await plan_and_write(engine, emulator)

    assert second_ids == first_ids
    assert counts(control) == first_counts


async def test_subscriptions_carry_the_quote_quantities_and_discounts(
    engine: FlowEngine, emulator: Info, control: EmulatorControl
) -> None:
    plans, written = await plan_and_write(engine, emulator)
    stored = {record["externalId"]: record for record in control.records("subscription")}
    for plan in plans.values():
        for external_id, planned in intervals_of(plan).items():
            subscription = stored[external_id]
            assert subscription["id"] == written[RecordKey("subscription", external_id)]
            actual = {i["subscriptionPlanLineNumber"]: i for i in subscription["priceInterval"]}
            assert actual.keys() == planned.keys()
            for number, interval in planned.items():
                assert actual[number]["quantity"] == interval["quantity"]
                assert actual[number]["discount"] == interval["discount"]
            lines = {line["lineNumber"]: line for line in subscription["subscriptionLine"]}
            assert set(lines) == set(planned)
            assert all(line["isIncluded"] for line in lines.values())


async def test_one_time_lines_are_one_time_add_on_lines(
    engine: FlowEngine, emulator: Info, control: EmulatorControl
) -> None:
    await plan_and_write(engine, emulator)
    stored = {record["externalId"]: record for record in control.records("subscription")}
    subscription = stored["SFSUB-a0v000000009001AAA"]  # the PLAT-STD deal with two services
    one_time = [ln for ln in subscription["subscriptionLine"] if ln["subscriptionLineType"] == "1"]
    assert [line["lineNumber"] for line in one_time] == [2, 3]
    frequencies = {
        i["subscriptionPlanLineNumber"]: i["frequency"] for i in subscription["priceInterval"]
    }
    assert frequencies == {1: "MONTHLY", 2: "ONETIME", 3: "ONETIME"}
