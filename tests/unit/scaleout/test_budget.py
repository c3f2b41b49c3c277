"""The NetSuite budget's arithmetic: shares that add up to the account's limit, queue sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dealbridge.connectors.netsuite.governance import portion
from dealbridge.errors import ConfigError
from dealbridge.settings import NetSuiteSettings, Settings, SyncSettings
from dealbridge.sync.budget import (
    CALLS_IN_FLIGHT_PER_DEAL,
    deals_in_flight,
    deals_per_process,
    fleet_position,
    plan_budget,
    settle_seconds,
)


def _settings(tmp_path: Path, limit: int, **sync: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        netsuite=NetSuiteSettings(concurrency_limit=limit),
        sync=SyncSettings(**sync),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("limit", [1, 2, 5, 15, 45, 100, 1000])
@pytest.mark.parametrize("processes", [1, 2, 3, 4, 7])
def test_the_shares_add_up_to_the_account_limit(limit: int, processes: int) -> None:
    shares = [portion(limit, processes, rank) for rank in range(processes)]
    if processes <= limit:
        assert sum(shares) == limit
        assert max(shares) - min(shares) <= 1  # as even as whole slots allow
    else:
        assert shares == [1] * processes  # nobody is left without a slot


@pytest.mark.parametrize(
    ("limit", "processes", "caps"),
    [(5, 1, [5]), (5, 2, [3, 2]), (5, 3, [2, 2, 1]), (45, 2, [23, 22]), (45, 3, [15, 15, 15])],
)
def test_the_first_ranks_take_the_remainder(limit: int, processes: int, caps: list[int]) -> None:
    assert [portion(limit, processes, rank) for rank in range(processes)] == caps


@pytest.mark.parametrize(("processes", "rank"), [(0, 0), (2, 2), (3, -1)])
def test_a_rank_outside_the_fleet_is_refused(processes: int, rank: int) -> None:
    with pytest.raises(ConfigError):
        portion(5, processes, rank)


@pytest.mark.parametrize(
    ("limit", "processes", "deals", "per_process"),
    [
        (5, 1, 10, 10),
        (5, 3, 10, 4),
        (15, 2, 30, 15),
        (45, 1, 90, 90),
        (45, 2, 90, 45),
        (45, 3, 90, 30),
    ],
)
def test_the_queue_spreads_deals_like_the_caps(
    tmp_path: Path, limit: int, processes: int, deals: int, per_process: int
) -> None:
    budget = plan_budget(_settings(tmp_path, limit), processes, 0)
    assert budget.deals_in_flight == deals
    assert budget.deals_per_process == per_process
    assert budget.deals_per_process * processes >= budget.deals_in_flight  # no deal left out


def test_deals_in_flight_is_twice_the_even_share_of_slots(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 45)
    assert deals_in_flight(settings) == 2 * 45 // CALLS_IN_FLIGHT_PER_DEAL
    assert deals_in_flight(_settings(tmp_path, 45, queue_concurrency=4)) == 4


def test_more_processes_than_slots_is_over_budget(tmp_path: Path) -> None:
    budget = plan_budget(_settings(tmp_path, 2), 3, 2)
    assert budget.over_budget
    assert budget.connector_cap == 1
    assert not plan_budget(_settings(tmp_path, 3), 3, 2).over_budget


def test_deals_per_process_never_drops_below_one() -> None:
    assert deals_per_process(2, 5) == 1
    assert deals_per_process(7, 2) == 4


def test_the_rank_is_the_place_of_our_key_among_the_live_ones() -> None:
    assert fleet_position(30, [10, 30, 20]) == (3, 2)
    assert fleet_position(30, []) == (1, 0)  # our own lock is always counted
    assert fleet_position(5, [5, 5, 9]) == (2, 0)


def test_a_joining_process_waits_a_reaper_pass_and_a_half(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 5, reaper_interval_seconds=2.0)
    assert settle_seconds(settings) == 3.0
