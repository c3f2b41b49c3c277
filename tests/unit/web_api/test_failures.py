"""Which HTTP answer each domain error gets, and that the API's enumerations match the ledger's."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from dealbridge.db.ledger_errors import InvalidTransitionError, LedgerError, NotInLedgerError
from dealbridge.db.models import ERROR_STATES, RUN_STATUSES, TRIGGERS
from dealbridge.errors import (
    FAILURE_TYPES,
    ConfigError,
    NotFoundError,
    TransientError,
    ValidationError,
)
from dealbridge.web.api.errors import ErrorState, FailureClass
from dealbridge.web.api.failures import BearerRequiredError, problem_for
from dealbridge.web.api.runs import RunStatus, RunTrigger
from dealbridge.web.problems import PROBLEM_JSON


def _answer(error: Exception) -> tuple[int, dict[str, object]]:
    assert isinstance(error, LedgerError | ConfigError | NotFoundError | TransientError |
                      ValidationError | BearerRequiredError)  # fmt: skip
    response = problem_for(error)
    assert response.media_type == PROBLEM_JSON
    return response.status_code, json.loads(bytes(response.body))


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotInLedgerError("no such error"), 404),
        (NotFoundError("Salesforce has no Opportunity", system="salesforce"), 404),
        (InvalidTransitionError("error 3 is resolved"), 409),
        (TransientError("NetSuite answered 503", system="netsuite"), 502),
        (ConfigError("no dealbridge runtime is launched"), 503),
        (LedgerError("unsupported"), 503),
        (BearerRequiredError("a bearer token is required"), 401),
    ],
)
def test_status_of_each_error(error: Exception, status: int) -> None:
    assert _answer(error)[0] == status


def test_a_validation_error_names_its_field() -> None:
    error = ValidationError(
        "the edited payload must be a JSON object", record="override", field_path="payload",
        rule="override",
    )  # fmt: skip
    status, body = _answer(error)
    assert status == 422
    assert body["errors"] == [
        {"loc": ["body", "payload"], "msg": "the edited payload must be a JSON object",
         "type": "override"}
    ]  # fmt: skip


def test_server_side_answers_do_not_quote_the_failure() -> None:
    secret_url = "postgresql://dealbridge:Pa55word@db.internal/ledger"
    for error in (
        ConfigError(f"cannot reach {secret_url}"),
        TransientError(f"POST {secret_url} failed", system="netsuite"),
    ):
        _status, body = _answer(error)
        assert "Pa55word" not in json.dumps(body)


def test_a_bearer_refusal_asks_for_a_token() -> None:
    response = problem_for(BearerRequiredError("a bearer token is required"))
    assert response.headers["www-authenticate"] == "Bearer"


def test_enumerations_match_the_ledger() -> None:
    assert set(get_args(RunStatus)) == set(RUN_STATUSES)
    assert set(get_args(RunTrigger)) == set(TRIGGERS)
    assert set(get_args(ErrorState)) == set(ERROR_STATES)
    assert set(get_args(FailureClass)) == set(FAILURE_TYPES)
