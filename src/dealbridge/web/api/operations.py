"""How an API request acts on deals: the ``Operator`` on the request's session, and DBOS.

Two facts shape this module.

The request's ledger session already holds a transaction when the route runs (the role guard
read the token with it), and on SQLite every transaction takes the write lock at ``BEGIN``. A
second connection, be it an ``Operator`` on a ledger of its own or DBOS writing its queue into
the same SQLite file (``database_url=sqlite:///…`` holds both), would wait for that lock until
the busy timeout and fail. So the operator works on ``RequestLedger``: the request's own session,
each unit of work committed at its end, exactly as the CLI's operator commits its own — and the
guard's transaction is committed before the action starts. Nothing is held while DBOS enqueues,
and a failed enqueue is undone by the operator itself (the error is shown open again).

Where the deal goes: a process that runs the sync runtime (``serve``, the demo) enqueues on its
launched DBOS, exactly as the CLI and the engine do (``triggers.start_on_queue_sync``,
``triggers.sync_now``). A web-only node has no DBOS of its own and enqueues through a
``DBOSClient`` of the workers' system database (``triggers.enqueue_with_client``), as the
``errors`` and ``sync`` commands do beside a running worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import structlog
from dbos import DBOSClient
from sqlalchemy.orm import Session

from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.errors import DealbridgeError
from dealbridge.settings import Settings
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.operator import Enqueue, Operator
from dealbridge.sync.runtime import APP_NAME, system_database_url
from dealbridge.sync.triggers import (
    enqueue_with_client,
    opportunity_id18,
    read_trigger_facts,
    start_on_queue_sync,
    sync_now,
    trigger_info,
    workflow_id_for,
)
from dealbridge.web.context import WebContext

API_TRIGGER = "api"
_log = structlog.get_logger("dealbridge.web.api")


class QueueUnavailableError(DealbridgeError):
    """The workers' DBOS database could not be reached; nothing was queued (503)."""

    default_failure_type = "config"


class RequestLedger(Ledger):
    """The request's session seen as a ``Ledger``: each ``session()`` commits at its end.

    Args:
        session: The request's ledger session (``web.context.ledger_session``).
    """

    def __init__(self, session: Session) -> None:
        # No engine of its own (see the module docstring): everything goes through ``session``.
        self._request_session = session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work on the request's session: committed on success, else rolled back."""
        try:
            yield self._request_session
            self._request_session.commit()
        except BaseException:
            self._request_session.rollback()
            raise

    def dispose(self) -> None:
        """Nothing to close: the request owns the session."""


@contextmanager
def workers_client(settings: Settings) -> Iterator[DBOSClient]:
    """A client of the workers' DBOS system database, closed on the way out.

    Connection errors are raised, not retried: DBOS would otherwise retry a lost connection
    without end, holding the request (and a server thread) until the database came back, where
    an answer of "unavailable" now lets the caller try again later.

    Raises:
        QueueUnavailableError: The database cannot be reached (its text is logged by class only,
            as a connection error can quote the URL and its password).
    """
    try:
        client = DBOSClient(
            system_database_url=system_database_url(settings),
            application_name=APP_NAME,
            retry_connection_errors=False,
        )
    except Exception as exc:
        _log.warning("dbos_unreachable", error=type(exc).__name__)
        raise QueueUnavailableError("the workers' queue cannot be reached") from None
    try:
        yield client
    finally:
        client.destroy()


@contextmanager
def enqueuer(context: WebContext) -> Iterator[Enqueue]:
    """What puts a deal on the ``deals`` queue from this process (see the module docstring)."""
    if context.runtime is not None:
        yield guarded_enqueue(start_on_queue_sync)
        return
    with workers_client(context.settings) as client:
        yield guarded_enqueue(partial(enqueue_with_client, client))


@contextmanager
def request_operator(context: WebContext, session: Session) -> Iterator[Operator]:
    """An ``Operator`` on the request's session, enqueueing as this process can."""
    session.commit()  # the guard's transaction: release the ledger before anything else
    with enqueuer(context) as enqueue:
        yield Operator(RequestLedger(session), enqueue)


def ledger_operator(session: Session) -> Operator:
    """An ``Operator`` for actions that queue nothing (resolve): no DBOS is needed."""
    session.commit()  # as in request_operator
    return Operator(RequestLedger(session), _never_enqueues)


async def sync_opportunity(context: WebContext, opportunity_id: str, actor: str) -> str:
    """Queue a sync of the opportunity as it is now; returns the workflow id.

    Reads the opportunity's AccountId and SystemModstamp first (one Salesforce call), so a deal
    unchanged since its notification joins that workflow instead of running twice.

    Raises:
        ValidationError: Not a Salesforce id.
        NotFoundError: Salesforce has no such opportunity.
        ConnectorError: Salesforce could not be read.
        QueueUnavailableError: The deal could not be queued.
    """
    identifier = opportunity_id18(opportunity_id)
    if context.runtime is not None:
        return await sync_now(identifier, trigger=API_TRIGGER, actor=actor)
    async with SalesforceClient(context.settings.salesforce) as salesforce:
        account_id, stamp = await read_trigger_facts(salesforce, identifier)
    workflow_id = workflow_id_for(identifier, stamp)
    info = trigger_info(
        API_TRIGGER, account_id=account_id, system_modstamp=stamp, trigger_ref=f"by:{actor}"
    )
    await asyncio.to_thread(
        _enqueue_with_new_client, context.settings, workflow_id, identifier, info
    )
    return workflow_id


def _enqueue_with_new_client(
    settings: Settings, workflow_id: str, opportunity_id: str, info: dict[str, Any]
) -> None:
    with workers_client(settings) as client:
        guarded_enqueue(partial(enqueue_with_client, client))(workflow_id, opportunity_id, info)


def guarded_enqueue(enqueue: Callable[[str, str, dict[str, Any]], object]) -> Enqueue:
    """``enqueue`` with database failures reported as ``QueueUnavailableError``.

    Why: whatever the queue's database raises can quote its URL; a person is told only that
    nothing was queued, and the log keeps the class of the failure.
    """

    def call(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
        try:
            enqueue(workflow_id, opportunity_id, info)
        except DealbridgeError:
            raise
        except Exception as exc:
            _log.warning("enqueue_failed", workflow_id=workflow_id, error=type(exc).__name__)
            raise QueueUnavailableError("the deal could not be queued") from None

    return call


def _never_enqueues(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
    raise QueueUnavailableError("this action does not queue deals")  # a wiring bug if reached
