"""No configured secret appears in any API answer or log line, failures included."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from dealbridge.db.session import dispose_engines
from dealbridge.settings import Settings
from tests.integration.web.api_support import (
    OPPORTUNITY,
    api_app,
    bearer,
    copy_database,
    seed_ledger,
)
from tests.integration.web.web_client import token_for

SECRETS = {
    "session secret": "sess-" + "K3y9" * 12,
    "salesforce client secret": "sf-client-Secr3t-9911",
    "netsuite consumer secret": "ns-consumer-Secr3t-2288",
    "netsuite token secret": "ns-token-Secr3t-7744",
    "webhook token": "hook-T0ken-5566-abcdefgh",
}
UNREACHABLE = "http://127.0.0.1:9"  # discard port: connection refused


def test_no_secret_in_any_api_answer_or_log(
    tmp_path: Path, web_ledger_template: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "ledger.sqlite3"
    copy_database(web_ledger_template, database)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{database}",
        webhook_token=SECRETS["webhook token"],
        web={"session_secret": SECRETS["session secret"]},
        salesforce={
            "instance_url": UNREACHABLE,
            "login_url": UNREACHABLE,
            "auth_mode": "client_credentials",
            "client_id": "dealbridge-app",
            "client_secret": SECRETS["salesforce client secret"],
            "max_attempts": 1,
        },
        netsuite={
            "account": "1234567",
            "base_url": UNREACHABLE,
            "auth_mode": "tba",
            "consumer_key": "ck",
            "consumer_secret": SECRETS["netsuite consumer secret"],
            "token_id": "tid",
            "token_secret": SECRETS["netsuite token secret"],
            "max_attempts": 1,
        },
    )
    app = api_app(settings)
    ledger = app.state.dealbridge.ledger
    seeded = seed_ledger(ledger)
    admin = token_for(ledger, "admin")
    viewer = token_for(ledger, "viewer")
    answers: list[str] = []
    caplog.set_level(logging.DEBUG)
    error_id = seeded.error_ids["rejected"]
    with capture_logs() as structured, TestClient(app) as client:
        for token in (admin, viewer, admin + "x", None):
            headers = bearer(token) if token else {}
            calls = [
                ("GET", "/api/v1/runs", None),
                ("GET", f"/api/v1/runs/{seeded.run_ids['failed']}", None),
                ("GET", "/api/v1/errors", None),
                ("GET", f"/api/v1/errors/{error_id}", None),
                ("GET", "/api/v1/health", None),
                ("GET", "/metrics", None),
                ("GET", "/api/v1/openapi.json", None),
                ("POST", "/api/v1/dry-run", {"opportunity_id": OPPORTUNITY}),
                ("POST", "/api/v1/sync", {"opportunity_id": OPPORTUNITY}),
                ("POST", f"/api/v1/errors/{error_id}/retry", None),
                ("POST", f"/api/v1/errors/{error_id}/edit-and-retry", {"record_key": "x"}),
                ("POST", f"/api/v1/errors/{error_id}/resolve", {"reason": "checked"}),
            ]
            for method, path, body in calls:
                answer = client.request(method, path, json=body, headers=headers)
                head = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
                answers.append(f"{method} {path} {answer.status_code}\n{head}\n{answer.text}")
    dispose_engines()

    remote = [a for a in answers if a.startswith(("POST /api/v1/dry-run", "POST /api/v1/sync"))]
    assert any(" 502\n" in answer or " 503\n" in answer for answer in remote)  # they did fail
    everything = "\n".join([*answers, caplog.text, repr(structured)])
    for label, secret in SECRETS.items():
        assert secret not in everything, label
    for label, token in (("admin token", admin), ("viewer token", viewer)):
        assert token not in everything, label
