"""Properties of mapping with the shipped flow, on deal graphs hypothesis makes up.

1. Whatever the graph — random lines, ``RequiredBy`` trees with loops and dangling parents,
   nulls and random text anywhere, records of the wrong type — ``plan`` returns a plan: data
   problems are violations, never an exception, and the plan's order is always valid.
2. A sound deal (catalogue products, valid bundle trees, positive quantities, discounts within
   0 to 100 %) always maps without an error, one subscription per package.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.core.records import SyncPlan, Violation
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import LookupTables
from tests.support.cpq_deals import CATALOGUE, deal, line, sfid
from tests.support.flows import golden_lookups, shipped_flow

ENGINE = FlowEngine(shipped_flow())
LOOKUPS: LookupTables = golden_lookups(ENGINE.flow)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LINE_IDS = [sfid("a0v", n) for n in range(1, 9)]
SOUND_CODES = sorted(code for code, spec in CATALOGUE.items()
                     if spec[1] != "Usage" and code != "LEGACY-ADDON")  # fmt: skip

texts = st.none() | st.text(max_size=30)
numbers = (
    st.none()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | st.booleans()
)
dates = st.none() | st.sampled_from(["2026-01-01", "2026-12-31", "2025-02-30", "soon"]) | texts
charges = st.sampled_from(["Recurring", "One-Time", "Usage", "one time", None]) | texts
frequencies = st.sampled_from(["Monthly", "Quarterly", "Annual", "Semiannual", "Invoice Plan"])
codes = st.sampled_from([*CATALOGUE, "LEGACY-ADDON"]) | texts
anything = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)


def mostly(
    value: st.SearchStrategy[Any], other: st.SearchStrategy[Any], odds: int = 4
) -> st.SearchStrategy[Any]:
    """``value`` about ``odds`` times for each ``other``: most deals must get past the stops.

    The odd one out is a middle number: hypothesis favours the ends of a range.
    """
    return st.integers(0, odds).flatmap(lambda n: other if n == odds // 2 else value)


def record_or_junk(record: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return mostly(record, anything, odds=12)


products = record_or_junk(
    st.fixed_dictionaries({
        "Id": texts,
        "Name": texts,
        "ProductCode": codes,
        "SBQQ__ChargeType__c": mostly(st.just("Recurring"), charges),
        "SBQQ__BillingFrequency__c": mostly(frequencies, st.none() | texts),
        "SBQQ__SubscriptionType__c": texts,
    })
)  # fmt: skip
line_fields = st.fixed_dictionaries({
    "SBQQ__Number__c": mostly(st.integers(1, 40), numbers),
    "SBQQ__Product__c": texts,
    "SBQQ__Product__r": products,
    "SBQQ__ProductCode__c": codes,
    "SBQQ__Quantity__c": mostly(st.floats(0, 1000), numbers),
    "SBQQ__ListPrice__c": mostly(st.floats(-10, 10**6), numbers),
    "SBQQ__NetTotal__c": numbers,
    "SBQQ__Discount__c": mostly(st.floats(-5, 105), numbers),
    "SBQQ__ChargeType__c": mostly(st.sampled_from(["Recurring", "One-Time"]), charges),
    "SBQQ__BillingType__c": st.none() | st.sampled_from(["Advance", "Arrears"]),
    "SBQQ__BillingFrequency__c": mostly(frequencies, st.none() | texts),
    "SBQQ__SubscriptionTerm__c": mostly(st.sampled_from([12, 24, 36, 18]), numbers),
    "SBQQ__StartDate__c": dates,
    "SBQQ__EndDate__c": dates,
})  # fmt: skip


@st.composite
def line_lists(draw: st.DrawFn) -> list[Any]:
    """Lines in trees (parents are earlier lines), sometimes with loops or missing parents.

    Ids are mostly unique, sometimes repeated or junk.
    """
    rows: list[Any] = []
    for number in range(1, draw(mostly(st.integers(1, 10), st.just(0), odds=12)) + 1):
        row = dict(draw(line_fields))
        row["Id"] = draw(
            mostly(st.just(sfid("a0v", number)), st.sampled_from(LINE_IDS) | texts, odds=12)
        )
        earlier = st.sampled_from(LINE_IDS[: number - 1]) if number > 1 else st.none()
        row["SBQQ__RequiredBy__c"] = draw(
            mostly(st.none() | earlier, st.sampled_from(LINE_IDS) | texts, odds=12)
        )
        rows.append(draw(mostly(st.just(row), anything, odds=12)))
    return rows


contacts = st.fixed_dictionaries({
    "Id": texts, "FirstName": texts, "LastName": texts, "Email": texts, "Phone": texts,
})  # fmt: skip
roles = st.fixed_dictionaries({
    "ContactId": texts, "Role": texts, "IsPrimary": st.none() | st.booleans(),
    "Contact": record_or_junk(contacts),
})  # fmt: skip
graphs = st.fixed_dictionaries({
    "opportunity": record_or_junk(st.fixed_dictionaries({
        "Id": texts,
        "IsWon": st.booleans(),
        "CurrencyIsoCode": st.none() | st.sampled_from(["USD", "GBP", "XXX"]) | texts,
        "SBQQ__AmendedContract__c": mostly(st.none(), texts, odds=12),
        "SBQQ__RenewedContract__c": st.none(),
        "SBQQ__Renewal__c": mostly(st.just(False), st.none() | st.booleans()),
    })),
    "account": record_or_junk(st.fixed_dictionaries({
        "Id": mostly(st.just(sfid("001", 1)), texts, odds=12),
        "Name": texts,
        "BillingCountry": st.none() | st.sampled_from(["United States", "Germany", "Mars"]),
        "BillingStreet": texts,
        "ShippingCity": texts,
        "Phone": texts,
        "Website": texts,
        "CurrencyIsoCode": texts,
    })),
    "contact_roles": record_or_junk(st.lists(record_or_junk(roles), max_size=3)),
    "quote": record_or_junk(st.fixed_dictionaries({
        "Id": texts,
        "Name": texts,
        "SBQQ__StartDate__c": dates,
        "SBQQ__EndDate__c": dates,
        "SBQQ__SubscriptionTerm__c": numbers,
        "CurrencyIsoCode": texts,
        "SBQQ__PrimaryContact__c": texts,
        "SBQQ__PrimaryContact__r": st.none() | contacts,
    })),
    "lines": mostly(line_lists(), anything, odds=12),
})  # fmt: skip


def assert_well_formed(plan: SyncPlan) -> None:
    assert isinstance(plan, SyncPlan)
    assert all(isinstance(v, Violation) for v in plan.violations)
    assert all(v.severity in ("error", "warning") for v in plan.violations)
    waves = plan.waves()
    assert sum(len(wave) for wave in waves) == len(plan.operations)
    written: set[Any] = set()
    for operation in plan.operations:
        assert set(operation.depends_on) <= written
        written.add(operation.key)
    json.dumps(plan.to_json(), allow_nan=True)


@SETTINGS
@given(graphs)
def test_any_graph_maps_to_a_plan_with_a_valid_order(graph: dict[str, Any]) -> None:
    assert_well_formed(ENGINE.plan(graph, LOOKUPS))


@st.composite
def sound_deals(draw: st.DrawFn) -> dict[str, Any]:
    """Valid bundle trees of catalogue products; the first line is recurring."""
    count = draw(st.integers(1, 12))
    rows: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        recurring_codes = [c for c in SOUND_CODES if CATALOGUE[c][1] == "Recurring"]
        code = draw(st.sampled_from(recurring_codes if number == 1 else SOUND_CODES))
        parent = draw(st.none() | st.sampled_from(rows)) if rows else None
        rows.append(
            line(
                number,
                code,
                parent=parent,
                quantity=float(draw(st.integers(1, 500))),
                discount=float(draw(st.integers(0, 100))),
                bundled=parent is not None and draw(st.booleans()),
            )
        )
    order = draw(st.permutations(rows))
    return deal(list(order))


@SETTINGS
@given(sound_deals())
def test_a_sound_deal_maps_without_errors(graph: dict[str, Any]) -> None:
    plan = ENGINE.plan(DealGraph.model_validate(graph), LOOKUPS)
    assert_well_formed(plan)
    assert plan.ok, [v.message for v in plan.errors]
    packages = ENGINE.scope(graph)["packages"]
    subscriptions = [op for op in plan.operations if op.key.record_type == "subscription"]
    assert len(subscriptions) == len(packages) >= 1


@pytest.mark.parametrize("junk", [None, 3, "deal", [], {"lines": "many"}])
def test_a_graph_that_is_not_a_deal_at_all_is_stopped_not_raised(junk: Any) -> None:
    graph = junk if isinstance(junk, dict) else {"opportunity": junk, "lines": junk}
    plan = ENGINE.plan(graph, LOOKUPS)
    assert plan.operations == []
    assert not plan.ok
