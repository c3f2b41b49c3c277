"""The Outbound Message listener in a web app, with queueing replaced by a recorder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dealbridge.connectors.salesforce.models import OUTBOUND_MESSAGE_PATH
from dealbridge.connectors.salesforce.outbound import Notification, build_outbound_message
from dealbridge.settings import SalesforceSettings, Settings
from dealbridge.web import create_web_app, hooks

TOKEN = "t0ken-for-the-unit-tests-0123456789"
ORG_ID = "00D5w000004qGTOEA2"
ACTION_ID = "04k5w000000TSwMAAW"
OPPORTUNITY = "0065w000023STAmAAO"
ACCOUNT = "0015w00002ABCDEAA5"
STAMP = "2026-05-01T10:00:00.000Z"


def notification(number: int = 1, *, opportunity: str = OPPORTUNITY, **fields: Any) -> Notification:
    """A won-deal notification; keyword arguments replace or add fields (None = xsi:nil)."""
    values: dict[str, Any] = {
        "Id": opportunity,
        "AccountId": ACCOUNT,
        "StageName": "Closed Won",
        "IsWon": True,
        "SystemModstamp": STAMP,
    }
    values.update(fields)
    return Notification(f"04l5w0000528{number:04d}AA", "Opportunity", values)


def message(*notifications: Notification, org_id: str = ORG_ID) -> bytes:
    return build_outbound_message(
        org_id,
        ACTION_ID,
        notifications or (notification(),),
        enterprise_url="https://acme.my.salesforce.com/services/Soap/c/65.0/00D5w000004qGTO",
        partner_url="https://acme.my.salesforce.com/services/Soap/u/65.0/00D5w000004qGTO",
    )


@dataclass
class Recorder:
    """Stands in for queueing: records each change, or fails on the n-th call."""

    changes: list[hooks.DealChange] = field(default_factory=list)
    fail_on: int | None = None

    async def __call__(self, change: hooks.DealChange) -> str:
        if self.fail_on is not None and len(self.changes) + 1 >= self.fail_on:
            raise RuntimeError("database is locked")
        self.changes.append(change)
        return f"deal:{change.opportunity_id}:{change.system_modstamp}"


@dataclass
class Listener:
    client: TestClient
    app: FastAPI
    recorder: Recorder

    def post(
        self, body: bytes, *, token: str = TOKEN, content_type: str = "text/xml; charset=utf-8"
    ) -> Any:
        return self.client.post(
            OUTBOUND_MESSAGE_PATH + token, content=body, headers={"Content-Type": content_type}
        )

    @property
    def counters(self) -> hooks.HookCounters:
        return hooks.hook_counters(self.app)


def listener_for(tmp_path: Path, **overrides: Any) -> Iterator[Listener]:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "salesforce": SalesforceSettings(org_id=ORG_ID),
        "webhook_token": SecretStr(TOKEN),
        "webhook_max_bytes": 4096,
    }
    values.update(overrides)
    app = create_web_app(Settings(**values), routers=[hooks.router])
    recorder = Recorder()
    app.dependency_overrides[hooks.change_enqueuer] = lambda: recorder
    with TestClient(app) as client:
        yield Listener(client, app, recorder)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    yield from listener_for(tmp_path)
