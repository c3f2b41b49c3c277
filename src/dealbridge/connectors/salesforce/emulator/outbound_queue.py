"""The Outbound Message queue: fresh notifications, batches waiting for a retry, batches in flight.

Plain bookkeeping without locks or I/O; the sender guards it with its lock. Keeping batches in
flight in the queue (not just in a coroutine) means a delivery loop cancelled mid-POST puts them
back rather than losing them: at least once, as Salesforce promises (contracts §3.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dealbridge.connectors.salesforce.emulator.outbound_delivery import DeliveryBatch, Notification

Shuffle = Callable[[list[Any]], None]


@dataclass
class DeliveryQueue:
    """Everything neither acknowledged nor dropped yet."""

    fresh: dict[str, list[Notification]] = field(default_factory=dict)  # action id → queued
    waiting: list[DeliveryBatch] = field(default_factory=list)  # failed; due again at due_at
    in_flight: list[DeliveryBatch] = field(default_factory=list)

    def add(self, item: Notification) -> None:
        """Queue a new notification for its endpoint."""
        self.fresh.setdefault(item.action_id, []).append(item)

    def size(self) -> int:
        """How many notifications are owed to listeners."""
        batches = (*self.waiting, *self.in_flight)
        fresh = sum(len(items) for items in self.fresh.values())
        return fresh + sum(len(batch.notifications) for batch in batches)

    def next_due(self) -> float | None:
        """When the next batch is due (-inf: right away), None when nothing waits."""
        if self.fresh:
            return float("-inf")
        return min((batch.due_at for batch in self.waiting), default=None)

    def take_due(
        self, now: float, max_batch: int, shuffle: Shuffle | None = None
    ) -> dict[str, list[DeliveryBatch]]:
        """Per endpoint, the batches to send now: due retries first, then fresh notifications.

        ``shuffle`` (reorder mode) mixes fresh notifications before batching and then the order
        of each endpoint's batches.
        """
        work: dict[str, list[DeliveryBatch]] = {}
        due = sorted((b for b in self.waiting if b.due_at <= now), key=lambda b: b.due_at)
        self.waiting = [batch for batch in self.waiting if batch.due_at > now]
        for batch in due:
            work.setdefault(batch.action_id, []).append(batch)
        for action_id, items in self.fresh.items():
            if shuffle:
                shuffle(items)
            chunks = [items[i : i + max_batch] for i in range(0, len(items), max_batch)]
            work.setdefault(action_id, []).extend(DeliveryBatch(action_id, c) for c in chunks)
        self.fresh = {}
        for batches in work.values():
            if shuffle:
                shuffle(batches)
            self.in_flight += batches
        return work

    def done(self, batch: DeliveryBatch) -> None:
        """The batch is acknowledged or dropped: forget it."""
        self.in_flight = [other for other in self.in_flight if other is not batch]

    def retry(self, batch: DeliveryBatch, due_at: float) -> None:
        """The batch failed: send it again at ``due_at``."""
        self.done(batch)
        batch.due_at = due_at
        self.waiting.append(batch)

    def requeue_in_flight(self, due_at: float) -> None:
        """Batches whose POST never finished (cancelled, crashed) go back to waiting."""
        for batch in self.in_flight:
            batch.due_at = due_at
        self.waiting += self.in_flight
        self.in_flight = []
