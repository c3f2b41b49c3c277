"""``Runtime``: DBOS, the ledger, the flow and the clients of one dealbridge process.

Lifecycle: ``Runtime(settings).launch()`` migrates the ledger, loads the flow, launches DBOS
(which recovers this executor's unfinished workflows) and registers the ``deals`` queue;
``shutdown(timeout)`` lets in-flight deals finish for up to ``timeout`` seconds, then stops.
Steps reach the process's runtime through ``current_runtime()`` — workflow inputs are ids and
plain dicts, never clients.

Where state lives: SQLite files under ``data_dir`` by default (``dbos.sqlite3`` for DBOS,
``dealbridge.sqlite3`` for the ledger), one process only (contracts/dbos.md §2a: several processes
on one file break the queue's limits), which ``launch()`` enforces with an exclusive lock file
beside the database — every command that runs deals (``worker``, ``serve``, ``sync``, ``demo``)
launches through here, so a second one is refused with a pointer to PostgreSQL; or one
PostgreSQL database (``database_url``) shared by any number of processes, where DBOS keeps its
tables in its own ``dbos`` schema.

Scale-out on PostgreSQL (DESIGN §7, ``fleet``): before DBOS launches, the process takes the
advisory lock of its executor id (a second process with the same id is refused) and its share of
the NetSuite budget; after, a reaper thread recovers dead executors' deals and keeps the share
current. ``shutdown`` stops the reaper, drains, and only then frees the lock — freeing it earlier
would let another process recover deals still running here.

``ENGINE_VERSION`` is DBOS's ``application_version``. DBOS recovers and dequeues only workflows of
its own version, and its default version is a hash of the source, which would strand every
in-flight deal after any upgrade (contracts/dbos.md §8.1). Bump it only when a change makes
checkpoints of running workflows unreadable or misplaced: steps added, removed, renamed or
reordered in ``sync_deal``, or a step's output shape changed — unless the workflow itself tells
old checkpoints from new ones and replays each as it was written (as the plan's
``upsert_layout`` does for the ``upserts`` step). Keep one worker of the old version until its
``PENDING`` workflows drain.

Async callers (a FastAPI lifespan) use ``launch_async``/``shutdown_async``: they run the blocking
calls in a thread, so DBOS adopts no request loop and runs dequeued deals on its own loop, and
the shutdown drain does not block the loop those deals would need to finish.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import structlog
from dbos import DBOS, DBOSConfig, Queue, StepOptions
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.core.event_loops import event_loop_kind
from dealbridge.db import migrate
from dealbridge.errors import ConfigError, DealbridgeError
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.loader import SHIPPED_FLOWS_DIR, LoadedFlow, load_flow
from dealbridge.mapping.lookups import LookupTables, TableCache, load_lookups
from dealbridge.settings import Settings
from dealbridge.sync import dbos_inline, system_db
from dealbridge.sync.budget import deals_in_flight
from dealbridge.sync.clients import ClientRegistry, LoopClients, Transports
from dealbridge.sync.fleet import Fleet
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.liveness import executor_id_for

APP_NAME = "dealbridge"
ENGINE_VERSION = "1"
QUEUE_NAME = "deals"
DEFAULT_FLOW = SHIPPED_FLOWS_DIR / "cpq_closed_won.yaml"
LEDGER_STEP_ATTEMPTS = 5
LEDGER_RETRY_SECONDS = 0.2
LEDGER_RETRY_BACKOFF = 2.0
_LOCK_FILE = "dealbridge.lock"
_log = structlog.get_logger("dealbridge.sync")
T = TypeVar("T")

_current: Runtime | None = None
__all__ = ["deals_in_flight"]  # re-exported: the queue formula lives in budget.py


def system_database_url(settings: Settings) -> str:
    """DBOS's database: PostgreSQL ``database_url`` (its own schema), else a SQLite file."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / 'dbos.sqlite3').resolve()}"


def is_sqlite(settings: Settings) -> bool:
    """Whether this configuration keeps its state in SQLite files (one process only)."""
    return system_database_url(settings).startswith("sqlite")


