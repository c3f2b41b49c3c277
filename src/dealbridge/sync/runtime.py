"""``Runtime``: DBOS, the ledger, the flow and the clients of one dealbridge process.

Lifecycle: ``Runtime(settings).launch()`` migrates the ledger, loads the flow, launches DBOS
(which recovers this executor's unfinished workflows) and registers the ``deals`` queue;
``shutdown(timeout)`` lets in-flight deals finish for up to ``timeout`` seconds, then stops.
Steps reach the process's runtime through ``current_runtime()`` — workflow inputs are ids and
plain dicts, never clients.

Where state lives: SQLite files under ``data_dir`` by default (``dbos.sqlite3`` for DBOS,
``dealbridge.sqlite3`` for the ledger), one process only (contracts/dbos.md §2a), which
``launch()`` enforces with an exclusive lock file; or one PostgreSQL database (``database_url``)
shared by any number of workers, where DBOS keeps its tables in its own ``dbos`` schema.

``ENGINE_VERSION`` is DBOS's ``application_version``. DBOS recovers and dequeues only workflows of
its own version, and its default version is a hash of the source, which would strand every
in-flight deal after any upgrade (contracts/dbos.md §8.1). Bump it only when a change makes
checkpoints of running workflows unreadable or misplaced: steps added, removed, renamed or
reordered in ``sync_deal``, or a step's output shape changed. Keep one worker of the old version
until its ``PENDING`` workflows drain.

Async callers (a FastAPI lifespan) use ``launch_async``/``shutdown_async``: they run the blocking
calls in a thread, so DBOS adopts no request loop and runs dequeued deals on its own loop, and
the shutdown drain does not block the loop those deals would need to finish.
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
from pathlib import Path
from typing import IO, Any

import structlog
from dbos import DBOS, DBOSConfig, Queue, StepOptions
from sqlalchemy.exc import OperationalError

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.db import migrate
from dealbridge.errors import ConfigError, DealbridgeError
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import SHIPPED_FLOWS_DIR, LoadedFlow, load_flow
from dealbridge.mapping.lookups import LookupTables, TableCache, load_lookups
from dealbridge.settings import Settings
from dealbridge.sync.clients import ClientRegistry, LoopClients, Transports
from dealbridge.sync.ledger import Ledger

APP_NAME = "dealbridge"
ENGINE_VERSION = "1"
QUEUE_NAME = "deals"
DEFAULT_FLOW = SHIPPED_FLOWS_DIR / "cpq_closed_won.yaml"
DEFAULT_EXECUTOR_ID = "local"
# Measured on the shipped flow and the emulator's seed org: a deal's plan has 4 waves of
# 20-30 upserts (the first, price plans and subscription plans, ~10-14 wide), so a deal in its
# NetSuite phase keeps about 6 calls in flight on average.
PARALLEL_CALLS_PER_DEAL = 6
# Deals also spend time on Salesforce and the ledger, holding no NetSuite slot; admitting twice
# the even share keeps the account's slots busy, while the client's limiter (and its AIMD on 429)
# still caps the calls actually in flight.
OVERSUBSCRIPTION = 2
MIN_DEALS_IN_FLIGHT = 2
LEDGER_STEP_ATTEMPTS = 5
_LOCK_FILE = "dealbridge.lock"
_log = structlog.get_logger("dealbridge.sync")

_current: Runtime | None = None


def deals_in_flight(settings: Settings) -> int:
    """Deals the ``deals`` queue runs at once, across every worker.

    ``max(2, ceil(OVERSUBSCRIPTION * netsuite.concurrency_limit / PARALLEL_CALLS_PER_DEAL))``
    unless ``sync.queue_concurrency`` says otherwise: 2 for the default limit of 5, 5 for 15.
    """
    if settings.sync.queue_concurrency is not None:
        return settings.sync.queue_concurrency
    share = OVERSUBSCRIPTION * settings.netsuite.concurrency_limit / PARALLEL_CALLS_PER_DEAL
    return max(MIN_DEALS_IN_FLIGHT, math.ceil(share))


def system_database_url(settings: Settings) -> str:
    """DBOS's database: PostgreSQL ``database_url`` (its own schema), else a SQLite file."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / 'dbos.sqlite3').resolve()}"


