"""The sync engine's use of the ledger: one short transaction per question, in plain data out.

Why a facade: steps run on an event loop, and SQLAlchemy sessions are synchronous; every method
here is one ``session_scope`` and is called through ``Ledger.call`` by the steps, so a SQLite
write lock or a PostgreSQL round trip never stalls the other deals of the loop (on a SQLite file
whose write lock is free, the transaction runs on the loop's thread: cheaper than the hop to a
thread, and it waits for nothing; ``db/inline.py``). Methods return plain values (ids, dicts,
small dataclasses), never ORM rows, because what a step returns is checkpointed by DBOS.

Why some methods take a step's API ``calls`` too: every transaction and every hop to a thread
costs the engine CPU on each deal (issue 8), so what a step writes at its end — the deal graph,
the records written, the write-back stamp — is stored in the same transaction as the calls the
step made (``begin_run``, ``mark_running``, ``record_writes``, ``remember_write_back``).

The loop guard lives here too: the ``SystemModstamp`` our own write-back produced is kept as a
forward-only watermark ``writeback:<OpportunityId>``; a notification or poll carrying exactly
that stamp is our echo, not a change (``is_own_write_back``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey
from dealbridge.db import api_calls, open_errors, runs, synced, watermarks
from dealbridge.db.inline import InlineEngine, write_lock_busy
from dealbridge.db.models import FINISHED_STATUSES
from dealbridge.db.session import make_engine, make_session_factory, session_scope
from dealbridge.db.watermarks import parse_instant

WRITE_BACK_WATERMARK = "writeback:"
WRITE_BACK_STEP = "write_back"
_WRITE_BACK_DONE = frozenset({"written", "skipped"})
_RECENT_RUNS = 10

P = ParamSpec("P")
T = TypeVar("T")
# Set while ``Ledger.call`` runs a method on the loop's thread: that ledger, and the inline
# engine its ``session()`` and ``connection()`` use there. A context variable, so no other
# thread ever sees it.
_INLINE_SCOPE: ContextVar[tuple[Ledger, InlineEngine] | None] = ContextVar(
    "ledger_inline_scope", default=None
)


@dataclass(frozen=True)
class SyncedState:
    """What the ledger remembers of a record: NetSuite id, hash, override, last writing run."""

    netsuite_id: str | None
    payload_hash: str | None
    override: dict[str, Any] | None
    last_run_id: str | None = None


class BegunRun(NamedTuple):
    """``begin_run``'s answer: the run, whether the trigger is our own echo, whether it existed."""

    run_id: str
    own_write_back: bool
    reopened: bool


@dataclass(frozen=True)
class RunFinish:
    """The facts ``finish_run`` records."""

    status: str
    step_timings: list[dict[str, Any]]
    records_written: int
    records_unchanged: int
    plan: dict[str, Any] | None
    error_id: int | None


