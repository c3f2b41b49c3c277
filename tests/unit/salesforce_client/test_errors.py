"""Error bodies (JSON arrays, contracts §1.8) mapped onto the error tree."""

from __future__ import annotations

import pickle

import httpx
import pytest

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.errors import (
    DAILY_LIMIT_RETRY_AFTER_SECONDS,
    MULTIPLE_CHOICES,
    error_from_exception,
    error_from_items,
    error_from_response,
    is_invalid_session,
    parse_errors,
    was_request_sent,
)
from dealbridge.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    DuplicateError,
    NotFoundError,
    RateLimitedError,
    RemoteRejectedError,
    TransientError,
)
from tests.unit.salesforce_client.conftest import sf_error

OPERATION = "PATCH sobjects/Account/0015w00002ABCDEAA2"


def mapped(response: httpx.Response) -> ConnectorError:
    return error_from_response(response, OPERATION)


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable", "failure_type"),
    [
        (401, "INVALID_SESSION_ID", AuthError, False, "auth"),
        (403, "REQUEST_LIMIT_EXCEEDED", RateLimitedError, True, "rate_limit"),
        (403, "INSUFFICIENT_ACCESS", AuthError, False, "auth"),
        (404, "NOT_FOUND", NotFoundError, False, "remote_rejection"),
        (404, "ENTITY_IS_DELETED", NotFoundError, False, "remote_rejection"),
        (400, "UNABLE_TO_LOCK_ROW", TransientError, True, "remote_outage"),
        (400, "DUPLICATE_VALUE", DuplicateError, False, "remote_rejection"),
        (400, "MALFORMED_QUERY", RemoteRejectedError, False, "remote_rejection"),
        (400, "INVALID_FIELD", RemoteRejectedError, False, "remote_rejection"),
        (400, "INVALID_TYPE", RemoteRejectedError, False, "remote_rejection"),
        (400, "REQUIRED_FIELD_MISSING", RemoteRejectedError, False, "remote_rejection"),
        (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", RemoteRejectedError, False, "remote_rejection"),
        (405, "METHOD_NOT_ALLOWED", RemoteRejectedError, False, "remote_rejection"),
        (410, "GONE", RemoteRejectedError, False, "config"),
        (500, "UNKNOWN_EXCEPTION", TransientError, True, "remote_outage"),
        (503, "SERVER_UNAVAILABLE", TransientError, True, "remote_outage"),
    ],
)
def test_the_mapping_table(
    status: int, code: str, cls: type[ConnectorError], retryable: bool, failure_type: str
) -> None:
    error = mapped(sf_error(status, code, "the remote words"))
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.failure_type == failure_type
    assert error.system == "salesforce"
    assert error.operation == OPERATION
    assert error.status == status
    assert error.code == code
    assert error.request_id is None  # Salesforce documents no request-id header (§1.7)
    assert "the remote words" in error.message