def is_sqlite(settings: Settings) -> bool:
    """Whether this configuration keeps its state in SQLite files (one process only)."""
    return system_database_url(settings).startswith("sqlite")


def is_retryable(error: BaseException) -> bool:
    """Remote steps retry what the error tree says may succeed later (DESIGN §6)."""
    return isinstance(error, DealbridgeError) and error.retryable


def is_database_hiccup(error: BaseException) -> bool:
    """Ledger steps retry a locked or unreachable database, nothing else."""
    return isinstance(error, OperationalError)


def current_runtime() -> Runtime:
    """The launched runtime of this process (what steps use).

    Raises:
        ConfigError: No runtime is launched in this process.
    """
    if _current is None:
        raise ConfigError("no dealbridge runtime is launched in this process")
    return _current


class Runtime:
    """Everything a dealbridge process needs to sync deals.

    Args:
        settings: The configuration (``Settings()`` reads env and ``dealbridge.toml``).
        transports: Optional httpx transports for the clients (tests).
    """

    def __init__(self, settings: Settings, *, transports: Transports | None = None) -> None:
        self.settings = settings
        self.executor_id = settings.executor_id or DEFAULT_EXECUTOR_ID
        self.clients = ClientRegistry(settings, transports)
        self.table_cache = TableCache()
        self._ledger: Ledger | None = None
        self._flow: LoadedFlow | None = None
        self._engine: FlowEngine | None = None
        self._queue: Queue | None = None
        self._lock: IO[str] | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def launch(self) -> None:
        """Migrate the ledger, load the flow, launch DBOS (recovering our work), open the queue.

        Raises:
            ConfigError: Another process holds this SQLite data directory, or no DBOS.
            FlowFileError: The flow file does not load.
        """
        global _current
        if _current is not None:
            raise ConfigError("a dealbridge runtime is already launched in this process")
        self._take_lock()
        self._check_executor_id()
        try:
            migrate.upgrade(self.settings.resolved_database_url())
            self._ledger = Ledger(self.settings.resolved_database_url())
            self._load_flow()
            _current = self
            self._launch_dbos()
        except BaseException:
            DBOS.destroy()  # a half-launched DBOS would block the next launch in this process
            self._release()
            raise

    def shutdown(self, timeout: int | None = None) -> None:
        """Let in-flight deals finish for ``timeout`` s (default from settings), then stop.

        Deals still running afterwards stay ``PENDING`` and resume when a process with the same
        ``executor_id`` launches again.
        """
        if timeout is None:
            timeout = self.settings.sync.shutdown_timeout_seconds
        try:
            DBOS.destroy(workflow_completion_timeout_sec=timeout)
        finally:
            self._release()

    async def launch_async(self) -> None:
        """``launch`` from async code (see the module docstring)."""
        await asyncio.to_thread(self.launch)

    async def shutdown_async(self, timeout: int | None = None) -> None:
        """``shutdown`` from async code; closes this loop's clients too."""
        await self.clients.close_current()
        await asyncio.to_thread(self.shutdown, timeout)

    # -- what steps use ---------------------------------------------------------------------

    @property
    def ledger(self) -> Ledger:
        """The ledger (after ``launch``)."""
        if self._ledger is None:
            raise ConfigError("the runtime is not launched")
        return self._ledger

    @property
    def flow(self) -> LoadedFlow:
        """The loaded flow."""
        if self._flow is None:
            self._load_flow()
        assert self._flow is not None  # noqa: S101 - set by _load_flow
        return self._flow

    @property
    def engine(self) -> FlowEngine:
        """The flow engine (compiled once)."""
        if self._engine is None:
            self._load_flow()
        assert self._engine is not None  # noqa: S101 - set by _load_flow
        return self._engine

    @property
    def queue(self) -> Queue:
        """The ``deals`` queue (after ``launch``)."""
        if self._queue is None:
            raise ConfigError("the runtime is not launched")
        return self._queue

    async def loop_clients(self) -> LoopClients:
        """The running loop's Salesforce and NetSuite clients."""
        return await self.clients.get()

    async def lookups(self, netsuite: NetSuiteClient) -> LookupTables:
        """The flow's lookup tables; SuiteQL tables cached for their ``cache_seconds``."""
        return await load_lookups(self.flow, netsuite, cache=self.table_cache)

    def remote_step(self, name: str) -> StepOptions:
        """Options of a step calling Salesforce or NetSuite: long backoff for outages."""
        sync = self.settings.sync
        return {
            "name": name,
            "retries_allowed": True,
            "max_attempts": sync.step_max_attempts,
            "interval_seconds": sync.step_interval_seconds,
            "backoff_rate": 2.0,
            "should_retry": is_retryable,
        }

    @staticmethod
    def ledger_step(name: str) -> StepOptions:
        """Options of a step only touching the ledger: a few quick retries on a locked DB."""
        return {
            "name": name,
            "retries_allowed": True,
            "max_attempts": LEDGER_STEP_ATTEMPTS,
            "interval_seconds": 0.2,
            "backoff_rate": 2.0,
            "should_retry": is_database_hiccup,
        }

    # -- internals --------------------------------------------------------------------------

    def dbos_config(self) -> DBOSConfig:
        """DBOS's configuration for this process."""
        level = "DEBUG" if self.settings.log_level.upper() == "DEBUG" else "WARNING"
        return {
            "name": APP_NAME,
            "system_database_url": system_database_url(self.settings),
            "application_version": ENGINE_VERSION,
            "executor_id": self.executor_id,
            "log_level": level,
        }

    def _launch_dbos(self) -> None:
        # The workflow must be registered before DBOS.launch() recovers pending runs of it.
        import dealbridge.sync.deal_sync  # noqa: F401

        DBOS(config=self.dbos_config())
        DBOS.launch()
        concurrency = deals_in_flight(self.settings)
        self._queue = DBOS.register_queue(
            QUEUE_NAME,
            global_concurrency=concurrency,
            worker_concurrency=concurrency,
            partition_concurrency=1,
            polling_interval_sec=self.settings.sync.queue_polling_interval_seconds,
        )

    def _load_flow(self) -> None:
        path = self.settings.sync.flow_path or DEFAULT_FLOW
        self._flow = load_flow(Path(path))
        self._engine = FlowEngine(self._flow)

    def _check_executor_id(self) -> None:
        """Several workers on PostgreSQL must not share the default executor id."""
        if not is_sqlite(self.settings) and self.settings.executor_id is None:
            _log.warning(
                "executor_id_unset",
                advice="give every worker its own stable DEALBRIDGE_EXECUTOR_ID: DBOS recovers "
                "a crashed worker's deals only under the same id",
            )

    def _take_lock(self) -> None:
        """One process per SQLite data directory (DBOS's queue limits need it, §2a)."""
        if not is_sqlite(self.settings):
            return
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.settings.data_dir / _LOCK_FILE).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigError(
                f"another dealbridge process is running on {self.settings.data_dir}; SQLite "
                "allows one (use PostgreSQL, DEALBRIDGE_DATABASE_URL, for several workers)"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _release(self) -> None:
        global _current
        if _current is self:
            _current = None
        if self._ledger is not None:
            self._ledger.dispose()
            self._ledger = None
        self._queue = None
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def runtime_is_running(settings: Settings) -> bool:
    """Whether a process holds this SQLite data directory (always False on PostgreSQL)."""
    if not is_sqlite(settings):
        return False
    path = settings.data_dir / _LOCK_FILE
    if not path.exists():
        return False
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def describe(runtime: Runtime) -> dict[str, Any]:
    """What a worker prints first: enough for a script to find its state."""
    settings = runtime.settings
    return {
        "executor_id": runtime.executor_id,
        "application_version": ENGINE_VERSION,
        "queue": QUEUE_NAME,
        "deals_in_flight": deals_in_flight(settings),
        "database": "sqlite" if is_sqlite(settings) else "postgresql",
        "data_dir": str(settings.data_dir.resolve()),
        "pid": os.getpid(),
    }
