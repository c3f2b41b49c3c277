"""Who is alive: a stable executor id per process, and a PostgreSQL advisory lock that proves it.

Why: DBOS recovers a process's unfinished workflows only when a process with the *same executor
id* starts again (contracts/dbos.md §1), and open-source DBOS has no heartbeat, so a worker that
dies for good leaves its ``PENDING`` deals holding queue slots and freezing their accounts
(§2b). Each process therefore holds, for its whole life, a session-level advisory lock named after
its executor id, on a dedicated connection with TCP keepalives. The database drops the lock the
moment the process's connection closes — at once when the process is killed, about 25 s after a
host vanishes (keepalive 10 s + 3 x 5 s) — and the reaper (``reaper.py``) in every other process
reads a free lock as "dead". The lock is taken *before* ``DBOS.launch()``, so a restarted process
is never judged dead while it recovers its own work, and a second process with the same id is
refused instead of both running one executor's workflows.

Lock keys use the two-integer form ``(NAMESPACE, hashtext(executor id))``: the namespace lets
``pg_locks`` list exactly the live executors (the budget counts them, ``budget.py``). Two ids with
the same 32-bit hash would exclude each other; the refusal message says so.

Executor ids: ``executor_id`` from settings wins; otherwise, on PostgreSQL, ``<host>-<slot>`` with
the slot from ``DEALBRIDGE_WORKER_SLOT`` (default 0), which is stable across restarts of the same
slot; on SQLite ``local`` (one process per file, and a data directory copied to another host
still recovers its work).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from sqlalchemy.engine import make_url

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings

NAMESPACE = 0x64626578  # "dbex": dealbridge executors, first key of every liveness lock
SQLITE_EXECUTOR_ID = "local"
DEFAULT_SLOT = "0"
MAX_EXECUTOR_ID = 100
# A reaper holds a dead executor's lock for the length of one recovery; a restart of that
# executor waits this long for it instead of refusing.
ACQUIRE_WAIT_SECONDS = 10.0
_RETRY_SECONDS = 0.2
_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "connect_timeout": 10,
}
_ID_CHARS = re.compile(r"[^A-Za-z0-9._:-]+")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
REAPER_APP = "dealbridge-reaper"
LIVENESS_APP = "dealbridge-executor"
_log = structlog.get_logger("dealbridge.sync")

Connect = Callable[..., psycopg.Connection[Any]]


def executor_id_for(settings: Settings, hostname: str | None = None) -> str:
    """This process's executor id (module docstring).

    Raises:
        ConfigError: ``executor_id`` is set but not 1-100 of ``A-Z a-z 0-9 . _ : -``.
    """
    if settings.executor_id is not None:
        if not _VALID_ID.match(settings.executor_id):
            raise ConfigError(
                f"executor_id {settings.executor_id!r} must be 1-{MAX_EXECUTOR_ID} characters "
                "of letters, digits, '.', '_', ':' and '-'"
            )
        return settings.executor_id
    if not settings.database_url or settings.database_url.startswith("sqlite"):
        return SQLITE_EXECUTOR_ID
    host = _ID_CHARS.sub("-", hostname or socket.gethostname()).strip("-") or "host"
    slot = _ID_CHARS.sub("-", settings.worker_slot or DEFAULT_SLOT) or DEFAULT_SLOT
    return f"{host}-{slot}"[-MAX_EXECUTOR_ID:]


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://…`` URL as plain libpq accepts it."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def connect(database_url: str, application: str, executor_id: str) -> psycopg.Connection[Any]:
    """An autocommit connection with TCP keepalives, named in ``pg_stat_activity``."""
    name = f"{application} {executor_id}"[:63]
    return psycopg.connect(
        libpq_url(database_url), autocommit=True, application_name=name, **_KEEPALIVES
    )


class AdvisoryLocks:
    """The liveness locks as seen from one connection (the reaper's, or the holder's own)."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def try_lock(self, executor_id: str) -> bool:
        """Take ``executor_id``'s lock if it is free (False: its process is alive)."""
        row = self.connection.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (NAMESPACE, executor_id)
        ).fetchone()
        return bool(row and row[0])

    def unlock(self, executor_id: str) -> None:
        """Give back a lock this connection took."""
        self.connection.execute(
            "SELECT pg_advisory_unlock(%s, hashtext(%s))", (NAMESPACE, executor_id)
        )

    def key_of(self, executor_id: str) -> int:
        """The lock's second key as ``pg_locks.objid`` shows it (unsigned 32 bits)."""
        row = self.connection.execute("SELECT hashtext(%s)", (executor_id,)).fetchone()
        assert row is not None  # noqa: S101 - SELECT always returns a row
        return int(row[0]) & 0xFFFFFFFF

    def live_keys(self) -> list[int]:
        """The keys of every liveness lock held in this database now."""
        rows = self.connection.execute(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 2 AND classid::bigint = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (NAMESPACE,),
        ).fetchall()
        return [int(row[0]) for row in rows]

    def holder(self, executor_id: str) -> dict[str, Any] | None:
        """Who holds ``executor_id``'s lock: pid, application name, client address, since."""
        row = self.connection.execute(
            "SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
            " AND l.classid::bigint = %s AND l.objid::bigint = %s",
            (NAMESPACE, self.key_of(executor_id)),
        ).fetchone()
        if row is None:
            return None
        return {"pid": row[0], "application": row[1], "client": row[2], "since": str(row[3])}