def sqlite_lock_path(settings: Settings) -> Path:
    """The lock file of one SQLite state: beside ``database_url``'s file, else in ``data_dir``.

    Why beside the file: two processes with different data directories but one
    ``database_url=sqlite:///…`` share the database, so the lock must follow the file.
    """
    if settings.database_url and settings.database_url.startswith("sqlite"):
        database = make_url(settings.database_url).database
        if database and database != ":memory:":
            path = Path(database).resolve()
            return path.with_name(path.name + "." + _LOCK_FILE)
    return settings.data_dir / _LOCK_FILE


def is_retryable(error: BaseException) -> bool:
    """Remote steps retry what the error tree says may succeed later (DESIGN §6)."""
    return isinstance(error, DealbridgeError) and error.retryable


def is_database_hiccup(error: BaseException) -> bool:
    """Ledger steps retry a locked or unreachable database, nothing else."""
    return isinstance(error, OperationalError)


async def ledger_write(write: Callable[[], Awaitable[T]]) -> T:
    """An idempotent ledger write in a workflow but outside any step, retried as a ledger step.

    That is: a locked or unreachable database, up to ``LEDGER_STEP_ATTEMPTS`` times.

    Why outside a step: a checkpoint costs DBOS two transactions and two thread hops, and a
    write whose repeat changes nothing needs none — after a crash the workflow runs it
    again, just as it would re-run a step whose checkpoint was not yet recorded.
    """
    delay = LEDGER_RETRY_SECONDS
    for _ in range(LEDGER_STEP_ATTEMPTS - 1):
        try:
            return await write()
        except Exception as error:
            if not is_database_hiccup(error):
                raise
            await asyncio.sleep(delay)
            delay *= LEDGER_RETRY_BACKOFF
    return await write()


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
        self.executor_id = executor_id_for(settings)
        self.clients = ClientRegistry(settings, transports)
        self.fleet = Fleet(
            settings, self.executor_id, ENGINE_VERSION, shared=not is_sqlite(settings)
        )
        self.table_cache = TableCache()
        self._ledger: Ledger | None = None
        self._flow: LoadedFlow | None = None
        self._engine: FlowEngine | None = None
        self._queue: Queue | None = None
        self._lock: IO[str] | None = None
        # DBOS's bookkeeping runs on the loop (SQLite only, ``sync/dbos_inline.py``).
        self._hooks_on_loop = False
        self._stopping = False

    # -- lifecycle --------------------------------------------------------------------------

    def launch(self) -> None:
        """Migrate the ledger, load the flow, launch DBOS (recovering our work), open the queue.

        Raises:
            ConfigError: Another process holds this SQLite state or this executor id, or no DBOS.
            FlowFileError: The flow file does not load.
        """
        global _current
        if _current is not None:
            raise ConfigError("a dealbridge runtime is already launched in this process")
        self._take_lock()
        try:
            self.fleet.enter()
            migrate.upgrade(self.settings.resolved_database_url())
            self._ledger = Ledger(self.settings.resolved_database_url())
            self._load_flow()
            _current = self
            self.fleet.join()
            self._launch_dbos()
            self.fleet.start(self.queue)
        except BaseException:
            DBOS.destroy()  # a half-launched DBOS would block the next launch in this process
            self._release()
            raise

    def shutdown(self, timeout: int | None = None) -> None:
        """Let in-flight deals finish for ``timeout`` s (default from settings), then stop.

        Deals still running afterwards stay ``PENDING`` and resume when a process with the same
        ``executor_id`` launches again — or, on PostgreSQL, as soon as another process's reaper
        sees this one's lock freed.
        """
        if timeout is None:
            timeout = self.settings.sync.shutdown_timeout_seconds
        self._stopping = True
        try:
            self.fleet.stop()
            DBOS.destroy(workflow_completion_timeout_sec=timeout)
        finally:
            self._release()

    def is_ready(self) -> bool:
        """Whether this runtime takes work now: launched, and not shutting down (``/readyz``)."""
        return _current is self and self._queue is not None and not self._stopping

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
            "interval_seconds": LEDGER_RETRY_SECONDS,
            "backoff_rate": LEDGER_RETRY_BACKOFF,
            "should_retry": is_database_hiccup,
        }

    # -- internals --------------------------------------------------------------------------

    def dbos_config(self) -> DBOSConfig:
        """DBOS's configuration for this process."""
        level = "DEBUG" if self.settings.log_level.upper() == "DEBUG" else "WARNING"
        config: DBOSConfig = {
            "name": APP_NAME,
            "system_database_url": system_database_url(self.settings),
            "application_version": ENGINE_VERSION,
            "executor_id": self.executor_id,
            "log_level": level,
        }
        if is_sqlite(self.settings):
            config["db_engine_kwargs"] = system_db.sqlite_engine_kwargs(
                checkpoints_elsewhere=self._hooks_on_loop
            )
        return config

    def _launch_dbos(self) -> None:
        # Every workflow must be registered before DBOS.launch() recovers pending runs of it —
        # the poller's too: a worker that never polls may still be the process that recovers a
        # poll (its executor id restarted as a worker, or a reaper taking over a dead serve).
        from dealbridge.sync import deal_sync, poller  # noqa: F401

        if is_sqlite(self.settings):
            path = system_db.prepare_sqlite(system_database_url(self.settings))
            self._hooks_on_loop = path is not None and dbos_inline.install(path)
        DBOS(config=self.dbos_config())
        DBOS.launch()
        budget = self.fleet.refresh()
        # On SQLite this is the only process (``_take_lock``), so its own limit is the global
        # one. Left unset, DBOS claims the next deal of every account in one query per poll; set,
        # it counts the queue, lists its partitions and claims each in its own transaction.
        single_process = is_sqlite(self.settings)
        self._queue = DBOS.register_queue(
            QUEUE_NAME,
            global_concurrency=None if single_process else budget.deals_in_flight,
            worker_concurrency=budget.deals_per_process,
            partition_concurrency=1,
            polling_interval_sec=self.settings.sync.queue_polling_interval_seconds,
        )

    def _load_flow(self) -> None:
        path = self.settings.sync.flow_path or DEFAULT_FLOW
        self._flow = load_flow(Path(path))
        self._engine = FlowEngine(self._flow)

    def _take_lock(self) -> None:
        """One process per SQLite database (DBOS's queue limits need it, §2a)."""
        if not is_sqlite(self.settings):
            return
        path = sqlite_lock_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigError(
                f"another dealbridge process is running on this SQLite state ({path.parent}); "
                "SQLite allows one process, as several break the queue's limits: use PostgreSQL "
                "(DEALBRIDGE_DATABASE_URL=postgresql://…) for several workers"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _release(self) -> None:
        global _current
        if _current is self:
            _current = None
        self.fleet.leave()
        if self._hooks_on_loop:
            dbos_inline.uninstall()
            self._hooks_on_loop = False
        if self._ledger is not None:
            self._ledger.dispose()
            self._ledger = None
        self._queue = None
        self._stopping = False
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def runtime_is_running(settings: Settings) -> bool:
    """Whether a process holds this SQLite data directory (always False on PostgreSQL)."""
    return is_sqlite(settings) and lock_is_held(sqlite_lock_path(settings))


def data_dir_in_use(data_dir: Path) -> bool:
    """Whether a process runs on the default SQLite state under ``data_dir``."""
    return lock_is_held(data_dir / _LOCK_FILE)


def lock_is_held(path: Path) -> bool:
    """Whether another process holds the SQLite lock file ``path``."""
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
        "netsuite_budget": runtime.fleet.budget.as_dict(),
        "database": "sqlite" if is_sqlite(settings) else "postgresql",
        "data_dir": str(settings.data_dir.resolve()),
        "pid": os.getpid(),
        "event_loop": event_loop_kind(),
    }
