"""What a person (console, API, CLI) does with an open error: retry, edit and retry, resolve.

A retry is a *new* workflow, ``retry:<error id>:<n>``, on the ``deals`` queue in the account's
partition, running the same ``sync_deal`` with trigger ``retry``: it reads the deal as it is now,
so a fix made in Salesforce (or NetSuite's item master) is picked up. Why not DBOS's fork or
resume: workflow inputs cannot be edited, a finished workflow cannot be resumed
(contracts/dbos.md §3), and a fork would reuse the stale checkpoints of ``extract`` and ``plan``.

Edit and retry stores the edited payload twice, in one transaction: on the error (what the
console shows, ``open_errors.set_override``) and on the record's ledger row
(``synced.set_override_payload``), which is where the engine's upserts step reads it — it replaces
the mapped payload of that one record for the next write only. Every action is written to the
audit log in the same transaction as the change it records.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dealbridge.connectors.netsuite.models import record_group
from dealbridge.core.records import RecordKey
from dealbridge.db import audit, open_errors, runs, synced
from dealbridge.db.ledger_errors import NotInLedgerError
from dealbridge.db.models import SyncError
from dealbridge.errors import DealbridgeError, ValidationError
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.plan_data import parse_key
from dealbridge.sync.runtime import current_runtime
from dealbridge.sync.triggers import start_on_queue_sync, trigger_info

MAX_OVERRIDE_BYTES = 1_048_576
RETRY_COUNT_KEY = open_errors.RETRY_COUNT_KEY
Enqueue = Callable[[str, str, dict[str, Any]], None]


@dataclass(frozen=True)
class Retry:
    """A retry about to be enqueued."""

    workflow_id: str
    opportunity_id: str
    info: dict[str, Any]


class Operator:
    """Error actions on one ledger, enqueueing retries with ``enqueue``.

    Args:
        ledger: The ledger.
        enqueue: ``(workflow_id, opportunity_id, trigger)`` → puts ``sync_deal`` on the queue
            (``triggers.start_on_queue_sync`` in a launched runtime, a ``DBOSClient`` elsewhere).
    """

    def __init__(self, ledger: Ledger, enqueue: Enqueue) -> None:
        self.ledger = ledger
        self.enqueue = enqueue

    def retry_error(self, error_id: int, actor: str) -> str:
        """Mark the error retrying and start a new sync of its deal; returns the workflow id.

        Raises:
            NotInLedgerError: No such error.
            InvalidTransitionError: The error is resolved.
        """
        retry = self.prepare_retry(error_id, actor)
        try:
            self.enqueue(retry.workflow_id, retry.opportunity_id, retry.info)
        except BaseException as exc:
            self.reopen(error_id, actor, retry.workflow_id, exc)
            raise
        return retry.workflow_id

    def resolve_error(self, error_id: int, actor: str, note: str) -> None:
        """Close the error by hand; a pending edit of its record is dropped."""
        with self.ledger.session() as session:
            error = open_errors.resolve(session, error_id, actor, note)
            if error.override:
                synced.clear_override_payload(session, _override_key(error.override))
            detail = {"opportunity": error.opportunity_id, "note": note}
            audit.audit(
                session,
                actor,
                "error.resolve",
                target_type="error",
                target_id=error_id,
                detail=detail,
            )

    def edit_and_retry(self, error_id: int, record_key: str, payload: Any, actor: str) -> str:
        """Replace one record's payload for the next write, then retry; returns the workflow id.

        Raises:
            ValidationError: The payload is not a JSON object of at most 1 MB, or the record is
                not part of the failed run's plan.
        """
        check_override_payload(payload)
        key = _record_key(record_key)
        with self.ledger.session() as session:
            error = _load(session, error_id)
            _check_record_in_plan(session, error, record_key)
            _store_override(session, error, key, payload, actor)
        return self.retry_error(error_id, actor)

    def prepare_retry(self, error_id: int, actor: str, *, automatic: bool = False) -> Retry:
        """Mark the error retrying, count the retry and audit it; the caller enqueues it.

        ``automatic`` counts it against the service's own cap too (``sync.auto_retry``).
        """
        with self.ledger.session() as session:
            error = open_errors.mark_retrying(session, error_id, actor)
            count = int(error.context.get(RETRY_COUNT_KEY, 0)) + 1
            counts = {RETRY_COUNT_KEY: count}
            if automatic:
                automatic_count = int(error.context.get(open_errors.AUTO_RETRY_COUNT_KEY, 0))
                counts[open_errors.AUTO_RETRY_COUNT_KEY] = automatic_count + 1
            error.context = {**error.context, **counts}
            info = trigger_info(
                "retry",
                account_id=_account_of(session, error),
                system_modstamp=None,
                trigger_ref=f"error:{error_id}",
                error_id=error_id,
            )
            workflow_id = f"retry:{error_id}:{count}"
            audit.audit(
                session,
                actor,
                "error.retry",
                target_type="error",
                target_id=error_id,
                detail={"workflow_id": workflow_id},
            )
            return Retry(workflow_id, error.opportunity_id, info)

    def reopen(self, error_id: int, actor: str, workflow_id: str, exc: BaseException) -> None:
        """The retry could not be queued: show the error as open again, and say so in the audit.

        Why a second audit entry rather than removing the first: the person did ask for the
        retry; the log must show both that and that nothing was queued.
        """
        reason = exc.message if isinstance(exc, DealbridgeError) else type(exc).__name__
        with self.ledger.session() as session:
            error = _load(session, error_id)
            if error.state == "retrying":
                error.state = "open"
            audit.audit(
                session,
                actor,
                "error.retry_failed",
                target_type="error",
                target_id=error_id,
                detail={"workflow_id": workflow_id, "reason": reason},
            )


def check_override_payload(payload: Any) -> None:
    """A JSON object with string keys, at most 1 MB as JSON.

    Raises:
        ValidationError: It is not.
    """
    if not isinstance(payload, dict) or not all(isinstance(key, str) for key in payload):
        raise _bad_override("the edited payload must be a JSON object with string keys")
    try:
        size = len(json.dumps(payload, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        raise _bad_override(f"the edited payload is not JSON: {exc}") from None
    if size > MAX_OVERRIDE_BYTES:
        raise _bad_override(f"the edited payload is {size} bytes; at most 1 MB is accepted")


def runtime_operator() -> Operator:
    """The operator of this process's launched runtime."""
    return Operator(current_runtime().ledger, start_on_queue_sync)


