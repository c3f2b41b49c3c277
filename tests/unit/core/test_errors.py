"""The error tree: classification defaults, and surviving pickle (the engine's checkpoints)."""

from __future__ import annotations

import pickle

import pytest

from dealbridge.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    DealbridgeError,
    DuplicateError,
    NotFoundError,
    RateLimitedError,
    RemoteRejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
    WebhookError,
)

ALL_ERRORS = [
    DealbridgeError("boom", context={"deal": "006A"}),
    ConfigError("bad setting"),
    ConnectorError("x", system="netsuite", operation="GET customer/1", status=400, code="C"),
    AuthError("no", system="netsuite", status=401, code="INVALID_LOGIN"),
    TransientError("down", system="salesforce", status=503),
    RateLimitedError("slow", system="netsuite", status=429, retry_after=2.5),
    RemoteRejectedError("bad", system="netsuite", status=400, field_path="subsidiary"),
    NotFoundError("gone", system="netsuite", status=404),
    DuplicateError("dup", system="netsuite", status=400),
    UnexpectedResponseError("odd", system="netsuite", status=200),
    ValidationError("too long", record="Account 001", field_path="Name", rule="max_length"),
    WebhookError("hostile xml", status=400),
]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_survives_a_pickle_round_trip(error: DealbridgeError) -> None:
    clone = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(clone) is type(error)
    assert clone.__dict__ == error.__dict__
    assert str(clone) == str(error)
    assert clone.args == error.args


@pytest.mark.parametrize(
    ("error", "retryable", "failure_type"),
    [
        (ConfigError("c"), False, "config"),
        (AuthError("a", system="netsuite"), False, "auth"),
        (TransientError("t", system="netsuite"), True, "remote_outage"),
        (RateLimitedError("r", system="netsuite"), True, "rate_limit"),
        (RemoteRejectedError("r", system="netsuite"), False, "remote_rejection"),
        (UnexpectedResponseError("u", system="netsuite"), False, "bug"),
        (ValidationError("v", record="r", field_path="f", rule="x"), False, "validation"),
        (WebhookError("w"), False, "webhook"),
    ],
)
def test_classification_defaults(
    error: DealbridgeError, retryable: bool, failure_type: str
) -> None:
    assert error.retryable is retryable
    assert error.failure_type == failure_type


def test_explicit_classification_overrides_the_default() -> None:
    error = AuthError("slow login", system="netsuite", retryable=True)
    assert error.retryable is True
    assert error.failure_type == "auth"


def test_as_dict_carries_remote_coordinates() -> None:
    error = RemoteRejectedError(
        "Invalid Field Value 9999 for the following field: item",
        system="netsuite",
        operation="PUT subscriptionPlan/eid:SFPLAN-1",
        status=400,
        code="INVALID_KEY_OR_REF",
        request_id="abc",
        field_path="member.items[0].item",
        user_message="NetSuite does not know item 9999.",
    )
    data = error.as_dict()
    assert data["field_path"] == "member.items[0].item"
    assert data["code"] == "INVALID_KEY_OR_REF"
    assert data["user_message"] == "NetSuite does not know item 9999."
    assert data["retryable"] is False
