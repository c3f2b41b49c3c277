"""One NetSuite budget across every process: deals in flight, deals per process, calls per process.

Why: NetSuite's concurrency limit belongs to the account (contracts/netsuite.md §6), and every
process that runs deals — each ``dealbridge worker`` and each ``dealbridge serve`` — calls it. If
each process assumed the whole limit, three workers would send three times too much and live on
429s. So the limit is split, and the queue is sized to keep the split busy.

The numbers, from ``L`` = ``netsuite.concurrency_limit`` (the *account's* limit), ``P`` =
``CALLS_IN_FLIGHT_PER_DEAL`` and ``W`` = the processes running deals now (``liveness``: one
advisory lock per live executor, counted every ``sync.reaper_interval_seconds``):

* **calls per process** (the connector's in-flight cap): process of rank ``r`` among the ``W``
  holds ``portion(L, W, r)`` = ``L // W``, plus one for the first ``L % W`` ranks. The parts add up
  to exactly ``L``, so all processes together never have more than ``L`` requests in flight (while
  ``W <= L``; beyond, each keeps 1 and the launch logs that the set-up is over budget). This is
  the hard bound; 429s from anyone else on the account still halve a process's cap (AIMD).
* **deals in flight, all processes** (the ``deals`` queue's ``global_concurrency``, enforced by
  DBOS on PostgreSQL; on SQLite, where one process runs deals, its per-process limit is ``D``
  and the global one is left unset): ``D`` = ``sync.queue_concurrency`` or
  ``max(2, ceil(2 * L / P))``.
* **deals per process** (the queue's ``worker_concurrency``): ``ceil(D / W)``. It spreads deals
  like the caps are spread, so no process queues calls behind its own cap while another
  process's share sits idle.

Why ``P`` (``CALLS_IN_FLIGHT_PER_DEAL``) is 1: the cap, not the queue, enforces the limit; the
queue only has to admit enough deals to keep the cap's slots busy. A deal keeps several calls in
flight only during its NetSuite upserts; it spends the rest of its time on Salesforce (two reads,
one write-back), the ledger and unchanged records it does not send, so *on average* it holds
about one NetSuite slot (9.4 NetSuite requests of ~200 ms in a deal of ~1.8 s on the emulator's
seed org). Sizing ``D`` by the upserts' widest wave (6, an earlier choice) left two thirds of
the slots idle. Measured with ``python -m bench.throughput --deals 300`` at ``L`` = 15, 200 ms (one
process): ``D`` = 5 → 5.0 requests in flight on average, 0.32 of the ideal rate; 15 → 8.5, 0.55;
30 → 9.8, 0.63; 45 → 9.4, 0.61; no 429 in any run, since the cap never lets more than ``L``
through. Twice the even share (``2 * L``) is where the rate stopped growing.

Why ``W`` is counted from the live executors' locks rather than set: a worker that dies gives its
share to the survivors within one reaper pass, and a setting would be wrong as soon as someone
scales the workers without editing it. A joining process takes its lock first and then waits
(``settle_seconds``) so the others shrink their caps before it sends anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from dbos import Queue

from dealbridge.connectors.netsuite.governance import (
    AdaptiveConcurrencyLimiter,
    portion,
    shared_limiter,
)
from dealbridge.settings import NetSuiteSettings, Settings

CALLS_IN_FLIGHT_PER_DEAL = 1  # NetSuite slots a deal holds on average (module docstring)
OVERSUBSCRIPTION = 2  # deals admitted per even share of the account's slots
MIN_DEALS_IN_FLIGHT = 2
SETTLE_PASSES = 1.5  # reaper passes a joining process waits for the others to shrink
_log = structlog.get_logger("dealbridge.sync")


def deals_in_flight(settings: Settings) -> int:
    """Deals the ``deals`` queue runs at once, across every process (``D`` above).

    ``max(2, ceil(OVERSUBSCRIPTION * netsuite.concurrency_limit / CALLS_IN_FLIGHT_PER_DEAL))``
    unless ``sync.queue_concurrency`` says otherwise: 10 for the default limit of 5, 90 for 45.
    """
    if settings.sync.queue_concurrency is not None:
        return settings.sync.queue_concurrency
    share = OVERSUBSCRIPTION * settings.netsuite.concurrency_limit / CALLS_IN_FLIGHT_PER_DEAL
    return max(MIN_DEALS_IN_FLIGHT, math.ceil(share))


def deals_per_process(total: int, processes: int) -> int:
    """The queue's ``worker_concurrency``: an even share of ``total`` deals, rounded up."""
    return max(1, math.ceil(total / max(1, processes)))


