"""``dealbridge serve`` with Outbound Messages from the Salesforce emulator, as in production.

Three processes per test — both emulators and ``serve`` — and no manual step: deals are closed
through the Salesforce REST API, Salesforce pushes, dealbridge syncs and writes back. Waits poll
with deadlines; nothing asserts how long anything took.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deal_checks import PACKAGE, check_deal, read_books
from tests.e2e.serve_stack import Stack, free_port, running_stack, wait_until

pytestmark = pytest.mark.slow

ORG_DEALS = 100  # 59 won candidates with seed 1
BURST_ORG_DEALS = 350  # 209 won candidates
WRITTEN_TYPES = (
    "customer",
    "contact",
    "billingAccount",
    "pricePlan",
    "subscriptionPlan",
    "priceBook",
    "subscription",
    PACKAGE,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as started:
        yield started


@pytest.fixture
def org(stack: Stack) -> Stack:
    """A freshly generated org and an empty NetSuite account, before ``serve`` starts."""
    stack.emulators.netsuite_control.fresh()
    stack.emulators.reset(deals=ORG_DEALS)
    return stack


def candidates(org: Stack, count: int) -> list[str]:
    found: list[str] = org.emulators.seeded["won_candidates"][:count]
    assert len(found) == count
    return found


def assert_exactly_once(org: Stack) -> None:
    counts = org.external_id_counts(WRITTEN_TYPES)
    assert counts, "NetSuite holds no records"
    assert {eid: n for eid, n in counts.items() if n > 1} == {}


def test_fifty_won_deals_land_in_netsuite_and_are_written_back(org: Stack, tmp_path: Path) -> None:
    deals = candidates(org, 50)
    with org.serving(tmp_path / "data"):
        org.register_endpoint()
        org.close_won(deals)

        wait_until(lambda: len(org.synced(deals)) == len(deals), "50 deals written back", 300)

        books = read_books(org)
        problems = {deal: check_deal(books, deal) for deal in deals}
        assert {deal: found for deal, found in problems.items() if found} == {}
        assert_exactly_once(org)
        deliveries = org.emulators.sf_control("GET", "/outbound/deliveries")
        assert deliveries["pending"] == 0
        assert any(entry["acked"] for entry in deliveries["deliveries"])
        assert org.serve is not None
        assert org.serve.info["event_loop"] == "uvloop"  # the default, installed with dealbridge


def test_doubled_and_reordered_deliveries_make_one_record_per_external_id(
    org: Stack, tmp_path: Path
) -> None:
    mode = {"duplicate": True, "reorder": True, "max_batch": 5}
    org.emulators.sf_control("PUT", "/outbound/mode", mode)
    deals = candidates(org, 20)
    with org.serving(tmp_path / "data"):
        org.register_endpoint()
        org.close_won(deals)

        wait_until(lambda: len(org.synced(deals)) == len(deals), "20 deals written back", 240)

        assert_exactly_once(org)
        log = org.emulators.sf_control("GET", "/outbound/deliveries")["deliveries"]
        assert any(entry["duplicate"] and entry["acked"] for entry in log)
        sent = [
            deal for entry in log if not entry["duplicate"] for deal in entry["opportunity_ids"]
        ]
        assert sorted(set(sent)) == sorted(deals)
        assert sent[: len(deals)] != deals  # the burst really arrived out of order


def test_deals_wait_out_a_netsuite_outage_and_land_afterwards(org: Stack, tmp_path: Path) -> None:
    netsuite = org.emulators.netsuite_control
    deals = candidates(org, 10)
    # Step retries spread over ~2 minutes here, so the outage below is waited out.
    with org.serving(tmp_path / "data", step_max_attempts=9, step_interval_seconds=0.5):
        org.register_endpoint()
        netsuite.faults(error_rate=1.0)
        org.close_won(deals)

        # Twice the deals, not more: deals missing the lookup cache together share one SuiteQL
        # read (single flight), so how many 500s a round of retries makes depends on timing; a
        # higher bar, reached late on a busy machine, left too little retry budget after it.
        wait_until(
            lambda: int(netsuite.stats()["by_status"].get("500", 0)) >= 2 * len(deals),
            "NetSuite to refuse the deals' requests",
            120,
        )
        assert org.synced(deals) == []
        netsuite.faults(error_rate=0.0)

        wait_until(lambda: len(org.synced(deals)) == len(deals), "deals after the outage", 240)
        failed = [
            deal
            for deal, row in org.opportunities(deals).items()
            if row["NetSuite_Sync_Status__c"] != "Synced"
        ]
        assert failed == []
        assert_exactly_once(org)


def test_serve_killed_mid_burst_loses_nothing_and_duplicates_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    stack.emulators.netsuite_control.fresh()
    stack.emulators.reset(deals=BURST_ORG_DEALS)
    stack.emulators.netsuite_control.faults(latency_ms=50)  # so the burst takes a while
    deals = candidates(stack, 200)
    data, port = tmp_path / "data", free_port()
    with stack.serving(data, port=port) as first:
        stack.register_endpoint()
        stack.close_won(deals)
        wait_until(lambda: len(stack.synced(deals)) >= 10, "the burst under way", 300)
        first.process.kill()  # SIGKILL: no drain, no goodbye
        first.process.wait(timeout=30)
    synced_before_restart = len(stack.synced(deals))
    assert synced_before_restart < len(deals), "the burst ended before the kill"

    # Same data directory and executor id: DBOS recovers the PENDING deals; Salesforce's
    # retries re-deliver whatever was not acked.
    with stack.serving(data, port=port):
        wait_until(lambda: len(stack.synced(deals)) == len(deals), "all 200 deals", 600)
        assert_exactly_once(stack)
    stack.emulators.netsuite_control.faults(latency_ms=0)