def test_request_limit_is_parked_long_and_names_the_limit() -> None:
    error = mapped(sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == DAILY_LIMIT_RETRY_AFTER_SECONDS
    assert "TotalRequests" in error.message


def test_concurrent_long_transactions_wait_less_than_the_daily_limit() -> None:
    error = mapped(
        sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded")
    )
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is not None
    assert 0 < error.retry_after < DAILY_LIMIT_RETRY_AFTER_SECONDS


def test_fields_become_the_field_path() -> None:
    error = mapped(
        sf_error(400, "REQUIRED_FIELD_MISSING", "Required fields are missing", ["Name", "Stage"])
    )
    assert error.field_path == "Name,Stage"
    assert "[fields: Name, Stage]" in error.message


def test_validation_rules_without_fields_have_no_field_path() -> None:
    error = mapped(sf_error(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Close date required", []))
    assert error.field_path is None
    assert error.user_message == "Salesforce rejected the data: Close date required"


def test_every_message_of_the_array_is_kept_and_the_first_code_wins() -> None:
    body = [
        {"errorCode": "INVALID_FIELD", "message": "No such column 'X'", "fields": ["X"]},
        {"errorCode": "MALFORMED_QUERY", "message": "unexpected token"},
    ]
    error = mapped(httpx.Response(400, json=body))
    assert error.code == "INVALID_FIELD"
    assert "No such column 'X'; unexpected token" in error.message


def test_a_300_is_a_duplicate_listing_the_matches() -> None:
    body = [
        "/services/data/v65.0/sobjects/Account/0015w00002ABCDEAA2",
        "/services/data/v65.0/sobjects/Account/0015w00002ABCDEAA3",
    ]
    error = mapped(httpx.Response(300, json=body))
    assert isinstance(error, DuplicateError)
    assert isinstance(error, RemoteRejectedError)
    assert error.code == MULTIPLE_CHOICES
    assert error.status == 300
    assert error.retryable is False
    assert error.context["matches"] == ["0015w00002ABCDEAA2", "0015w00002ABCDEAA3"]
    assert "0015w00002ABCDEAA3" in error.user_message


def test_a_non_json_body_is_summarised_without_tags() -> None:
    error = mapped(
        httpx.Response(503, text="<html><body><h1>Service Unavailable</h1></body></html>")
    )
    assert isinstance(error, TransientError)
    assert error.code is None
    assert "Service Unavailable" in error.message
    assert "<h1>" not in error.message


def test_collections_use_status_code_and_a_single_object_is_tolerated() -> None:
    items = parse_errors([{"statusCode": "DUPLICATE_VALUE", "message": "dup", "fields": ["Ext"]}])
    assert items[0].code == "DUPLICATE_VALUE"
    assert items[0].fields == ("Ext",)
    single = parse_errors({"errorCode": "NOT_FOUND", "message": "gone"})
    assert single[0].code == "NOT_FOUND"
    assert parse_errors("nonsense") == []


def test_record_level_errors_classify_by_code_alone() -> None:
    items = parse_errors([{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
    assert isinstance(error_from_items(None, items, "PATCH composite/sobjects"), TransientError)
    other = parse_errors([{"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "bad"}])
    assert type(error_from_items(None, other, "x")) is RemoteRejectedError


def test_rolled_back_siblings_never_name_the_failure() -> None:
    items = parse_errors(
        [
            {"errorCode": models.PROCESSING_HALTED, "message": "rolled back"},
            {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Name missing", "fields": ["Name"]},
        ]
    )
    error = error_from_items(400, items, "POST composite")
    assert error.code == "REQUIRED_FIELD_MISSING"
    assert "rolled back" not in error.message


def test_secrets_echoed_by_the_remote_are_masked() -> None:
    token = "00D5w000004qGTO!AR-secret-token-value"
    response = sf_error(401, "INVALID_SESSION_ID", f"Session {token} expired or invalid")
    error = error_from_response(response, OPERATION, secrets=(token,))
    assert token not in error.message
    assert token not in error.user_message


def test_invalid_session_is_recognised() -> None:
    assert is_invalid_session(mapped(sf_error(401, "INVALID_SESSION_ID")))
    assert not is_invalid_session(mapped(sf_error(403, "INSUFFICIENT_ACCESS")))


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow connect"), False),
        (httpx.PoolTimeout("pool"), False),
        (httpx.ReadTimeout("slow answer"), True),
        (httpx.RemoteProtocolError("reset"), True),
    ],
)
def test_transport_failures_are_transient_and_say_whether_sent(
    exc: httpx.HTTPError, sent: bool
) -> None:
    error = error_from_exception(exc, OPERATION)
    assert isinstance(error, TransientError)
    assert error.retryable
    assert error.status is None
    assert was_request_sent(error) is sent


def test_a_bad_scheme_is_configuration() -> None:
    error = error_from_exception(httpx.UnsupportedProtocol("ftp"), OPERATION)
    assert isinstance(error, ConfigError)


def test_errors_survive_a_pickle_round_trip() -> None:
    error = mapped(sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert isinstance(copy, RateLimitedError)
    assert isinstance(error, RateLimitedError)
    assert copy.as_dict() == error.as_dict()
    assert copy.retry_after == error.retry_after
