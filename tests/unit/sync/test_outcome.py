"""How failures are classified and worded (pure functions of ``sync.outcome``)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from dbos import error as dbos_errors

from dealbridge.errors import (
    DealbridgeError,
    RemoteRejectedError,
    TransientError,
    ValidationError,
)
from dealbridge.sync.outcome import (
    MAX_ERROR_TEXT,
    as_dealbridge_error,
    error_text,
    failure_of,
    run_status_of,
    violations_error,
)


def _violation(**changes: Any) -> dict[str, Any]:
    violation = {
        "sobject": "Account",
        "salesforce_id": "001000000000001AAA",
        "record": "customer",
        "field": "companyName",
        "rule": "max_length",
        "message": "The account name is 120 characters long; NetSuite allows at most 83.",
        "severity": "error",
    }
    return {**violation, **changes}


OPERATIONS = [
    {
        "name": "customer",
        "type": "customer",
        "external_id": "SFACC-001000000000001AAA",
        "source": ["Account", "001000000000001AAA"],
    }
]


def test_a_dealbridge_error_is_kept() -> None:
    error = RemoteRejectedError("no", system="netsuite", code="USER_ERROR")
    assert as_dealbridge_error(error) is error


def test_exhausted_retries_unwrap_to_the_last_error() -> None:
    last = TransientError("still down", system="netsuite", status=503)
    first = TransientError("down", system="netsuite", status=500)
    wrapped = dbos_errors.DBOSMaxStepRetriesExceeded("wave_1", 3, [first, last])
    error = as_dealbridge_error(wrapped)
    assert error is last
    assert error.failure_type == "remote_outage"


def test_an_unknown_exception_is_a_bug_with_its_traceback() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        error = as_dealbridge_error(exc)
    assert error.failure_type == "bug"
    assert not error.retryable
    assert "KeyError" in error.message
    assert "Traceback" in error.context["traceback"]
    assert pickle.loads(pickle.dumps(error)).context == error.context  # noqa: S301 - our own bytes


def test_violations_become_one_validation_error_naming_the_record() -> None:
    error = violations_error([_violation(), _violation(severity="warning")], OPERATIONS)
    assert isinstance(error, ValidationError)
    assert error.failure_type == "validation"
    assert error.field_path == "companyName"
    assert error.context["record_type"] == "customer"
    assert error.context["external_id"] == "SFACC-001000000000001AAA"
    assert len(error.context["violations"]) == 1
    assert error.message.startswith("1 problem blocks this deal: customer.companyName:")


def test_the_same_sentence_twice_is_shown_once_and_both_violations_are_kept() -> None:
    """Regression: a quote's two packages failing one date check read the sentence twice."""
    dates = "Quote Q-00042 ends on 2027-03-29, before it starts on 2027-05-01."
    first = _violation(record="subscription", field="endDate", message=dates)
    second = {**first, "salesforce_id": "a0x000000000002AAA"}
    other = _violation()
    error = violations_error([first, second, other], OPERATIONS)
    assert error.user_message == f"{dates}\n{other['message']}"
    assert error.context["violations"] == [first, second, other]
    assert str(error).startswith("3 problems block this deal")


def test_the_open_error_carries_the_violations_and_remote_facts() -> None:
    failure = failure_of(violations_error([_violation()], OPERATIONS), "001000000000001AAA")
    assert failure.failure_type == "validation"
    assert failure.record_type == "customer"
    assert failure.field_path == "companyName"
    assert failure.violations[0]["rule"] == "max_length"
    assert failure.context["account_id"] == "001000000000001AAA"
    remote = RemoteRejectedError(
        "too long",
        system="netsuite",
        status=400,
        code="USER_ERROR",
        request_id="req-1",
        field_path="url",
        context={"record_type": "customer", "external_id": "SFACC-1"},
    )
    failure = failure_of(remote, None)
    assert (failure.remote_code, failure.remote_status, failure.request_id) == (
        "USER_ERROR",
        400,
        "req-1",
    )
    assert (failure.record_type, failure.external_id, failure.field_path) == (
        "customer",
        "SFACC-1",
        "url",
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationError("x", record="r", field_path="f", rule="r"), "invalid"),
        (TransientError("x", system="netsuite"), "failed"),
        (DealbridgeError("x"), "failed"),
    ],
)
def test_run_status(error: DealbridgeError, status: str) -> None:
    assert run_status_of(error) == status


def test_error_text_names_the_record_and_is_bounded() -> None:
    error = RemoteRejectedError(
        "x" * 40_000,
        system="netsuite",
        field_path="url",
        user_message="NetSuite refused the customer.",
        context={"record_type": "customer", "external_id": "SFACC-1"},
    )
    assert error_text(error) == "NetSuite refused the customer. (customer/SFACC-1 field url)"
    error.user_message = "y" * 40_000
    assert len(error_text(error)) == MAX_ERROR_TEXT
