"""schemathesis against the app's own OpenAPI document: no 5xx, no answer off its schema.

The app is a web-only node with both emulators behind it and DBOS's tables in place, on a seeded
ledger, so generated calls reach every layer: the ledger (runs and errors that exist, ids that
do not), the operator (retries queued through a DBOS client), Salesforce and NetSuite (sync and
dry-run of generated ids). Every operation gets a bounded number of valid (positive) and invalid
(negative) requests with an admin token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dealbridge.db.migrate import upgrade
from dealbridge.db.session import dispose_engines
from tests.integration.sync.harness import Emulators, running_emulators, settings_for
from tests.integration.web.api_support import add_dbos_tables, api_app, bearer, seed_ledger
from tests.integration.web.web_client import token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("schemathesis-emulators")) as started:
        started.reset()
        yield started


@pytest.fixture
def app(emulators: Emulators, tmp_path: Path) -> Iterator[FastAPI]:
    node = settings_for(emulators, tmp_path / "data")
    upgrade(node.resolved_database_url())
    add_dbos_tables(node)
    built = api_app(node)
    seed_ledger(built.state.dealbridge.ledger)
    yield built
    dispose_engines()


def test_every_operation_keeps_to_the_schema(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    auth = bearer(token_for(app.state.dealbridge.ledger, "admin"))
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {operation.path for operation in operations}
    assert {"/api/v1/runs", "/api/v1/errors/{error_id}/retry", "/api/v1/dry-run"} <= paths

    for operation in operations:
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
                continue  # nothing to get wrong (e.g. GET /healthz)

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def exchange(case: schemathesis.Case) -> None:
                response = case.call(headers=auth)
                case.validate_response(response, checks=CHECKS, headers=auth)

            exchange()


def _has_inputs(operation: schemathesis.APIOperation) -> bool:
    return any(len(group) for group in (operation.path_parameters, operation.query, operation.body))
