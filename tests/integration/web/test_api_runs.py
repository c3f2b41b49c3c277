"""Run history, ``/api/v1/health``, ``/metrics`` and who may call what, on a seeded ledger."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db.session import dispose_engines
from dealbridge.settings import Settings
from dealbridge.web.api.metrics import LATENCY_BUCKETS
from tests.integration.web.api_support import (
    OPPORTUNITY,
    OTHER_OPPORTUNITY,
    RUNS,
    Seeded,
    api_app,
    bearer,
    seed_ledger,
)
from tests.integration.web.web_client import token_for

OPERATOR_ROUTES = {
    ("POST", "/api/v1/errors/{error_id}/retry"),
    ("POST", "/api/v1/errors/{error_id}/resolve"),
    ("POST", "/api/v1/errors/{error_id}/edit-and-retry"),
    ("POST", "/api/v1/sync"),
}


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    yield api_app(settings)
    dispose_engines()


@pytest.fixture
def seeded(ledger: sessionmaker[Session]) -> Seeded:
    return seed_ledger(ledger)


@pytest.fixture
def viewer(ledger: sessionmaker[Session]) -> dict[str, str]:
    return bearer(token_for(ledger, "viewer"))


def _operations(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return [
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/api/v1/")
        for method in item
    ]


def _concrete(path: str) -> str:
    return path.replace("{error_id}", "1").replace("{run_id}", "some-run")


def test_every_api_route_refuses_anonymous_callers(client: TestClient) -> None:
    operations = _operations(client)
    assert len(operations) >= 10
    for method, path in operations:
        answer = client.request(method, _concrete(path), json={})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.headers["content-type"] == "application/problem+json"
    metrics = client.get("/metrics")
    assert metrics.status_code == 401
    assert "dealbridge_" not in metrics.text
    revoked = client.get("/metrics", headers={"Authorization": "Bearer dbt_not-a-real-token"})
    assert revoked.status_code == 401


def test_a_viewer_reaches_every_route_but_the_operators(
    client: TestClient, ledger: sessionmaker[Session], viewer: dict[str, str]
) -> None:
    operator = bearer(token_for(ledger, "operator"))
    operations = _operations(client)
    assert OPERATOR_ROUTES <= set(operations)
    for method, path in operations:
        answer = client.request(method, _concrete(path), json={}, headers=viewer)
        if (method, path) in OPERATOR_ROUTES:
            assert answer.status_code == 403, (method, path)
            assert client.request(
                method, _concrete(path), json={}, headers=operator
            ).status_code in (
                404,
                422,
            ), (method, path)
        else:
            assert answer.status_code not in (401, 403), (method, path)


def test_runs_list_filters_and_pages(client: TestClient, seeded: Seeded, viewer: dict) -> None:
    everything = client.get("/api/v1/runs", headers=viewer).json()
    assert everything["total"] == len(RUNS)
    newest_first = [name for name, *_ in reversed(RUNS)]
    assert [item["id"] for item in everything["items"]] == [
        seeded.run_ids[name] for name in newest_first
    ]
    for params, expected in [
        ({"status": "synced"}, {"synced-1", "synced-2"}),
        ({"trigger": "poller"}, {"synced-2", "failed"}),
        ({"opportunity": OPPORTUNITY}, {"synced-1", "failed"}),
        ({"opportunity": OTHER_OPPORTUNITY[:15]}, {"synced-2", "unchanged"}),  # 15-char id
        ({"status": "failed", "trigger": "poller"}, {"failed"}),
    ]:
        page = client.get("/api/v1/runs", params=params, headers=viewer).json()
        assert {item["id"] for item in page["items"]} == {seeded.run_ids[n] for n in expected}
    first = client.get("/api/v1/runs", params={"limit": 4}, headers=viewer).json()
    assert first["next_offset"] == 4
    rest = client.get("/api/v1/runs", params={"limit": 4, "offset": 4}, headers=viewer).json()
    assert rest["next_offset"] is None
    seen = [item["id"] for item in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(seeded.run_ids.values())


def test_runs_filters_are_validated(client: TestClient, viewer: dict) -> None:
    for params, name in [
        ({"status": "done"}, "status"),
        ({"trigger": "email"}, "trigger"),
        ({"opportunity": "006-not-an-id"}, "opportunity"),
        ({"limit": 0}, "limit"),
        ({"limit": 500}, "limit"),
    ]:
        answer = client.get("/api/v1/runs", params=params, headers=viewer)
        assert answer.status_code == 422, params
        assert [error["loc"] for error in answer.json()["errors"]] == [["query", name]]


def test_a_run_with_its_steps_calls_and_records(
    client: TestClient, seeded: Seeded, viewer: dict
) -> None:
    run = client.get(f"/api/v1/runs/{seeded.run_ids['synced-1']}", headers=viewer).json()
    assert run["status"] == "synced"
    assert run["latency_ms"] == 2000
    assert run["steps"] == [
        {"step": "extract", "ms": 12.5, "status": None},
        {"step": "write_back", "ms": None, "status": "written"},
    ]
    assert [(c["system"], c["method"], c["status"]) for c in run["api_calls"]] == [
        ("salesforce", "GET", 200),
        ("netsuite", "PUT", 204),
        ("netsuite", "PUT", 204),
    ]
    assert run["records"] == [
        {"record_type": "customer", "external_id": "SFACC-1", "netsuite_id": "101"},
        {"record_type": "subscription", "external_id": "SUB-1", "netsuite_id": "202"},
    ]
    failed = client.get(f"/api/v1/runs/{seeded.run_ids['failed']}", headers=viewer).json()
    assert [(c["status"], c["error_code"]) for c in failed["api_calls"]] == [
        (400, "INVALID_FLD_VALUE"),
        (None, None),
    ]
    assert failed["records"] == []
    missing = client.get("/api/v1/runs/no-such-run", headers=viewer)
    assert missing.status_code == 404
    assert "no-such-run" not in missing.text


def test_health_reports_connections_queue_and_errors(
    client: TestClient, seeded: Seeded, viewer: dict
) -> None:
    health = client.get("/api/v1/health", headers=viewer).json()
    assert health["runtime"] == "none"
    assert health["queue"] is None  # no DBOS tables in this ledger: unknown, not zero
    assert health["open_errors"] == {
        "open": 2,
        "retrying": 0,
        "by_class": {"remote_rejection": 1, "validation": 1},
    }
    connections = {entry["system"]: entry for entry in health["connections"]}
    assert connections["salesforce"]["state"] == "ok"
    assert connections["salesforce"]["last_failure_at"] is None
    netsuite = connections["netsuite"]  # its newest call got no answer
    assert (netsuite["state"], netsuite["last_status"]) == ("failing", None)
    assert netsuite["last_failure_at"] is not None


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_match_the_seeded_ledger(client: TestClient, seeded: Seeded, viewer: dict) -> None:
    answer = client.get("/metrics", headers=viewer)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)

    def value(name: str, **labels: Any) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    finished = [status for *_, status, latency in RUNS if latency is not None]
    for status in ("synced", "unchanged", "invalid", "failed"):
        assert value("dealbridge_deals_total", status=status) == finished.count(status)
    latencies = seeded.latencies_ms
    assert value("dealbridge_deal_latency_seconds_count") == len(latencies)
    assert value("dealbridge_deal_latency_seconds_sum") == pytest.approx(sum(latencies) / 1000)
    for bound in LATENCY_BUCKETS:
        expected = sum(1 for ms in latencies if ms <= bound * 1000)
        assert value("dealbridge_deal_latency_seconds_bucket", le=f"{bound:g}") == expected
    assert value("dealbridge_deal_latency_seconds_bucket", le="+Inf") == len(latencies)
    assert value("dealbridge_api_calls_total", system="salesforce", status="200") == 1
    assert value("dealbridge_api_calls_total", system="netsuite", status="204") == 2
    assert value("dealbridge_api_calls_total", system="netsuite", status="400") == 1
    assert value("dealbridge_api_calls_total", system="netsuite", status="none") == 1
    assert value("dealbridge_open_errors", **{"class": "validation", "state": "open"}) == 1
    assert value("dealbridge_open_errors", **{"class": "remote_rejection", "state": "open"}) == 1
    assert value("dealbridge_open_errors", **{"class": "remote_outage", "state": "open"}) == 0
    assert value("dealbridge_queue_readable") == 0


def test_each_app_has_its_own_registry(settings: Settings, seeded: Seeded, viewer: dict) -> None:
    """Two apps in one process: both answer, neither registers in the global registry."""
    for _ in range(2):
        with TestClient(api_app(settings)) as client:
            assert client.get("/metrics", headers=viewer).status_code == 200
    assert not [family.name for family in REGISTRY.collect() if "dealbridge" in family.name]
