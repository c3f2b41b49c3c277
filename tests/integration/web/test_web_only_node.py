"""A web node without the sync runtime: its retries and queue depth go through the workers' DBOS.

The app is built with ``runtime=None``: nothing in the process has launched DBOS, so the console
and the API reach the ``deals`` queue through a ``DBOSClient`` of the workers' system database.
The workers' database is made the way production makes it, by a runtime launched once and shut
down; no worker runs afterwards, so whatever the node queues stays ``ENQUEUED`` where the
assertions read it back with a client of their own.

Every test runs on SQLite (the ledger and DBOS's tables in one file) and on PostgreSQL (one
database, DBOS in its own schema), the latter skipped with a reason when no server answers.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from dbos import DBOSClient
from dbos._sys_db import WorkflowStatus
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import audit, open_errors
from dealbridge.db.session import (
    dispose_engines,
    make_engine,
    make_session_factory,
    session_scope,
)
from dealbridge.settings import Settings
from dealbridge.sync.deal_sync import WORKFLOW_NAME
from dealbridge.sync.runtime import APP_NAME, ENGINE_VERSION, QUEUE_NAME, system_database_url
from dealbridge.web import api, console, create_web_app
from dealbridge.web.api import operations
from dealbridge.web.security.accounts import add_user
from dealbridge.web.security.passwords import Passwords
from tests.integration.web.api_support import (
    ACCOUNT,
    OPPORTUNITY,
    add_dbos_tables,
    bearer,
    copy_database,
    seed_ledger,
)
from tests.integration.web.web_client import (
    PASSWORDS,
    SESSION_SECRET,
    page_csrf,
    signed_in,
    token_for,
)
from tests.support import postgres_db

SECRET_PASSWORD = "hunter2-not-for-answers"
QUEUE_METRIC = 'data-metric="queue-depth">'
ANSWER_SECONDS = 20.0
POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.postgres)
T = TypeVar("T")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, or a skip saying why the server cannot be used."""
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_db.fresh_database("dealbridge_web_only") as url:
        yield url


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, web_ledger_template: Path) -> Path:
    """The users' ledger with the workers' DBOS tables in the same file, made once."""
    path = tmp_path_factory.mktemp("web-only-node") / "ledger.sqlite3"
    copy_database(web_ledger_template, path)
    add_dbos_tables(_settings(path.parent, f"sqlite:///{path}"))
    dispose_engines()
    return path


def _settings(directory: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=directory / "data",
        database_url=database_url,
        web={"session_secret": SESSION_SECRET},
    )


