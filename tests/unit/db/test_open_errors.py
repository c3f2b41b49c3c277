"""Open errors: one per opportunity, counted, auto-resolved on success, worked by people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dealbridge.db.ledger_errors import InvalidTransitionError, LedgerError, NotInLedgerError
from dealbridge.db.open_errors import (
    AUTO_RETRY_COUNT_KEY,
    RETRY_COUNT_KEY,
    ErrorFilter,
    Failure,
    active_error,
    count_errors,
    counts_by_class,
    due_for_auto_retry,
    failure_types_seen,
    get_error,
    list_errors,
    mark_retrying,
    record_failure,
    resolve,
    resolve_for_success,
    set_override,
)
from dealbridge.db.runs import finish_run, get_run, start_run
from dealbridge.errors import (
    AuthError,
    RateLimitedError,
    RemoteRejectedError,
    TransientError,
    ValidationError,
)

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
REJECTED = Failure(
    failure_type="remote_rejection",
    message="Invalid value for field subsidiary",
    user_message="NetSuite refused the customer: the subsidiary does not exist.",
    record_type="customer",
    external_id="SFACC-001",
    field_path="subsidiary",
    remote_code="USER_ERROR",
    remote_status=400,
    request_id="req-9",
    context={"operation": "PUT customer/eid:SFACC-001"},
)


def _fail(
    session: Session,
    opportunity: str = "006A",
    *,
    failure: Failure = REJECTED,
    at: datetime = T0,
    run_id: str = "run-1",
) -> int:
    error = record_failure(
        session, failure, opportunity_id=opportunity, account_id="001A", run_id=run_id, at=at
    )
    return error.id


def test_first_failure_opens_an_error(session: Session) -> None:
    error = get_error(session, _fail(session))
    assert error is not None
    assert (error.state, error.occurrences) == ("open", 1)
    assert (error.first_seen_at, error.last_seen_at) == (T0, T0)
    assert (error.record_type, error.external_id, error.field_path) == (
        "customer",
        "SFACC-001",
        "subsidiary",
    )
    assert (error.remote_code, error.remote_status, error.request_id) == (
        "USER_ERROR",
        400,
        "req-9",
    )
    assert error.user_message.startswith("NetSuite refused")
    assert error.violations == []
    assert error.context == {"operation": "PUT customer/eid:SFACC-001"}


def test_repeat_failure_updates_the_open_error(session: Session) -> None:
    first = _fail(session)
    later = T0 + timedelta(hours=1)
    outage = Failure(failure_type="remote_outage", message="503 from NetSuite")
    second = _fail(session, failure=outage, at=later, run_id="run-2")
    assert second == first
    error = get_error(session, first)
    assert error is not None
    assert (error.occurrences, error.first_seen_at, error.last_seen_at) == (2, T0, later)
    assert (error.failure_type, error.message, error.run_id) == (
        "remote_outage",
        "503 from NetSuite",
        "run-2",
    )
    assert error.user_message == "503 from NetSuite"  # defaults to the message
    assert error.field_path is None  # latest facts replace the old ones
    assert count_errors(session) == 1


def test_other_opportunities_get_their_own_errors(session: Session) -> None:
    assert _fail(session, "006A") != _fail(session, "006B")
    assert count_errors(session, ErrorFilter(state="open")) == 2


def test_success_resolves_automatically(session: Session) -> None:
    error_id = _fail(session)
    resolved = resolve_for_success(session, "006A", run_id="run-2", at=T0 + timedelta(hours=2))
    assert resolved is not None
    assert resolved.id == error_id
    assert (resolved.state, resolved.resolved_by) == ("resolved", "system")
    assert resolved.resolution_note is not None
    assert resolved.resolution_note.startswith("synced on retry")
    assert resolved.resolved_at == T0 + timedelta(hours=2)
    assert active_error(session, "006A") is None
    assert resolve_for_success(session, "006A", run_id="run-3") is None


def test_failure_after_resolution_opens_a_new_error(session: Session) -> None:
    first = _fail(session)
    resolve_for_success(session, "006A", "run-2")
    second = _fail(session, at=T0 + timedelta(days=1))
    assert second != first
    assert count_errors(session, ErrorFilter(opportunity="006A")) == 2
    assert count_errors(session, ErrorFilter(state="open")) == 1


def test_retrying_then_failing_again_reopens_the_same_error(session: Session) -> None:
    error_id = _fail(session)
    retrying = mark_retrying(session, error_id, actor="alice")
    assert retrying.state == "retrying"
    assert active_error(session, "006A") is not None
    assert _fail(session, at=T0 + timedelta(minutes=5)) == error_id
    error = get_error(session, error_id)
    assert error is not None
    assert (error.state, error.occurrences) == ("open", 2)


def test_a_repeat_failure_keeps_the_retry_count_and_replaces_the_rest_of_the_context(
    session: Session,
) -> None:
    # Regression: the count was replaced with the new failure's context, so the next retry got
    # the id of a finished retry workflow and never ran.
    error_id = _fail(session)
    error = get_error(session, error_id)
    assert error is not None
    error.context = {RETRY_COUNT_KEY: 2, "step": "wave_1"}
    session.flush()
    outage = Failure("remote_outage", "503 from NetSuite", context={"step": "plan"})
    assert _fail(session, failure=outage, at=T0 + timedelta(minutes=5)) == error_id
    error = get_error(session, error_id)
    assert error is not None
    assert error.context == {RETRY_COUNT_KEY: 2, "step": "plan"}


def test_retrying_then_succeeding_resolves(session: Session) -> None:
    error_id = _fail(session)
    mark_retrying(session, error_id, actor="alice")
    resolved = resolve_for_success(session, "006A", "run-2")
    assert resolved is not None
    assert (resolved.id, resolved.state) == (error_id, "resolved")


def test_manual_resolution(session: Session) -> None:
    error_id = _fail(session)
    done = resolve(
        session, error_id, "bob", "fixed in NetSuite by hand", at=T0 + timedelta(hours=1)
    )
    assert (done.state, done.resolved_by, done.resolution_note) == (
        "resolved",
        "bob",
        "fixed in NetSuite by hand",
    )
    again = resolve(session, error_id, "carol", "me too")
    assert (again.resolved_by, again.resolved_at) == ("bob", T0 + timedelta(hours=1))


def test_resolved_errors_cannot_be_retried_or_edited(session: Session) -> None:
    error_id = _fail(session)
    resolve(session, error_id, "bob", "done")
    with pytest.raises(InvalidTransitionError, match="resolved"):
        mark_retrying(session, error_id, "alice")
    override = {"record_type": "customer", "external_id": "SFACC-001", "payload": {}}
    with pytest.raises(InvalidTransitionError, match="resolved"):
        set_override(session, error_id, override, "alice")


def test_missing_errors(session: Session) -> None:
    assert get_error(session, 404) is None
    with pytest.raises(NotInLedgerError, match="no error with id 404"):
        mark_retrying(session, 404, "alice")
    with pytest.raises(NotInLedgerError):
        resolve(session, 404, "alice", "x")


def test_set_override(session: Session) -> None:
    error_id = _fail(session)
    override = {
        "record_type": "customer",
        "external_id": "SFACC-001",
        "payload": {"subsidiary": {"id": "1"}},
    }
    error = set_override(session, error_id, override, "alice")
    assert error.override == {**override, "set_by": "alice"}
    with pytest.raises(LedgerError, match="an override needs"):
        set_override(session, error_id, {"record_type": "customer"}, "alice")
    with pytest.raises(LedgerError, match="dict payload"):
        set_override(session, error_id, {**override, "payload": "text"}, "alice")


def test_unknown_failure_type_is_refused(session: Session) -> None:
    with pytest.raises(LedgerError, match="unknown failure type 'gremlins'"):
        _fail(session, failure=Failure(failure_type="gremlins", message="?"))


def test_list_errors_filters_and_order(session: Session) -> None:
    _fail(session, "006A", at=T0)
    _fail(session, "006B", at=T0 + timedelta(minutes=1), failure=Failure("validation", "bad"))
    third = _fail(session, "006C", at=T0 + timedelta(minutes=2))
    resolve(session, third, "bob", "done")
    assert [e.opportunity_id for e in list_errors(session)] == ["006C", "006B", "006A"]
    assert [e.opportunity_id for e in list_errors(session, ErrorFilter(state="open"))] == [
        "006B",
        "006A",
    ]
    only_validation = ErrorFilter(failure_type="validation")
    assert [e.opportunity_id for e in list_errors(session, only_validation)] == ["006B"]
    assert [e.opportunity_id for e in list_errors(session, limit=1, offset=1)] == ["006B"]


def test_counts_by_class_and_types_seen(session: Session) -> None:
    _fail(session, "006A", at=T0 + timedelta(hours=1))
    _fail(session, "006B", at=T0)
    _fail(session, "006C", failure=Failure("validation", "bad"), at=T0 + timedelta(hours=2))
    resolve_for_success(session, "006A", "r")
    assert counts_by_class(session) == {"remote_rejection": 1, "validation": 1}
    assert counts_by_class(session, state=None) == {"remote_rejection": 2, "validation": 1}
    assert counts_by_class(session, state="resolved") == {"remote_rejection": 1}
    seen = failure_types_seen(session)
    assert seen == {"remote_rejection": T0, "validation": T0 + timedelta(hours=2)}
    assert all(first.tzinfo is UTC for first in seen.values())


def test_run_points_at_its_error(session: Session) -> None:
    run = start_run(session, workflow_id="wf", opportunity_id="006A", trigger="poller")
    error_id = _fail(session, run_id=run.id)
    finish_run(session, run.id, status="failed", error_id=error_id)
    stored = get_run(session, run.id)
    assert stored is not None
    assert stored.error_id == error_id


class TestFailureFromError:
    def test_remote_rejection(self) -> None:
        error = RemoteRejectedError(
            "Invalid field value",
            system="netsuite",
            operation="PUT customer/eid:SFACC-001",
            status=400,
            code="USER_ERROR",
            request_id="abc",
            field_path="subsidiary",
            context={"record_type": "customer", "external_id": "SFACC-001"},
        )
        failure = Failure.from_error(error)
        assert (failure.failure_type, failure.remote_code, failure.remote_status) == (
            "remote_rejection",
            "USER_ERROR",
            400,
        )
        assert (failure.record_type, failure.external_id, failure.field_path) == (
            "customer",
            "SFACC-001",
            "subsidiary",
        )
        assert failure.request_id == "abc"

    def test_validation(self) -> None:
        error = ValidationError(
            "Account name too long", record="customer", field_path="companyName", rule="max_length"
        )
        violations = [{"field": "companyName", "rule": "max_length"}]
        failure = Failure.from_error(error, violations=violations)
        assert (failure.failure_type, failure.field_path, failure.violations) == (
            "validation",
            "companyName",
            violations,
        )
        assert failure.remote_status is None

    @pytest.mark.parametrize(
        ("error", "kind"),
        [
            (AuthError("denied", system="netsuite"), "auth"),
            (RateLimitedError("slow down", system="netsuite"), "rate_limit"),
            (TransientError("503", system="salesforce"), "remote_outage"),
        ],
    )
    def test_classification(self, error: TransientError | AuthError, kind: str) -> None:
        assert Failure.from_error(error).failure_type == kind


def test_due_for_auto_retry_picks_open_errors_of_passing_causes_once_old_enough(
    session: Session,
) -> None:
    outage = Failure("remote_outage", "503 from NetSuite")
    old_outage = _fail(session, "006OLD", failure=outage, at=T0)
    _fail(session, "006NEW", failure=outage, at=T0 + timedelta(minutes=50))  # too recent
    _fail(session, "006DATA", at=T0)  # a refused record: not a passing cause
    capped = _fail(session, "006CAP", failure=outage, at=T0)
    error = get_error(session, capped)
    assert error is not None
    error.context = {AUTO_RETRY_COUNT_KEY: 3}
    retrying = _fail(session, "006RETRY", failure=outage, at=T0)
    mark_retrying(session, retrying, actor="alice")
    older = _fail(session, "006OLDER", failure=outage, at=T0 - timedelta(hours=1))
    session.flush()
    classes = ("rate_limit", "remote_outage")

    due = due_for_auto_retry(session, classes, T0 + timedelta(minutes=30), 3, limit=10)

    assert due == [older, old_outage]  # oldest failure first
    assert due_for_auto_retry(session, classes, T0 + timedelta(minutes=30), 3, limit=1) == [older]
    assert capped in due_for_auto_retry(session, classes, T0 + timedelta(minutes=30), 4, limit=10)