async def retry_error(error_id: int, actor: str) -> str:
    """``Operator.retry_error`` in the launched runtime, from async code."""
    return await asyncio.to_thread(runtime_operator().retry_error, error_id, actor)


async def resolve_error(error_id: int, actor: str, note: str) -> None:
    """``Operator.resolve_error`` in the launched runtime, from async code."""
    await asyncio.to_thread(runtime_operator().resolve_error, error_id, actor, note)


async def edit_and_retry(error_id: int, record_key: str, payload: Any, actor: str) -> str:
    """``Operator.edit_and_retry`` in the launched runtime, from async code."""
    operator = runtime_operator()
    return await asyncio.to_thread(operator.edit_and_retry, error_id, record_key, payload, actor)


def _load(session: Session, error_id: int) -> SyncError:
    error = open_errors.get_error(session, error_id)
    if error is None:
        raise NotInLedgerError(f"no error with id {error_id}")
    return error


def _account_of(session: Session, error: SyncError) -> str | None:
    """The account partition of the retry: the error's, else its run's."""
    if error.account_id:
        return error.account_id
    run = runs.get_run(session, error.run_id) if error.run_id else None
    return run.account_id if run is not None and run.account_id else None


def _record_key(text: str) -> RecordKey:
    try:
        return parse_key(text)
    except ValueError:
        raise _bad_override(f"{text!r} is not a record key like customer/SFACC-001…") from None


def _store_override(
    session: Session, error: SyncError, key: RecordKey, payload: dict[str, Any], actor: str
) -> None:
    """On the error (what the console shows) and on the ledger row (what the engine reads)."""
    override = {"record_type": key.record_type, "external_id": key.external_id, "payload": payload}
    open_errors.set_override(session, error.id, override, actor)
    group = record_group(key.record_type)
    synced.set_override_payload(
        session, key, group=group, payload=payload, opportunity_id=error.opportunity_id
    )
    detail = {"record": str(key)}
    audit.audit(
        session, actor, "error.edit", target_type="error", target_id=error.id, detail=detail
    )


def _check_record_in_plan(session: Session, error: SyncError, record_key: str) -> None:
    run = runs.get_run(session, error.run_id) if error.run_id else None
    plan = run.plan if run is not None else None
    if not plan:
        return
    keys = {f"{op['type']}/{op['external_id']}" for op in plan.get("operations", [])}
    if record_key not in keys:
        raise _bad_override(f"{record_key} is not a record of this deal's plan")


def _override_key(override: dict[str, Any]) -> RecordKey:
    return parse_key(f"{override['record_type']}/{override['external_id']}")


def _bad_override(message: str) -> ValidationError:
    return ValidationError(message, record="override", field_path="payload", rule="override")


__all__ = [
    "Operator",
    "check_override_payload",
    "edit_and_retry",
    "resolve_error",
    "retry_error",
    "runtime_operator",
]
