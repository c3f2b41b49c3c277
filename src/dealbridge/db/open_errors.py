"""Open errors: failed deals, one active error per opportunity, until a success or a person.

Lifecycle: ``open`` → (someone retries) ``retrying`` → ``resolved`` when the deal syncs
(``resolved_by="system"``) or a person closes it. A failure of an opportunity that already has an
active error updates that error (``occurrences`` + 1, latest facts) instead of adding a row, so a
deal retried all night shows as one line with a count. A partial unique index holds that rule
in the database and the insert is one ``INSERT … ON CONFLICT``, so racing workers cannot break it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from dealbridge.db.dialect import Executor, upsert_insert
from dealbridge.db.ledger_errors import InvalidTransitionError, LedgerError, NotInLedgerError
from dealbridge.db.models import (
    ACTIVE_ERROR_PREDICATE,
    ACTIVE_ERROR_STATES,
    ERROR_STATES,
    SyncError,
)
from dealbridge.db.timestamps import ensure_aware, utc_now
from dealbridge.errors import (
    FAILURE_TYPES,
    ConnectorError,
    DealbridgeError,
    ValidationError,
)

SYSTEM_ACTOR = "system"
AUTO_RESOLVE_NOTE = "synced on retry"
OVERRIDE_KEYS = frozenset({"record_type", "external_id", "payload"})
# How many retries a person (or the service) has queued for the error: the n of the next retry's
# workflow id ``retry:<error id>:<n>``. It survives a repeat failure (``record_failure``): were it
# reset, the next retry would reuse a finished workflow's id, DBOS would run nothing, and the
# error would stay "retrying" for ever.
RETRY_COUNT_KEY = "retry_count"
# How many of those retries the service queued on its own (``sync.auto_retry``), against its cap.
AUTO_RETRY_COUNT_KEY = "auto_retries"
CARRIED_CONTEXT_KEYS = (RETRY_COUNT_KEY, AUTO_RETRY_COUNT_KEY)

# The opportunity's active error (one at most), the opportunity bound at execution.
_ACTIVE_OF_OPPORTUNITY = (
    SyncError.opportunity_id == bindparam("opportunity"),
    SyncError.state.in_(ACTIVE_ERROR_STATES),
)
# Built once (``runs``): ``active_error_id``'s question.
_ACTIVE_ERROR_ID = select(SyncError.id).where(*_ACTIVE_OF_OPPORTUNITY)


@dataclass(frozen=True)
class Failure:
    """What went wrong, as stored on the open error (the deal's ids are passed separately)."""

    failure_type: str
    message: str
    user_message: str | None = None
    record_type: str | None = None
    external_id: str | None = None
    field_path: str | None = None
    remote_code: str | None = None
    remote_status: int | None = None
    request_id: str | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_error(
        cls, error: DealbridgeError, *, violations: list[dict[str, Any]] | None = None
    ) -> Failure:
        """The classification and remote coordinates a ``DealbridgeError`` carries."""
        context = dict(error.context)
        remote = error if isinstance(error, ConnectorError) else None
        field_path = (
            error.field_path if isinstance(error, ConnectorError | ValidationError) else None
        )
        return cls(
            failure_type=error.failure_type,
            message=error.message,
            user_message=error.user_message,
            record_type=_text(context.get("record_type")),
            external_id=_text(context.get("external_id")),
            field_path=field_path,
            remote_code=remote.code if remote else None,
            remote_status=remote.status if remote else None,
            request_id=remote.request_id if remote else None,
            violations=list(violations or []),
            context=context,
        )


@dataclass(frozen=True)
class ErrorFilter:
    """The error list's filters; ``None`` means "any"."""

    state: str | None = None
    failure_type: str | None = None
    opportunity: str | None = None


def record_failure(
    session: Session,
    failure: Failure,
    *,
    opportunity_id: str,
    account_id: str | None = None,
    run_id: str | None = None,
    workflow_id: str | None = None,
    at: datetime | None = None,
) -> SyncError:
    """Open an error for the opportunity, or update its active one; returns the error."""
    _check(failure.failure_type, FAILURE_TYPES, "failure type")
    seen = ensure_aware(at or utc_now(), "at")
    facts = _facts(failure, account_id=account_id, run_id=run_id, workflow_id=workflow_id)
    facts["context"] = {**failure.context, **_carried_context(session, opportunity_id)}
    insert = upsert_insert(session, SyncError).values(
        opportunity_id=opportunity_id,
        state="open",
        occurrences=1,
        first_seen_at=seen,
        last_seen_at=seen,
        **facts,
    )
    updates: dict[str, Any] = {name: insert.excluded[name] for name in facts}
    updates |= {
        "state": "open",
        "occurrences": SyncError.occurrences + 1,
        "last_seen_at": insert.excluded.last_seen_at,
    }
    upsert = insert.on_conflict_do_update(
        index_elements=["opportunity_id"], index_where=ACTIVE_ERROR_PREDICATE, set_=updates
    ).returning(SyncError.id)
    error_id = session.execute(upsert).scalar_one()
    return _load(session, error_id)


def resolve_for_success(
    session: Session, opportunity_id: str, run_id: str | None = None, at: datetime | None = None
) -> SyncError | None:
    """Close the opportunity's active error because the deal has now synced (if it had one)."""
    error = active_error(session, opportunity_id)
    if error is None:
        return None
    note = AUTO_RESOLVE_NOTE if run_id is None else f"{AUTO_RESOLVE_NOTE} (run {run_id})"
    return _resolve(session, error, SYSTEM_ACTOR, note, at)


def _carried_context(session: Session, opportunity_id: str) -> dict[str, Any]:
    """What the active error's context keeps through a repeat failure (``CARRIED_CONTEXT_KEYS``)."""
    query = select(SyncError.context).where(*_ACTIVE_OF_OPPORTUNITY)
    context = session.scalars(query, {"opportunity": opportunity_id}).one_or_none() or {}
    return {key: context[key] for key in CARRIED_CONTEXT_KEYS if key in context}


def due_for_auto_retry(
    session: Session,
    classes: tuple[str, ...],
    failed_before: datetime,
    max_attempts: int,
    limit: int,
) -> list[int]:
    """Ids of the open errors the service should retry now, oldest failure first.

    Due: of one of ``classes``, last failed before ``failed_before``, and retried by the service
    fewer than ``max_attempts`` times (a person's retries do not count against that cap).
    """
    query = (
        select(SyncError.id, SyncError.context)
        .where(
            SyncError.state == "open",
            SyncError.failure_type.in_(classes),
            SyncError.last_seen_at <= ensure_aware(failed_before, "failed_before"),
        )
        .order_by(SyncError.last_seen_at, SyncError.id)
    )
    due: list[int] = []
    for error_id, context in session.execute(query):
        if int((context or {}).get(AUTO_RETRY_COUNT_KEY, 0)) < max_attempts:
            due.append(int(error_id))
            if len(due) >= limit:
                break
    return due


def active_error_id(session: Executor, opportunity_id: str) -> int | None:
    """The id of the opportunity's open or retrying error, if any, read without its entity.

    Why: every successful deal asks, and almost always there is none (``sync.ledger``).
    """
    found: int | None = session.execute(_ACTIVE_ERROR_ID, {"opportunity": opportunity_id}).scalar()
    return found


def active_error(session: Session, opportunity_id: str) -> SyncError | None:
    """The opportunity's open or retrying error, if any."""
    query = select(SyncError).where(*_ACTIVE_OF_OPPORTUNITY)
    found = session.scalars(
        query.execution_options(populate_existing=True), {"opportunity": opportunity_id}
    )
    return found.one_or_none()


def get_error(session: Session, error_id: int) -> SyncError | None:
    """The error with this id, or ``None``."""
    return session.get(SyncError, error_id, populate_existing=True)


def list_errors(
    session: Session, filters: ErrorFilter | None = None, *, limit: int = 50, offset: int = 0
) -> list[SyncError]:
    """Errors matching ``filters``, most recently seen first."""
    query = _filtered(select(SyncError), filters or ErrorFilter())
    query = query.order_by(SyncError.last_seen_at.desc(), SyncError.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_errors(session: Session, filters: ErrorFilter | None = None) -> int:
    """How many errors match ``filters`` (the console's tabs and pager)."""
    query = _filtered(select(func.count()).select_from(SyncError), filters or ErrorFilter())
    return int(session.scalar(query) or 0)


def mark_retrying(session: Session, error_id: int, actor: str) -> SyncError:
    """Note that a person asked for a retry; a resolved error cannot be retried."""
    error = _require(session, error_id)
    if error.state == "resolved":
        raise InvalidTransitionError(f"error {error_id} is resolved; it cannot be retried")
    error.state = "retrying"
    error.context = {**error.context, "retry_requested_by": actor}
    session.flush()
    return error


def resolve(
    session: Session, error_id: int, actor: str, note: str, at: datetime | None = None
) -> SyncError:
    """Close an error by hand; resolving a resolved error keeps the first resolution."""
    error = _require(session, error_id)
    if error.state == "resolved":
        return error
    return _resolve(session, error, actor, note, at)


def set_override(
    session: Session, error_id: int, override: dict[str, Any], actor: str
) -> SyncError:
    """Keep the edited payload of the failed record on the error (edit-and-retry).

    ``override`` is ``{"record_type", "external_id", "payload"}``; the web layer validates the
    payload against the flow first. The engine applies it through ``synced.set_override_payload``.
    """
    missing = OVERRIDE_KEYS - override.keys()
    if missing or not isinstance(override.get("payload"), dict):
        raise LedgerError(f"an override needs {sorted(OVERRIDE_KEYS)} with a dict payload")
    error = _require(session, error_id)
    if error.state == "resolved":
        raise InvalidTransitionError(f"error {error_id} is resolved; it cannot be edited")
    error.override = {**override, "set_by": actor}
    session.flush()
    return error


def counts_by_class(session: Session, state: str | None = "open") -> dict[str, int]:
    """Number of errors per failure type, for errors in ``state`` (``None``: every state)."""
    query = select(SyncError.failure_type, func.count()).group_by(SyncError.failure_type)
    if state is not None:
        query = query.where(SyncError.state == state)
    return {failure_type: int(count) for failure_type, count in session.execute(query)}


def failure_types_seen(session: Session) -> dict[str, datetime]:
    """Every failure type ever recorded, with when it first appeared (new-class alerts)."""
    query = select(SyncError.failure_type, func.min(SyncError.first_seen_at)).group_by(
        SyncError.failure_type
    )
    return {kind: first for kind, first in session.execute(query)}


def _facts(
    failure: Failure, *, account_id: str | None, run_id: str | None, workflow_id: str | None
) -> dict[str, Any]:
    """The columns a repeat failure overwrites with its latest values."""
    return {
        "account_id": account_id,
        "run_id": run_id,
        "workflow_id": workflow_id,
        "failure_type": failure.failure_type,
        "record_type": failure.record_type,
        "external_id": failure.external_id,
        "field_path": failure.field_path,
        "remote_code": failure.remote_code,
        "remote_status": failure.remote_status,
        "request_id": failure.request_id,
        "message": failure.message,
        "user_message": failure.user_message or failure.message,
        "violations": failure.violations,
        "context": failure.context,
    }


def _resolve(
    session: Session, error: SyncError, actor: str, note: str, at: datetime | None
) -> SyncError:
    error.state = "resolved"
    error.resolved_at = ensure_aware(at or utc_now(), "at")
    error.resolved_by = actor
    error.resolution_note = note
    session.flush()
    return error


def _filtered(query: Select[Any], filters: ErrorFilter) -> Select[Any]:
    if filters.state is not None:
        query = query.where(SyncError.state == filters.state)
    if filters.failure_type is not None:
        query = query.where(SyncError.failure_type == filters.failure_type)
    if filters.opportunity is not None:
        query = query.where(SyncError.opportunity_id == filters.opportunity)
    return query


def _load(session: Session, error_id: int) -> SyncError:
    error = session.get(SyncError, error_id, populate_existing=True)
    if error is None:  # pragma: no cover - returned by the statement that wrote it
        raise NotInLedgerError(f"no error with id {error_id}")
    return error


def _require(session: Session, error_id: int) -> SyncError:
    error = session.get(SyncError, error_id)
    if error is None:
        raise NotInLedgerError(f"no error with id {error_id}")
    return error


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise LedgerError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = [
    "ERROR_STATES",
    "ErrorFilter",
    "Failure",
    "active_error",
    "count_errors",
    "counts_by_class",
    "failure_types_seen",
    "get_error",
    "list_errors",
    "mark_retrying",
    "record_failure",
    "resolve",
    "resolve_for_success",
    "set_override",
]