@dataclass(frozen=True)
class Budget:
    """What one process may do, given how many share the account.

    Attributes:
        account_limit: NetSuite's concurrency limit for the whole account (``L``).
        processes: Processes running deals, this one included (``W``).
        rank: This process's place among them (0-based, by lock key).
        deals_in_flight: The queue's global concurrency (``D``).
        deals_per_process: The queue's per-process concurrency.
        connector_cap: This process's NetSuite requests in flight.
    """

    account_limit: int
    processes: int
    rank: int
    deals_in_flight: int
    deals_per_process: int
    connector_cap: int

    @property
    def over_budget(self) -> bool:
        """More processes than the account has slots: the caps (1 each) exceed the limit."""
        return self.processes > self.account_limit

    def as_dict(self) -> dict[str, int | bool]:
        """For ``describe`` and logs."""
        return {
            "account_limit": self.account_limit,
            "processes": self.processes,
            "rank": self.rank,
            "deals_in_flight": self.deals_in_flight,
            "deals_per_process": self.deals_per_process,
            "connector_cap": self.connector_cap,
            "over_budget": self.over_budget,
        }


def plan_budget(settings: Settings, processes: int = 1, rank: int = 0) -> Budget:
    """The budget of process ``rank`` of ``processes`` (the module docstring's formulas)."""
    limit = settings.netsuite.concurrency_limit
    total = deals_in_flight(settings)
    return Budget(
        account_limit=limit,
        processes=processes,
        rank=rank,
        deals_in_flight=total,
        deals_per_process=min(total, deals_per_process(total, processes)),
        connector_cap=portion(limit, processes, rank),
    )


def fleet_position(own_key: int, live_keys: Iterable[int]) -> tuple[int, int]:
    """``(processes, rank)`` from the lock keys of the live executors (ours counted once)."""
    keys = sorted(set(live_keys) | {own_key})
    return len(keys), keys.index(own_key)


def settle_seconds(settings: Settings) -> float:
    """How long a joining process waits before taking deals, so the others shrink first."""
    return SETTLE_PASSES * settings.sync.reaper_interval_seconds


def process_limiter(netsuite: NetSuiteSettings) -> AdaptiveConcurrencyLimiter:
    """The limiter every ``NetSuiteClient`` of this process shares (same key as the client)."""
    key = netsuite.account or (netsuite.base_url or "").rstrip("/")
    return shared_limiter(key, netsuite.concurrency_limit)


class BudgetKeeper:
    """Applies a process's budget to its NetSuite limiter and to the ``deals`` queue.

    Args:
        settings: The account limit and the queue settings.
        limiter: This process's NetSuite limiter.
    """

    def __init__(self, settings: Settings, limiter: AdaptiveConcurrencyLimiter) -> None:
        self._settings = settings
        self._limiter = limiter
        self.budget = plan_budget(settings)
        self.queue: Queue | None = None
        self._applied: tuple[int, int] | None = None

    def apply(self, processes: int, rank: int) -> Budget:
        """Take the share of ``rank`` among ``processes``; a no-op when nothing changed."""
        if self._applied == (processes, rank):
            return self.budget
        budget = plan_budget(self._settings, processes, rank)
        self._limiter.share(processes, rank)
        if self.queue is not None:
            self.queue.set_worker_concurrency(budget.deals_per_process)
        self.budget, self._applied = budget, (processes, rank)
        _log.info("netsuite_budget", **budget.as_dict())
        if budget.over_budget:
            _log.warning(
                "netsuite_budget_exceeded",
                processes=processes,
                account_limit=budget.account_limit,
                advice="more processes run deals than NetSuite allows requests in flight; "
                "run fewer workers or raise netsuite.concurrency_limit",
            )
        return budget
