"""How a deal's failure is classified, worded and reported: pure functions, no I/O.

Why the workflow turns failures into data instead of raising: an expected failure (bad data, a
refusal, an outage that outlived the retries) is an *outcome* of the deal — an open error in the
console and "Failed" on the opportunity — and DBOS's ERROR status is kept for bugs in the engine
itself, where replaying would fail the same way. A step error reaches the workflow either as
itself (not retryable) or wrapped in ``DBOSMaxStepRetriesExceeded`` (retries used up); anything
that is not a ``DealbridgeError`` is a bug somewhere below us and is classified ``bug``, with its
traceback kept in the error's context so nobody has to search the logs.
"""

from __future__ import annotations

import traceback
from typing import Any

from dbos import error as dbos_errors

from dealbridge.db.open_errors import Failure
from dealbridge.errors import DealbridgeError, ValidationError
from dealbridge.sync.overrides import operations_about

MAX_ERROR_TEXT = 32_000  # NetSuite_Sync_Error__c is a long text area of 32,768 characters
_MAX_TRACEBACK = 8_000


def as_dealbridge_error(exc: BaseException) -> DealbridgeError:
    """The ``DealbridgeError`` behind a step failure (unwrapped, or a ``bug`` wrapping it)."""
    if isinstance(exc, dbos_errors.DBOSMaxStepRetriesExceeded) and exc.errors:
        exc = exc.errors[-1]
    if isinstance(exc, DealbridgeError):
        return exc
    text = "".join(traceback.format_exception(exc))[-_MAX_TRACEBACK:]
    return DealbridgeError(
        f"{type(exc).__name__}: {exc}",
        failure_type="bug",
        user_message="dealbridge hit an internal error; the details are in the error's context.",
        context={"exception": type(exc).__name__, "traceback": text},
    )


def violations_error(
    violations: list[dict[str, Any]], operations: list[dict[str, Any]]
) -> ValidationError:
    """One ``ValidationError`` for a plan's blocking violations, naming the first one's record.

    ``operations`` (the plan document's) turn the flow's record name into the NetSuite record
    type and external id of the operation the violation is about, when there is one.
    """
    errors = [v for v in violations if v.get("severity", "error") == "error"]
    first = errors[0]
    operation = _operation_of(first, operations)
    lines = [f"{v['record']}.{v['field']}: {v['message']}" for v in errors]
    count = "1 problem blocks" if len(errors) == 1 else f"{len(errors)} problems block"
    return ValidationError(
        f"{count} this deal: " + "; ".join(lines),
        record=first["record"],
        field_path=first["field"],
        rule=first["rule"],
        # A person reads each problem once: a check on a repeated record (a quote's two
        # packages) says the same sentence twice; the violations in the context keep both.
        user_message="\n".join(dict.fromkeys(v["message"] for v in errors)),
        context={
            "record_type": operation["type"] if operation else first["record"],
            "external_id": operation["external_id"] if operation else None,
            "salesforce_record": f"{first['sobject']} {first['salesforce_id']}",
            "violations": errors,
        },
    )


def failure_of(error: DealbridgeError, account_id: str | None) -> Failure:
    """The open error to record for ``error`` (violations included for validation)."""
    if account_id:
        error.context.setdefault("account_id", account_id)
    violations = error.context.get("violations")
    return Failure.from_error(error, violations=violations if isinstance(violations, list) else [])


def run_status_of(error: DealbridgeError) -> str:
    """``invalid`` for bad data (nothing was written), ``failed`` for everything else."""
    return "invalid" if error.failure_type == "validation" else "failed"


def error_text(error: DealbridgeError) -> str:
    """What the opportunity shows in ``NetSuite_Sync_Error__c``: the user's sentence, bounded."""
    text = error.user_message or error.message
    where = _where(error)
    if where and where not in text:
        text = f"{text} ({where})"
    return text[:MAX_ERROR_TEXT]


def _where(error: DealbridgeError) -> str:
    record = error.context.get("record_type")
    external_id = error.context.get("external_id")
    field = getattr(error, "field_path", None)
    parts = [str(p) for p in (record, external_id) if p]
    place = "/".join(parts)
    return f"{place} field {field}" if place and field else place


def _operation_of(
    violation: dict[str, Any], operations: list[dict[str, Any]]
) -> dict[str, Any] | None:
    candidates = operations_about(violation, operations)
    return candidates[0] if candidates else None


def is_engine_control(exc: BaseException) -> bool:
    """DBOS's own signals (cancellation, a replay mismatch) must reach DBOS, not an open error."""
    return isinstance(exc, dbos_errors.DBOSException) and not isinstance(
        exc, dbos_errors.DBOSMaxStepRetriesExceeded
    )
