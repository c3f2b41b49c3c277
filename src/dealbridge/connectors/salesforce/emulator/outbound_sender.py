"""Outbound Messages as Salesforce sends them: at least once, late, doubled or out of order.

When an Opportunity's ``IsWon`` turns true by any write, each registered Outbound Message queues
one notification (contracts §3.1). The delivery loop POSTs them as SOAP, up to ``max_batch``
(≤ 100) per message, with the record's *current* field values read at send time. A message is
delivered only on HTTP 200 with ``<Ack>true</Ack>``; anything else (status, missing Ack, timeout,
refused connection) is retried with exponential backoff, and a notification still undelivered 24
hours after it was queued is dropped. A second notification for the same record is sent on its
own: deduplicating on the Notification ``Id`` is the listener's job.

UNCONFIRMED (§3.1 says only "grows exponentially to max 2 h"): the first retry waits 15 s, each
next one twice as long, capped at 2 h; a failed batch is retried as a whole, with its
notifications' values read afresh. All times are emulated (``outbound_clock``).

Fault modes for tests and demos: ``duplicate`` POSTs every batch twice with the same Notification
ids; ``reorder`` shuffles pending notifications and batches with a seeded RNG (deterministic).

Threads: ``record_changed`` may run on the event loop or in a worker thread; it only appends to
lock-protected queues and wakes the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from dealbridge.connectors.salesforce.emulator.outbound_clock import Clock, ScaledClock
from dealbridge.connectors.salesforce.emulator.outbound_delivery import (
    Attempt,
    DeliveryBatch,
    Notification,
    post_envelope,
)
from dealbridge.connectors.salesforce.emulator.outbound_endpoints import (
    ACTION_PREFIX,
    OutboundEndpoint,
    endpoint_from_config,
)
from dealbridge.connectors.salesforce.emulator.outbound_envelope import (
    SoapHeader,
    SoapNotification,
    build_envelope,
)
from dealbridge.connectors.salesforce.emulator.outbound_queue import DeliveryQueue
from dealbridge.connectors.salesforce.models import OUTBOUND_MAX_NOTIFICATIONS, to_id18

_logger = logging.getLogger(__name__)
FetchRecord = Callable[[str, str], Mapping[str, Any] | None]
FIRST_RETRY_SECONDS = 15.0
MAX_RETRY_SECONDS = 2 * 3600.0  # §3.1: "to max 2 h"
IDLE_SECONDS = MAX_RETRY_SECONDS  # how long the loop naps with nothing to do (a wake ends it)
LOG_MAX = 10_000
NOTIFICATION_PREFIX = "04l"
SOBJECT = "Opportunity"


def retry_interval(failures: int) -> float:
    """Emulated seconds before the next try after ``failures`` failed attempts (UNCONFIRMED)."""
    return min(FIRST_RETRY_SECONDS * 2.0 ** max(0, failures - 1), MAX_RETRY_SECONDS)


@dataclass
class _Mode:
    duplicate: bool = False
    reorder: bool = False
    max_batch: int = OUTBOUND_MAX_NOTIFICATIONS


class OutboundSender:
    """The emulated org's Outbound Message queue and its delivery loop."""

    def __init__(
        self,
        *,
        org_id: str,
        instance_url: str,
        api_version: str,
        time_scale: float,
        fetch_record: FetchRecord,
        ssl_context: ssl.SSLContext | bool | None = None,
        http_timeout: float = 60.0,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng_seed: int = 0,
    ) -> None:
        org15 = org_id[:15]
        base = instance_url.rstrip("/")
        self._soap = (
            org_id,
            f"{base}/services/Soap/c/{api_version}/{org15}",
            f"{base}/services/Soap/u/{api_version}/{org15}",
        )
        self._clock: Clock = clock or ScaledClock(time_scale)
        self._fetch = fetch_record
        self._verify = True if ssl_context is None else ssl_context
        self._timeout = http_timeout  # §3.1: Salesforce waits 60 s for an answer
        self._transport = transport
        self._rng_seed = rng_seed
        self._rng = random.Random(rng_seed)
        self._lock = threading.Lock()
        self._endpoints: dict[str, OutboundEndpoint] = {}
        self._queue = DeliveryQueue()
        self._mode = _Mode()
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self._serials = {ACTION_PREFIX: 0, NOTIFICATION_PREFIX: 0}  # never reset: ids stay unique
        self._generation = 0  # bumped by reset(): answers to older POSTs are ignored
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    # -- called by the app ---------------------------------------------------------------------

    def record_changed(
        self, sobject: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
    ) -> None:
        """Queue a notification per endpoint when an Opportunity's ``IsWon`` turns true."""
        if sobject != SOBJECT or not _true(after.get("IsWon")):
            return
        if before is not None and _true(before.get("IsWon")):
            return
        record_id, now = after.get("Id"), self._clock.now()
        if not record_id:
            return
        with self._lock:
            for action_id in self._endpoints:
                notification_id = self._next_id(NOTIFICATION_PREFIX)
                self._queue.add(
                    Notification(notification_id, action_id, SOBJECT, str(record_id), now)
                )
            queued = bool(self._endpoints)
        if queued:
            self._wake()

    def register_endpoint(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Add an Outbound Message (or replace the one with the same ``action_id``).

        Raises:
            ValueError: If the config is invalid (see ``outbound_endpoints``).
        """
        with self._lock:
            endpoint = endpoint_from_config(config, lambda: self._next_id(ACTION_PREFIX))
            self._endpoints[endpoint.action_id] = endpoint
        return endpoint.as_dict()

    def endpoints(self) -> list[dict[str, Any]]:
        """The registered Outbound Messages."""
        with self._lock:
            return [endpoint.as_dict() for endpoint in self._endpoints.values()]

    def set_mode(
        self,
        *,
        duplicate: bool | None = None,
        reorder: bool | None = None,
        max_batch: int | None = None,
    ) -> dict[str, Any]:
        """Change the fault modes (None leaves one as is) and return all of them.

        Raises:
            ValueError: If ``max_batch`` is not 1 to 100 (§3.1).
        """
        if max_batch is not None and not 1 <= max_batch <= OUTBOUND_MAX_NOTIFICATIONS:
            raise ValueError(f"max_batch must be 1 to {OUTBOUND_MAX_NOTIFICATIONS}")
        with self._lock:
            if duplicate is not None:
                self._mode.duplicate = duplicate
            if reorder is not None:
                self._mode.reorder = reorder
            if max_batch is not None:
                self._mode.max_batch = max_batch
            return self._mode_dict()

    def log(self) -> list[dict[str, Any]]:
        """One entry per HTTP attempt (and one per dropped batch), oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def pending(self) -> int:
        """Notifications neither acknowledged nor dropped yet."""
        with self._lock:
            return self._queue.size()

    def reset(self) -> None:
        """Forget endpoints, queue, log and modes, as a fresh org; ids keep counting."""
        with self._lock:
            self._endpoints.clear()
            self._queue = DeliveryQueue()
            self._mode = _Mode()
            self._log.clear()
            self._rng = random.Random(self._rng_seed)
            self._generation += 1
        self._wake()

    # -- the delivery loop ---------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled; the app runs this as a background task."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        client = httpx.AsyncClient(
            verify=self._verify, timeout=self._timeout, transport=self._transport
        )
        try:
            async with client:
                while True:
                    self._wakeup.clear()
                    await self._deliver_due(client)
                    await self._nap(self._seconds_to_next())
        finally:  # cancelled mid-POST: those notifications are still owed
            with self._lock:
                self._queue.requeue_in_flight(self._clock.now())

    async def _deliver_due(self, client: httpx.AsyncClient) -> None:
        with self._lock:
            shuffle = self._rng.shuffle if self._mode.reorder else None
            work = self._queue.take_due(self._clock.now(), self._mode.max_batch, shuffle)
            generation = self._generation
        sends = [self._send_all(client, batches, generation) for batches in work.values()]
        results = await asyncio.gather(*sends, return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        for failure in failures:  # a bug must not silence Salesforce for the rest of the run
            _logger.error("Outbound Message delivery failed", exc_info=failure)
        if failures:
            with self._lock:
                if generation == self._generation:
                    self._queue.requeue_in_flight(self._clock.now() + FIRST_RETRY_SECONDS)

    async def _send_all(
        self, client: httpx.AsyncClient, batches: list[DeliveryBatch], generation: int
    ) -> None:
        for batch in batches:  # one endpoint's batches go one after another, in order
            if self._clock.now() >= batch.deadline:
                self._settle(batch, None, generation)
                continue
            with self._lock:
                endpoint, copies = self._endpoints.get(batch.action_id), self._copies()
            if endpoint is not None:
                self._settle(
                    batch, await self._attempts(client, endpoint, batch, copies), generation
                )

    async def _attempts(
        self,
        client: httpx.AsyncClient,
        endpoint: OutboundEndpoint,
        batch: DeliveryBatch,
        copies: int,
    ) -> list[Attempt]:
        try:
            body = self._envelope(endpoint, batch)
        except Exception as exc:  # a store failure must not stop the loop: count it, retry later
            return [Attempt(None, f"reading the record failed: {exc!r}")]
        return [await post_envelope(client, endpoint.url, body) for _ in range(copies)]

    def _settle(
        self, batch: DeliveryBatch, attempts: list[Attempt] | None, generation: int
    ) -> None:
        """Log the outcome: delivered, due again after a backoff, or (None) dropped at 24 h."""
        now = self._clock.now()
        with self._lock:
            endpoint = self._endpoints.get(batch.action_id)
            if generation != self._generation or endpoint is None:
                return  # reset meanwhile: this batch belongs to a forgotten org
            if attempts is None:
                self._queue.done(batch)
                self._log.append(batch.log_entry(endpoint.url, None, now, None))
                return
            batch.attempts += 1
            delivered = any(attempt.acked for attempt in attempts)
            next_at = (
                None if delivered else min(now + retry_interval(batch.attempts), batch.deadline)
            )
            for copy, attempt in enumerate(attempts):
                self._log.append(batch.log_entry(
                    endpoint.url, attempt, now, next_at, delivered=delivered, duplicate=copy > 0
                ))  # fmt: skip
            if next_at is None:
                self._queue.done(batch)
            else:
                self._queue.retry(batch, next_at)

    def _envelope(self, endpoint: OutboundEndpoint, batch: DeliveryBatch) -> bytes:
        """The SOAP body with each record's values as they are now (§3.1)."""
        org_id, enterprise_url, partner_url = self._soap
        header = SoapHeader(org_id, endpoint.action_id, enterprise_url, partner_url)
        items = [
            SoapNotification(n.notification_id, n.sobject, self._values(endpoint, n))
            for n in batch.notifications
        ]
        return build_envelope(header, items)

    def _values(self, endpoint: OutboundEndpoint, item: Notification) -> list[tuple[str, Any]]:
        record = self._fetch(item.sobject, item.record_id)
        if record is None or _true(record.get("IsDeleted")):
            return [("Id", item.record_id)]  # deleted record → empty payload (§3.1): just its Id
        by_name = {name.lower(): name for name in record}
        names = [by_name.get(name.lower(), name) for name in endpoint.fields]
        return [(name, record.get(name)) for name in names]

    async def _nap(self, seconds: float) -> None:
        """Sleep on the clock until the next batch is due, or until new work wakes the loop."""
        if seconds <= 0 or self._wakeup is None:
            await asyncio.sleep(0)  # work is due: go on, but let request handlers run first
            return
        tasks = [
            asyncio.ensure_future(self._clock.sleep(seconds)),
            asyncio.ensure_future(self._wakeup.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _seconds_to_next(self) -> float:
        with self._lock:
            due = self._queue.next_due()
        return IDLE_SECONDS if due is None else due - self._clock.now()

    def _wake(self) -> None:
        loop, event = self._loop, self._wakeup
        if loop is None or event is None or loop.is_closed():
            return  # not running yet: run() looks at the queue first thing
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the loop closed between the check and the call
            return

    # -- small helpers -------------------------------------------------------------------------

    def _copies(self) -> int:
        return 2 if self._mode.duplicate else 1

    def _mode_dict(self) -> dict[str, Any]:
        mode = self._mode
        return {"duplicate": mode.duplicate, "reorder": mode.reorder, "max_batch": mode.max_batch}

    def _next_id(self, prefix: str) -> str:
        self._serials[prefix] += 1
        return _id(prefix, self._serials[prefix])


def _id(prefix: str, serial: int) -> str:
    return to_id18(f"{prefix}{serial:012d}")


def _true(value: Any) -> bool:
    """``IsWon`` as stored (bool) or as text ("true"), never truthy by accident."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