@pytest.fixture(params=["sqlite", POSTGRESQL])
def node_settings(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Settings:
    """Settings of the node and of the workers, whose first launch has made DBOS's tables."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.sqlite3"
        copy_database(sqlite_template, path)
        return _settings(tmp_path, f"sqlite:///{path}")
    settings = _settings(tmp_path, request.getfixturevalue("postgres_url"))
    add_dbos_tables(settings)  # also migrates the ledger
    _add_operator(settings)
    return settings


def _add_operator(settings: Settings) -> None:
    """The console's operator, on a ledger that did not come from the users' template."""
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            add_user(
                session,
                username="otto",
                password=PASSWORDS["otto"],
                role="operator",
                actor="fixture",
                passwords=Passwords(),
            )
    finally:
        engine.dispose()


@pytest.fixture
def node(node_settings: Settings) -> Iterator[FastAPI]:
    """The console and the API as ``serve`` wires them, but without a runtime."""
    app = create_web_app(node_settings, routers=[*api.routers, *console.routers])
    assert app.state.dealbridge.runtime is None
    yield app
    dispose_engines()


@pytest.fixture
def node_ledger(node: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = node.state.dealbridge.ledger
    return factory


@pytest.fixture
def error_id(node_ledger: sessionmaker[Session]) -> int:
    """An open error of ``OPPORTUNITY`` in ``ACCOUNT`` (with runs, calls and other errors)."""
    return seed_ledger(node_ledger).error_ids["rejected"]


@pytest.fixture
def operator_token(node_ledger: sessionmaker[Session]) -> dict[str, str]:
    return bearer(token_for(node_ledger, "operator", "ops-bot"))


def queued_deals(settings: Settings) -> list[WorkflowStatus]:
    """The ``deals`` queue as a worker would find it, read with a client of its own."""
    client = DBOSClient(
        system_database_url=system_database_url(settings), application_name=APP_NAME
    )
    try:
        return client.list_queued_workflows(queue_name=QUEUE_NAME)
    finally:
        client.destroy()


def error_state(ledger: sessionmaker[Session], error_id: int) -> str:
    with session_scope(ledger) as session:
        error = open_errors.get_error(session, error_id)
        assert error is not None
        return error.state


def retry_audit(ledger: sessionmaker[Session]) -> list[dict[str, object] | None]:
    with session_scope(ledger) as session:
        return [entry.detail for entry in audit.list_audit(session, action="error.retry")]


def dashboard_queue_depth(client: TestClient) -> str:
    page: str = client.get("/").text
    start = page.index(QUEUE_METRIC) + len(QUEUE_METRIC)
    return page[start : page.index("<", start)].strip()


def test_an_api_retry_puts_one_workflow_on_the_workers_queue(
    node: FastAPI, node_settings: Settings, error_id: int, operator_token: dict[str, str]
) -> None:
    with TestClient(node) as client:
        answer = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator_token)
        shown = client.get(f"/api/v1/errors/{error_id}", headers=operator_token).json()

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "error_id": error_id,
        "workflow_id": f"retry:{error_id}:1",
        "state": "retrying",
    }
    [queued] = queued_deals(node_settings)
    assert (queued.workflow_id, queued.status, queued.queue_name) == (
        f"retry:{error_id}:1",
        "ENQUEUED",
        QUEUE_NAME,
    )
    assert (queued.name, queued.app_version) == (WORKFLOW_NAME, ENGINE_VERSION)
    assert queued.queue_partition_key == ACCOUNT
    assert queued.input is not None
    assert queued.input["args"][0] == OPPORTUNITY
    assert queued.input["args"][1]["error_id"] == error_id
    assert shown["state"] == "retrying"


def test_a_second_api_retry_queues_a_new_workflow_and_never_the_same_id_twice(
    node: FastAPI, node_settings: Settings, error_id: int, operator_token: dict[str, str]
) -> None:
    """A retrying error may be retried again: that is retry number two, a workflow of its own."""
    with TestClient(node) as client:
        first = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator_token)
        second = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator_token)

    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert second.json()["workflow_id"] == f"retry:{error_id}:2"
    queued = Counter(status.workflow_id for status in queued_deals(node_settings))
    assert queued == {f"retry:{error_id}:1": 1, f"retry:{error_id}:2": 1}


def test_a_console_retry_puts_one_workflow_on_the_workers_queue(
    node: FastAPI, node_settings: Settings, node_ledger: sessionmaker[Session], error_id: int
) -> None:
    with signed_in(node, "otto") as client:
        form = {"csrf_token": page_csrf(client)}
        answer = client.post(f"/errors/{error_id}/retry", data=form)

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/errors/{error_id}?notice=retried"
    [queued] = queued_deals(node_settings)
    assert (queued.workflow_id, queued.status, queued.queue_name) == (
        f"retry:{error_id}:1",
        "ENQUEUED",
        QUEUE_NAME,
    )
    assert queued.input is not None
    assert queued.input["args"][0] == OPPORTUNITY
    assert error_state(node_ledger, error_id) == "retrying"
    assert retry_audit(node_ledger) == [{"workflow_id": f"retry:{error_id}:1"}]


def test_the_dashboard_and_the_api_count_what_a_retry_queued(
    node: FastAPI, error_id: int, operator_token: dict[str, str]
) -> None:
    with signed_in(node, "otto") as client:
        before = dashboard_queue_depth(client)
        health_before = client.get("/api/v1/health", headers=operator_token).json()
        retried = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator_token)
        after = dashboard_queue_depth(client)
        health_after = client.get("/api/v1/health", headers=operator_token).json()

    assert retried.status_code == 200, retried.text
    assert (before, after) == ("0", "1")
    assert health_before["runtime"] == "none"
    assert health_before["queue"] == {"enqueued": 0, "pending": 0, "capped": False}
    assert health_after["queue"] == {"enqueued": 1, "pending": 0, "capped": False}
    assert health_after["open_errors"]["retrying"] == 1


def closed_port() -> int:
    """A local port nothing listens on (bound once to pick it, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(
    params=["closed-port", pytest.param("missing-database", marks=pytest.mark.postgres)]
)
def unreachable_url(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL URL with a password that no workers' database answers at."""
    if request.param == "closed-port":
        return f"postgresql+psycopg://dealbridge:{SECRET_PASSWORD}@127.0.0.1:{closed_port()}/dbos"
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    missing = f"dealbridge_gone_{secrets.token_hex(6)}"
    host = f"{postgres_db.HOST}:{postgres_db.PORT}"
    return f"postgresql+psycopg://{postgres_db.USER}:{SECRET_PASSWORD}@{host}/{missing}"


def test_an_unreachable_workers_database_answers_503_and_leaves_the_error_open(
    node: FastAPI,
    node_ledger: sessionmaker[Session],
    error_id: int,
    operator_token: dict[str, str],
    unreachable_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ledger answers while the workers' database does not.

    Both share ``database_url`` in the settings, so the node is pointed elsewhere where it looks
    the workers' URL up: exactly what a node sees when that database goes away.
    """
    monkeypatch.setattr(operations, "system_database_url", lambda settings: unreachable_url)

    with TestClient(node) as client:
        answer = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator_token)
        health = client.get("/api/v1/health", headers=operator_token)

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 503
    for leak in (SECRET_PASSWORD, "postgresql", "psycopg", "127.0.0.1", unreachable_url):
        assert leak not in answer.text
    assert error_state(node_ledger, error_id) == "open"
    assert retry_audit(node_ledger) == []
    assert health.status_code == 200
    assert health.json()["queue"] is None


@pytest.fixture
def workers_database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The workers' own PostgreSQL database, made by their first launch: ``(name, URL)``."""
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    name = postgres_db.create_database("dealbridge_workers")
    try:
        url = postgres_db.url_of(name)
        add_dbos_tables(_settings(tmp_path / "workers", url))
        yield name, url
    finally:
        postgres_db.drop_database(name)


def answered_within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result, failing the test when it has not answered after ``seconds``.

    It runs on a daemon thread, so a call that never returns cannot hold up the test run.
    """
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(call())
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"no answer within {seconds} s: the node waits for a database that is gone")
    if errors:
        raise errors[0]
    return results[0]


@pytest.mark.postgres
def test_a_workers_database_that_goes_away_is_reported_not_waited_for(
    node: FastAPI,
    node_ledger: sessionmaker[Session],
    error_id: int,
    operator_token: dict[str, str],
    workers_database: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: the console kept one client, whose lost connection DBOS retried for ever."""
    name, url = workers_database
    monkeypatch.setattr(operations, "system_database_url", lambda settings: url)
    client = signed_in(node, "otto")  # not entered: a request that never ends must not block
    try:
        assert dashboard_queue_depth(client) == "0"
        postgres_db.drop_database(name)

        def ask() -> tuple[str, int, object]:
            depth = dashboard_queue_depth(client)
            retried = client.post(f"/api/v1/errors/{error_id}/retry", headers=operator_token)
            health = client.get("/api/v1/health", headers=operator_token)
            return depth, retried.status_code, health.json()["queue"]

        answers = answered_within(ANSWER_SECONDS, ask)
    finally:
        client.close()

    assert answers == ("unknown", 503, None)
    assert error_state(node_ledger, error_id) == "open"