class Ledger:
    """The ledger at one URL, for the engine.

    Args:
        url: SQLAlchemy URL of the ledger (already migrated).
    """

    # A ledger in a SQLite file runs ``call``'s transactions on the loop (``db/inline.py``);
    # subclasses over another ledger's sessions have neither that nor an engine of their own.
    _inline: InlineEngine | None = None
    engine: Engine | None = None

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        self._inline = InlineEngine.for_url(url)

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self.engine is not None:
            self.engine.dispose()
        if self._inline is not None:
            self._inline.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work (commit on success), on the loop's connection inside ``call``."""
        inline = self._inline_in_scope()
        factory = inline.factory if inline is not None else self.factory
        with session_scope(factory) as session:
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """One transaction (commit on success) without the ORM: the engine's per-deal writes.

        Why: a deal's six transactions are statements the repositories build once and run on a
        Core connection; an ORM session around each cost a fifth of the ledger's CPU per deal
        (issue 8). A ledger without an engine of its own runs them in its ``session()``.
        """
        inline = self._inline_in_scope()
        engine = inline.engine if inline is not None else self.engine
        if engine is None:
            with self.session() as session:
                yield session.connection()
            return
        with engine.begin() as connection:
            yield connection

    def _inline_in_scope(self) -> InlineEngine | None:
        """The inline engine while ``call`` runs one of this ledger's methods on the loop."""
        scope = _INLINE_SCOPE.get()
        return scope[1] if scope is not None and scope[0] is self else None

    async def call(self, method: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``method(*args, **kwargs)`` for a coroutine, without blocking its event loop.

        ``method`` is one of this ledger's transactions (each method here is one). On a SQLite
        file it runs on the loop's own thread when the write lock is free, which costs less than
        the hop to a thread; when another connection holds the lock, it runs in a thread and
        waits there (``db/inline.py``). Elsewhere (PostgreSQL) it always runs in a thread.
        """
        inline = self._inline
        if inline is not None:
            await inline.checkpoints.clear()
            token = _INLINE_SCOPE.set((self, inline))
            try:
                result = method(*args, **kwargs)
            except OperationalError as error:
                if not write_lock_busy(error):
                    raise
            else:
                inline.checkpoints.tick()
                return result
            finally:
                _INLINE_SCOPE.reset(token)
        return await asyncio.to_thread(method, *args, **kwargs)

    # -- runs -------------------------------------------------------------------------------

    def start_run(self, workflow_id: str, opportunity_id: str, trigger: dict[str, Any]) -> str:
        """The run of ``workflow_id``, created on first call; returns its id."""
        with self.connection() as connection:
            return self._start_run(connection, workflow_id, opportunity_id, trigger).id

    @staticmethod
    def _start_run(
        connection: Connection, workflow_id: str, opportunity_id: str, trigger: dict[str, Any]
    ) -> runs.OpenedRun:
        stamp = trigger.get("system_modstamp")
        received = trigger.get("received_at")
        return runs.open_run(
            connection,
            workflow_id=workflow_id,
            opportunity_id=opportunity_id,
            trigger=trigger["kind"],
            account_id=trigger.get("account_id"),
            trigger_ref=trigger.get("trigger_ref"),
            system_modstamp=parse_instant(stamp) if stamp else None,
            received_at=datetime.fromisoformat(received) if received else None,
        )

    def begin_run(
        self, workflow_id: str, opportunity_id: str, trigger: dict[str, Any], *, echo_check: bool
    ) -> BegunRun:
        """``start_run`` and, with ``echo_check``, ``is_own_write_back``: one transaction."""
        with self.connection() as connection:
            run_id, created = self._start_run(connection, workflow_id, opportunity_id, trigger)
            stamp = trigger.get("system_modstamp")
            if not echo_check or not stamp:
                return BegunRun(run_id, False, not created)
            own = watermarks.get_watermark(connection, WRITE_BACK_WATERMARK + opportunity_id)
            echo = own is not None and parse_instant(own) == parse_instant(stamp)
            return BegunRun(run_id, echo, not created)

    def mark_running(
        self, run_id: str, graph: dict[str, Any], calls: Sequence[CallRecord] = ()
    ) -> None:
        """The run has started; keep the deal graph for replay and the console (and ``calls``)."""
        with self.connection() as connection:
            runs.record_running(connection, run_id, deal_graph=graph)
            if calls:
                api_calls.record_calls(connection, run_id, calls)

    def finish_run(
        self, run_id: str, finish: RunFinish, *, resolve_opportunity: str | None = None
    ) -> int | None:
        """Record the outcome, with the API call summary counted from the stored calls.

        With ``resolve_opportunity`` (after a success), that opportunity's active error is closed
        in the same transaction (``resolve_for_success``); returns the closed error's id, if any.
        """
        with self.connection() as connection:
            summary = api_calls.call_counts(api_calls.call_records_for_run(connection, run_id))
            runs.record_finish(
                connection,
                run_id,
                status=finish.status,
                step_timings=finish.step_timings,
                api_calls=summary,
                records_written=finish.records_written,
                records_unchanged=finish.records_unchanged,
                plan=finish.plan,
                error_id=finish.error_id,
            )
            if resolve_opportunity is None:
                return None
            if open_errors.active_error_id(connection, resolve_opportunity) is None:
                return None
            # Rare (a deal that had failed): the error is closed through its entity, in the
            # same transaction, which the session joins and leaves for ``connection()`` to end.
            with Session(bind=connection) as session:
                error = open_errors.resolve_for_success(session, resolve_opportunity, run_id)
                return error.id if error is not None else None

    def record_calls(self, run_id: str, calls: Sequence[CallRecord]) -> None:
        """Store a step's calls (redacted by the connectors)."""
        if calls:
            with self.connection() as connection:
                api_calls.record_calls(connection, run_id, calls)

    # -- synced records ---------------------------------------------------------------------

    def synced_state(self, keys: Iterable[RecordKey]) -> dict[RecordKey, SyncedState]:
        """The ledger's memory of these records (absent keys were never written)."""
        with self.connection() as connection:
            facts = synced.synced_facts(connection, keys)
            return {key: SyncedState(*found) for key, found in facts.items()}

    def record_writes(
        self,
        writes: Sequence[synced.SyncedWrite],
        run_id: str,
        calls: Sequence[CallRecord] = (),
    ) -> None:
        """Remember records just written (their ids and payload hashes), and ``calls``."""
        with self.connection() as connection:
            if writes:
                synced.upsert_synced(connection, writes, run_id=run_id)
            if calls:
                api_calls.record_calls(connection, run_id, calls)

    # -- errors -----------------------------------------------------------------------------

    def record_failure(
        self, failure: open_errors.Failure, opportunity_id: str, run_id: str, workflow_id: str
    ) -> int:
        """Open (or update) the opportunity's error; returns its id."""
        account = failure.context.get("account_id")
        with self.session() as session:
            error = open_errors.record_failure(
                session,
                failure,
                opportunity_id=opportunity_id,
                account_id=str(account) if account else None,
                run_id=run_id,
                workflow_id=workflow_id,
            )
            return error.id

    def resolve_for_success(self, opportunity_id: str, run_id: str) -> int | None:
        """Close the opportunity's active error after a success; returns its id, if any."""
        with self.session() as session:
            error = open_errors.resolve_for_success(session, opportunity_id, run_id)
            return error.id if error is not None else None

    def shows_synced(self, opportunity_id: str, current_run_id: str) -> bool:
        """Whether Salesforce already shows this deal as synced, as our last run left it.

        True when the opportunity's latest finished run (other than ``current_run_id``)
        succeeded and its write-back was written or itself skipped for the same reason.
        """
        filters = runs.RunFilter(opportunity=opportunity_id)
        with self.session() as session:
            for run in runs.list_runs(session, filters, limit=_RECENT_RUNS):
                if run.id == current_run_id or run.status not in FINISHED_STATUSES:
                    continue
                return run.status in runs.SUCCESS_STATUSES and _write_back_ok(run.step_timings)
        return False

    # -- the write-back loop guard ----------------------------------------------------------

    def own_write_back(self, opportunity_id: str) -> str | None:
        """The ``SystemModstamp`` our latest write-back to this opportunity produced."""
        with self.connection() as connection:
            return watermarks.get_watermark(connection, WRITE_BACK_WATERMARK + opportunity_id)

    def remember_write_back(
        self,
        opportunity_id: str,
        modstamp: str,
        *,
        run_id: str | None = None,
        calls: Sequence[CallRecord] = (),
    ) -> None:
        """Keep the stamp our write-back produced (forward only), and ``calls`` of ``run_id``."""
        with self.connection() as connection:
            name = WRITE_BACK_WATERMARK + opportunity_id
            watermarks.advance_watermark(connection, name, modstamp)
            if run_id is not None and calls:
                api_calls.record_calls(connection, run_id, calls)

    def is_own_write_back(self, opportunity_id: str, modstamp: str | None) -> bool:
        """Whether ``modstamp`` is exactly what our own write-back produced."""
        if not modstamp:
            return False
        own = self.own_write_back(opportunity_id)
        return own is not None and parse_instant(own) == parse_instant(modstamp)


def _write_back_ok(step_timings: list[dict[str, Any]]) -> bool:
    return any(
        entry.get("step") == WRITE_BACK_STEP and entry.get("status") in _WRITE_BACK_DONE
        for entry in step_timings
    )
