"""Every NetSuite failure becomes the right typed error, with the remote's coordinates (§5)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from dealbridge.connectors.netsuite.errors import (
    SLOW_INVALID_LOGIN_SECONDS,
    error_from_exception,
    error_from_response,
    json_body,
    parse_retry_after,
    request_id_of,
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
    UnexpectedResponseError,
)
from tests.unit.netsuite_client.conftest import BASE, problem

OPERATION = "PUT customer/eid:SFACC-001"
REQUEST = httpx.Request("PUT", f"{BASE}/record/v1/customer/eid:SFACC-001")


def answer(response: httpx.Response) -> httpx.Response:
    response.request = REQUEST
    return response


def mapped(response: httpx.Response, **kwargs: float) -> ConnectorError:
    return error_from_response(answer(response), OPERATION, **kwargs)


def test_field_path_code_and_detail_are_carried() -> None:
    detail = (
        "Error while accessing resource: You have entered an Invalid Field Value 9999 "
        "for the following field: item"
    )
    response = problem(400, "INVALID_CONTENT", detail, "item.items[0].item")
    response.headers["X-N-OperationId"] = "op-123"
    error = mapped(response)

    assert type(error) is RemoteRejectedError
    assert error.system == "netsuite"
    assert error.operation == OPERATION
    assert error.status == 400
    assert error.code == "INVALID_CONTENT"
    assert error.field_path == "item.items[0].item"
    assert error.request_id == "op-123"
    assert "item.items[0].item" in error.message
    assert "Invalid Field Value 9999" in error.message
    assert OPERATION in error.message
    assert "Invalid Field Value 9999" in error.user_message
    assert not error.retryable
    assert error.failure_type == "remote_rejection"


@pytest.mark.parametrize(
    ("response", "cls", "retryable"),
    [
        (problem(401, "INVALID_LOGIN", "Invalid login attempt."), AuthError, False),
        (problem(403, "INSUFFICIENT_PERMISSION", "Permission Violation"), AuthError, False),
        (problem(404, "NONEXISTENT_ID", "Record not found"), NotFoundError, False),
        (problem(429, "CONCURRENCY_LIMIT_EXCEEDED", "Request blocked."), RateLimitedError, True),
        (problem(400, "CONCURRENCY_LIMIT_EXCEEDED", "Request blocked."), RateLimitedError, True),
        (problem(500, "UNEXPECTED_ERROR", "An unexpected error occurred."), TransientError, True),
        (httpx.Response(503, text="upstream down"), TransientError, True),
        (problem(400, "USER_ERROR", "This record already exists"), DuplicateError, False),
        (problem(400, "DUP_ENTITY", "dup"), DuplicateError, False),
        (problem(400, "USER_ERROR", "Please enter a value for Name"), RemoteRejectedError, False),
        (
            problem(400, "INVALID_KEY_OR_REF", "Invalid subsidiary reference"),
            RemoteRejectedError,
            False,
        ),
        (problem(405, "INVALID_REQUEST", "Method not allowed"), RemoteRejectedError, False),
        (
            httpx.Response(302, headers={"Location": "https://elsewhere"}),
            UnexpectedResponseError,
            False,
        ),
    ],
)
def test_status_and_code_mapping(
    response: httpx.Response, cls: type[ConnectorError], retryable: bool
) -> None:
    error = mapped(response)
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.status == response.status_code


def test_429_status_wins_over_code_and_body() -> None:
    error = mapped(httpx.Response(429, text="Too Many Requests"))
    assert isinstance(error, RateLimitedError)
    assert error.code is None
    assert error.failure_type == "rate_limit"


def test_403_keeps_remote_code() -> None:
    error = mapped(problem(403, "INSUFFICIENT_PERMISSION", "Permission Violation"))
    assert error.code == "INSUFFICIENT_PERMISSION"
    assert error.failure_type == "auth"


def test_slow_invalid_login_is_treated_as_overload() -> None:
    response = problem(401, "INVALID_LOGIN", "Invalid login attempt.")
    error = mapped(response, elapsed=SLOW_INVALID_LOGIN_SECONDS + 40)
    assert isinstance(error, AuthError)
    assert error.retryable
    assert error.failure_type == "rate_limit"
    assert error.context["suspected_overload"] is True


def test_retry_after_seconds_is_honoured() -> None:
    response = problem(429, "CONCURRENCY_LIMIT_EXCEEDED", headers={"Retry-After": "7"})
    error = mapped(response)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7.0


def test_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 100 < seconds <= 120


@pytest.mark.parametrize("value", [None, "", "soon", "-3"])
def test_retry_after_garbage_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_html_body_gives_text_without_tags() -> None:
    html = "<html><head><title>502</title></head><body><h1>Bad   Gateway</h1></body></html>"
    error = mapped(httpx.Response(502, text=html, headers={"Content-Type": "text/html"}))
    assert isinstance(error, TransientError)
    assert "Bad Gateway" in error.message
    assert "<h1>" not in error.message


def test_plain_text_4xx_is_a_rejection_with_its_text() -> None:
    error = mapped(httpx.Response(400, text="bad things"))
    assert type(error) is RemoteRejectedError
    assert "bad things" in error.message
    assert error.code is None


def test_empty_404_still_explains() -> None:
    error = mapped(httpx.Response(404))
    assert isinstance(error, NotFoundError)
    assert "Not Found" in error.message


def test_json_that_is_not_a_problem_document() -> None:
    error = mapped(httpx.Response(400, json=["unexpected"]))
    assert type(error) is RemoteRejectedError


def test_several_details_are_all_reported() -> None:
    body = {
        "status": 400,
        "o:errorDetails": [
            {"detail": "first", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "companyName"},
            {"detail": "second", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "email"},
        ],
    }
    error = mapped(httpx.Response(400, json=body))
    assert error.field_path == "companyName"
    assert "first; second" in error.message


def test_known_secret_echoed_by_remote_is_masked() -> None:
    response = problem(400, "USER_ERROR", "token tok-VERY-SECRET-123 is not valid")
    error = error_from_response(answer(response), OPERATION, secrets=("tok-VERY-SECRET-123",))
    assert "tok-VERY-SECRET-123" not in error.message
    assert "tok-VERY-SECRET-123" not in error.user_message


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-N-OperationId", "a1"), ("NS_RTIMER_COMPOSITE", "b2"), ("x-request-id", "c3")],
)
def test_request_id_headers(header: str, value: str) -> None:
    assert request_id_of(httpx.Response(200, headers={header: value})) == value


def test_no_request_id() -> None:
    assert request_id_of(httpx.Response(200)) is None


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (httpx.ReadTimeout("timed out", request=REQUEST), True),
        (httpx.WriteTimeout("timed out", request=REQUEST), True),
        (httpx.ConnectTimeout("timed out", request=REQUEST), False),
        (httpx.PoolTimeout("timed out", request=REQUEST), False),
        (httpx.ConnectError("refused", request=REQUEST), False),
        (httpx.ReadError("reset", request=REQUEST), True),
        (httpx.RemoteProtocolError("peer closed", request=REQUEST), True),
    ],
)
def test_transport_failures_are_transient(exc: httpx.HTTPError, sent: bool) -> None:
    error = error_from_exception(exc, OPERATION)
    assert isinstance(error, TransientError)
    assert error.status is None
    assert error.retryable
    assert error.operation == OPERATION
    assert error.code == type(exc).__name__
    assert was_request_sent(error) is sent


def test_unsupported_protocol_is_config() -> None:
    error = error_from_exception(httpx.UnsupportedProtocol("ftp"), OPERATION)
    assert isinstance(error, ConfigError)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, text="<html>login</html>"),
    ],
)
def test_bad_json_in_2xx_is_unexpected(response: httpx.Response) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        json_body(answer(response), "GET customer/1")
    assert caught.value.status == 200
    assert caught.value.failure_type == "bug"


def test_json_body_returns_the_object() -> None:
    assert json_body(answer(httpx.Response(200, json={"id": "1"})), "GET customer/1") == {"id": "1"}


def test_errors_survive_pickle() -> None:
    response = problem(429, "CONCURRENCY_LIMIT_EXCEEDED", headers={"Retry-After": "3"})
    error = mapped(response)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is RateLimitedError
    assert copy.as_dict() == error.as_dict()
    assert copy.retry_after == 3.0
