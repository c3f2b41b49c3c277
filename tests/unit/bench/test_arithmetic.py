"""The benchmarks' formulas: ideal throughput, critical path, minimum calls, scaling efficiency."""

from __future__ import annotations

import math
from typing import Any

import pytest
from bench.economy import classify, minimum_netsuite_writes
from bench.latency import (
    Chain,
    critical_chain,
    expected_longest_chain,
    expected_slowest,
    latency_split,
    longest_chain,
    plan_dependencies,
    record_key,
)
from bench.scaling import efficiency
from bench.throughput import ideal_deals_per_second, steady_rate

NS = "/services/rest"
SF = "/services/data/v65.0"


def operation(record_type: str, external_id: str, *depends: str, **payload: Any) -> dict[str, Any]:
    return {
        "name": record_type,
        "type": record_type,
        "external_id": external_id,
        "depends_on": list(depends),
        "replace": [],
        "payload": payload or {"name": external_id},
        "source": None,
    }


def plan(*operations: dict[str, Any]) -> dict[str, Any]:
    return {
        "flow": "cpq_closed_won",
        "flow_version": 1,
        "opportunity": "006000000000001AAA",
        "violations": [],
        "operations": list(operations),
    }


CUSTOMER = operation("customer", "SFACC-1")
CONTACT = operation("contact", "SFCON-1", "customer/SFACC-1")
PLAN = operation("subscriptionPlan", "SFPLAN-1")
SUBSCRIPTION = operation("subscription", "SFSUB-1", "customer/SFACC-1", "subscriptionPlan/SFPLAN-1")


# -- throughput ------------------------------------------------------------------------------


def test_ideal_is_limit_over_calls_times_latency() -> None:
    # 15 slots, 25 calls of 0.2 s per deal: each deal holds 5 slot-seconds, so 3 deals/s.
    assert ideal_deals_per_second(15, 25, 200) == pytest.approx(3.0)
    assert ideal_deals_per_second(45, 25, 200) == pytest.approx(9.0)


def test_ideal_without_latency_or_calls_has_no_ceiling() -> None:
    assert math.isinf(ideal_deals_per_second(15, 25, 0))
    assert math.isinf(ideal_deals_per_second(15, 0, 200))


def test_steady_rate_ignores_the_ramps() -> None:
    # a slow start and a long tail around a steady 2 deals/s
    offsets = [10.0, 10.5] + [11 + i / 2 for i in range(16)] + [40.0, 60.0]
    rate = steady_rate(offsets)
    assert rate == pytest.approx(2.0)


def test_steady_rate_needs_enough_deals() -> None:
    assert steady_rate([1.0, 2.0, 3.0]) is None


# -- latency ---------------------------------------------------------------------------------


def test_record_key_of_an_upsert_by_external_id() -> None:
    path = f"{NS}/record/v1/pricePlan/eid:SFPP-01t0-GBP-4740000?replace=priceTiers"
    assert record_key("PUT", path) == "pricePlan/SFPP-01t0-GBP-4740000"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{NS}/record/v1/customer/eid:SFACC-1"),
        ("PUT", f"{NS}/record/v1/customer/42"),
        ("POST", f"{NS}/query/v1/suiteql?limit=1000&offset=0"),
    ],
)
def test_record_key_is_none_for_anything_else(method: str, path: str) -> None:
    assert record_key(method, path) is None


def test_dependencies_come_from_the_plan_dependencies_first() -> None:
    dependencies = plan_dependencies(plan(SUBSCRIPTION, CONTACT, CUSTOMER, PLAN))
    assert dependencies == {
        "customer/SFACC-1": (),
        "subscriptionPlan/SFPLAN-1": (),
        "contact/SFCON-1": ("customer/SFACC-1",),
        "subscription/SFSUB-1": ("customer/SFACC-1", "subscriptionPlan/SFPLAN-1"),
    }
    assert plan_dependencies(None) == {}


CHAIN_OF_FOUR: dict[str, tuple[str, ...]] = {
    "customer/SFACC-1": (),
    "subscriptionPlan/SFPLAN-1": (),
    "contact/SFCON-1": ("customer/SFACC-1",),
    "priceBook/SFPB-1": ("subscriptionPlan/SFPLAN-1",),
    "subscription/SFSUB-1": ("customer/SFACC-1", "priceBook/SFPB-1"),
    "customrecord_cpq_package/SFPKG-1": ("subscription/SFSUB-1",),
}


def test_critical_chain_counts_salesforce_calls_one_lookup_round_and_chained_writes() -> None:
    calls = [
        ("salesforce", "POST", "/services/oauth2/token"),  # auth: not on the chain
        ("salesforce", "GET", f"{SF}/query?q=opportunity"),
        ("salesforce", "GET", f"{SF}/query?q=lines"),
        ("netsuite", "POST", f"{NS}/auth/oauth2/v1/token"),
        ("netsuite", "POST", f"{NS}/query/v1/suiteql?limit=1000&offset=0"),
        ("netsuite", "POST", f"{NS}/query/v1/suiteql?limit=1000&offset=0"),
        ("netsuite", "PUT", f"{NS}/record/v1/customer/eid:SFACC-1"),
        ("netsuite", "PUT", f"{NS}/record/v1/subscription/eid:SFSUB-1"),
        ("netsuite", "PUT", f"{NS}/record/v1/contact/eid:SFCON-1"),
        ("salesforce", "POST", f"{SF}/composite"),
    ]
    chain = critical_chain(CHAIN_OF_FOUR, calls)
    written = frozenset({"customer/SFACC-1", "subscription/SFSUB-1", "contact/SFCON-1"})
    assert chain == Chain(salesforce_calls=3, lookup_calls=2, chained_writes=2, written=written)
    # 3 x 100 ms on Salesforce + (1 lookup round + customer → subscription) x 200 ms on NetSuite
    assert chain.milliseconds(100, 200) == pytest.approx(900)