class ExecutorLock:
    """This process's liveness lock, held on a connection of its own until ``release``.

    Args:
        database_url: The shared PostgreSQL database.
        executor_id: This process's executor id.
        connector: Opens the connection (tests).
    """

    def __init__(
        self,
        database_url: str,
        executor_id: str,
        *,
        connector: Callable[[str, str, str], psycopg.Connection[Any]] = connect,
    ) -> None:
        self.database_url = database_url
        self.executor_id = executor_id
        self._connector = connector
        self._locks: AdvisoryLocks | None = None
        self.key = 0

    def acquire(self, wait_seconds: float = ACQUIRE_WAIT_SECONDS) -> None:
        """Take the lock, waiting out a reaper that holds it for a moment.

        Raises:
            ConfigError: Another live process holds this executor id.
        """
        locks = AdvisoryLocks(self._connector(self.database_url, LIVENESS_APP, self.executor_id))
        deadline = time.monotonic() + wait_seconds
        try:
            while not locks.try_lock(self.executor_id):
                holder = locks.holder(self.executor_id)  # None: released meanwhile, try again
                live = holder is not None and not str(holder["application"]).startswith(REAPER_APP)
                if live or time.monotonic() > deadline:
                    raise ConfigError(_refusal(self.executor_id, holder))
                time.sleep(_RETRY_SECONDS)
            self.key = locks.key_of(self.executor_id)
        except BaseException:
            locks.connection.close()
            raise
        self._locks = locks

    def held(self) -> bool:
        """Whether the lock is still ours (False after a lost connection)."""
        if self._locks is None:
            return False
        try:
            row = self._locks.connection.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND granted"
                " AND locktype = 'advisory' AND objsubid = 2"
                " AND classid::bigint = %s AND objid::bigint = %s",
                (NAMESPACE, self.key),
            ).fetchone()
        except psycopg.Error:
            return False
        return bool(row and row[0])

    def retake(self) -> bool:
        """After a lost connection: reconnect and take the lock again if nobody else has."""
        self.release()
        try:
            self.acquire(wait_seconds=0)
        except (ConfigError, psycopg.Error) as error:
            _log.error("liveness_lock_lost", executor_id=self.executor_id, error=str(error))
            return False
        _log.warning(
            "liveness_lock_retaken",
            executor_id=self.executor_id,
            note="while it was lost, other workers may have recovered this executor's deals; "
            "their steps are idempotent and DBOS lets one execution of each step win",
        )
        return True

    def release(self) -> None:
        """Give the lock back, then close its connection (idempotent).

        Why unlock first: closing only asks the server to end the session, and the backend drops
        its locks a moment later, so a reaper (or the same executor id starting again) could still
        see this process as alive right after a clean shutdown. ``pg_advisory_unlock`` returns once
        the lock is free. A lost connection cannot be unlocked; the server frees it as it drops it.
        """
        if self._locks is not None:
            try:
                if not self._locks.connection.closed:
                    self._locks.unlock(self.executor_id)
            except psycopg.Error as error:
                _log.info("liveness_unlock_skipped", executor_id=self.executor_id, error=str(error))
            finally:
                self._locks.connection.close()
                self._locks = None


def _refusal(executor_id: str, holder: dict[str, Any] | None) -> str:
    who = (
        f"pid {holder['pid']} of {holder['application']!r} from {holder['client'] or 'local'} "
        f"since {holder['since']}"
        if holder
        else "another process"
    )
    return (
        f"executor id {executor_id!r} is already in use by {who}: every process needs its own "
        "stable id (set DEALBRIDGE_EXECUTOR_ID, or DEALBRIDGE_WORKER_SLOT for several workers on "
        "one host); a different id with the same hash collides too, so rename one of them"
    )