def test_an_unchanged_record_costs_no_call_but_passes_on_what_it_waited_for() -> None:
    # plan → (book unchanged) → subscription → package: three calls in a row
    cost = {"subscriptionPlan/SFPLAN-1": 1.0, "subscription/SFSUB-1": 1.0}
    cost["customrecord_cpq_package/SFPKG-1"] = 1.0
    assert longest_chain(CHAIN_OF_FOUR, cost) == 3
    assert longest_chain(CHAIN_OF_FOUR, {}) == 0
    assert critical_chain(CHAIN_OF_FOUR, []) == Chain(0, 0, 0)


def test_a_round_waits_for_its_slowest_call() -> None:
    # one call: the mean; many calls: close to the top of the jitter band
    assert expected_slowest(1, 200, 0.2) == pytest.approx(200)
    assert expected_slowest(9, 200, 0.2) == pytest.approx(160 + 80 * 0.9)
    assert expected_slowest(5, 200, 0) == pytest.approx(200)


def test_a_single_chain_of_calls_averages_its_jitter_out() -> None:
    written = frozenset({"subscriptionPlan/SFPLAN-1", "priceBook/SFPB-1"})
    assert expected_longest_chain(CHAIN_OF_FOUR, written, 200, 0.2) == pytest.approx(400, rel=0.01)
    assert expected_longest_chain(CHAIN_OF_FOUR, written, 200, 0) == pytest.approx(400)


def test_parallel_chains_last_as_long_as_the_longest_on_average() -> None:
    # customer → contact beside plan → book: the longer of two sums of two draws from 160 to 240 ms
    # (each 400 ms on average, standard deviation 32.7 ms) is 400 + 32.7 / √π ≈ 418 ms on average
    written = frozenset(
        {"customer/SFACC-1", "contact/SFCON-1", "subscriptionPlan/SFPLAN-1", "priceBook/SFPB-1"}
    )
    expected = expected_longest_chain(CHAIN_OF_FOUR, written, 200, 0.2)
    assert expected == pytest.approx(418.4, abs=3)


def test_jitter_aware_path_adds_salesforce_the_lookup_round_and_the_write_chain() -> None:
    chain = Chain(salesforce_calls=3, lookup_calls=9, chained_writes=0)
    assert chain.expected_milliseconds(CHAIN_OF_FOUR, 100, 200, 0.2) == pytest.approx(300 + 232)


# -- economy ---------------------------------------------------------------------------------


def test_classify_tells_writes_from_lookups_and_tokens() -> None:
    counts = classify(
        [
            ("salesforce", "GET", f"{SF}/query?q=x"),
            ("salesforce", "POST", f"{SF}/composite"),
            ("salesforce", "POST", "/services/oauth2/token"),
            ("netsuite", "POST", f"{NS}/query/v1/suiteql"),
            ("netsuite", "PUT", f"{NS}/record/v1/customer/eid:SFACC-1"),
            ("netsuite", "GET", f"{NS}/record/v1/customer/42"),
            ("netsuite", "POST", f"{NS}/auth/oauth2/v1/token"),
        ]
    )
    assert counts == {
        "salesforce_reads": 1,
        "salesforce_writes": 1,
        "salesforce_auth": 1,
        "netsuite_lookups": 1,
        "netsuite_writes": 1,
        "netsuite_other": 1,
        "netsuite_auth": 1,
    }


def test_minimum_writes_count_a_shared_record_once() -> None:
    first = plan(CUSTOMER, PLAN)
    second = plan(operation("customer", "SFACC-2"), PLAN)  # the same plan record
    assert minimum_netsuite_writes([first, second, None]) == 3


def test_minimum_writes_count_each_version_of_a_record() -> None:
    changed = operation("customer", "SFACC-1", companyName="Renamed Ltd")
    assert minimum_netsuite_writes([plan(CUSTOMER), plan(changed)]) == 2


def test_minimum_writes_ignore_create_only_fields() -> None:
    first = operation("customer", "SFACC-1", companyName="Acme", email="a@acme.example")
    second = operation("customer", "SFACC-1", companyName="Acme", email="b@acme.example")
    first["create_only"] = second["create_only"] = ["email"]
    assert minimum_netsuite_writes([plan(first), plan(second)]) == 1  # only the create sends it


# -- scaling ---------------------------------------------------------------------------------


def test_efficiency_is_one_when_throughput_follows_the_limit() -> None:
    assert efficiency([(5, 1.0), (15, 3.0), (45, 9.0)]) == pytest.approx(1.0)


def test_efficiency_shows_a_plateau() -> None:
    assert efficiency([(5, 1.0), (15, 2.0), (45, 2.0)]) == pytest.approx(2 / 9)


def test_efficiency_without_a_rate_is_undefined() -> None:
    assert math.isnan(efficiency([(5, 0.0), (45, 2.0)]))


def test_latency_split_adds_up_to_end_to_end() -> None:
    # closed at 100.000 s, received 3 ms later, first step 30 ms after that, finished at 101.5 s
    split = latency_split(100.0, 100.003, 100.033, 101.5, steps_ms=1450.0)
    assert split == {
        "end_to_end_ms": 1500.0,
        "delivery_ms": 3.0,
        "queue_ms": 30.0,
        "steps_ms": 1450.0,
        "checkpoints_ms": 17.0,
    }


def test_without_a_first_step_time_the_queue_stays_in_the_rest() -> None:
    split = latency_split(100.0, 100.003, None, 101.5, steps_ms=1450.0)
    assert split["queue_ms"] is None
    assert split["checkpoints_ms"] == 47.0
