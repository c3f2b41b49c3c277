"""``flows preview`` against both emulators as real processes: create, unchanged, update.

A sound won deal of the seeded Salesforce org is previewed on an empty NetSuite (everything is
a create), written with the real client's upserts, previewed again (everything unchanged), then
one field is changed in NetSuite by a PATCH and the preview names exactly that field. Every
preview is checked to have written nothing: the NetSuite calls it made are reads (GETs and
SuiteQL) and the emulator's stored records are the same before and after.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from dealbridge.cli.main import app
from dealbridge.connectors.netsuite.auth import TOKEN_OPERATION as NETSUITE_TOKEN
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.models import SUITEQL_PATH
from dealbridge.connectors.salesforce.auth import TOKEN_OPERATION
from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey, SyncPlan
from dealbridge.mapping.lookups import TableCache
from dealbridge.mapping.preview import PreviewResult, preview_opportunity
from dealbridge.settings import Settings
from tests.support.netsuite import EmulatorControl, netsuite_settings
from tests.support.salesforce import salesforce_settings

Info = dict[str, Any]
Start = Callable[..., Info]
RECORD_TYPES = ("customer", "contact", "billingAccount", "pricePlan", "subscriptionPlan",
                "priceBook", "subscription", "customrecord_cpq_package")  # fmt: skip


class Org:
    """The two emulators of one test, steered through their control APIs."""

    def __init__(self, salesforce: Info, netsuite: Info, data_dir: Path) -> None:
        self.salesforce = salesforce
        self.netsuite = netsuite
        self.control = EmulatorControl(netsuite)
        self.settings = Settings(
            data_dir=data_dir,
            netsuite=netsuite_settings(netsuite),
            salesforce=salesforce_settings(salesforce),
        )

    def seed(self, deals: int = 6) -> dict[str, Any]:
        """A fresh generated CPQ org: ``won_candidates`` (sound, open) and ``flawed`` deals."""
        self.sf_control("POST", "/reset")
        return self.sf_control("POST", "/seed", {"seed": 1, "deals": deals})

    def sf_control(self, method: str, path: str, body: Any = None) -> Any:
        url = self.salesforce["control_url"] + path
        answer = httpx.request(method, url, json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def close_won(self, opportunity_id: str) -> None:
        """Close the deal as a sales rep would, through the REST API."""
        token = self.sf_control("POST", "/tokens")["access_token"]
        answer = httpx.patch(
            f"{self.salesforce['instance_url']}/services/data/v65.0/sobjects/Opportunity/"
            f"{opportunity_id}",
            json={"StageName": "Closed Won"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 204, answer.text

    def stored(self) -> dict[str, list[dict[str, Any]]]:
        """Every record NetSuite holds of the types a deal writes, as the emulator keeps them."""
        return {record_type: self.control.records(record_type) for record_type in RECORD_TYPES}

    def preview(self, opportunity_id: str) -> tuple[PreviewResult, list[CallRecord]]:
        """A preview, checked to have written nothing; with the calls it made."""
        before = self.stored()
        calls: list[CallRecord] = []
        run = preview_opportunity(
            opportunity_id, settings=self.settings, on_call=calls.append, cache=TableCache()
        )
        result = asyncio.run(run)
        assert self.stored() == before, "the preview changed NetSuite"
        assert_only_reads(calls)
        return result, calls


def assert_only_reads(calls: list[CallRecord]) -> None:
    """Salesforce: the token and at most two queries; NetSuite: the token, GETs and SuiteQL."""
    salesforce = [c for c in calls if c.system == "salesforce"]
    queries = [c for c in salesforce if c.extra.get("operation") != TOKEN_OPERATION]
    assert 1 <= len(queries) <= 2, queries
    assert all(c.method == "GET" for c in queries)
    netsuite = [c for c in calls if c.system == "netsuite"]
    for call in (c for c in netsuite if c.extra.get("operation") != NETSUITE_TOKEN):
        suiteql = call.extra.get("operation") == "POST suiteql" and SUITEQL_PATH in call.path
        assert call.method == "GET" or suiteql, f"a preview wrote: {call.method} {call.path}"


async def write(settings: Settings, plan: SyncPlan) -> dict[RecordKey, str]:
    """The plan upserted in order, each ``PendingRef`` resolved to the id just written."""
    written: dict[RecordKey, str] = {}
    async with NetSuiteClient(settings.netsuite, on_call=lambda _call: None) as client:
        for operation in plan.operations:
            body = operation.resolved_payload(written)
            key = operation.key
            written[key] = await client.upsert(
                key.record_type, key.external_id, body, replace=operation.replace
            )
    return written


async def patch(settings: Settings, key: RecordKey, internal_id: str, body: Any) -> None:
    async with NetSuiteClient(settings.netsuite, on_call=lambda _call: None) as client:
        await client.update(key.record_type, internal_id, body)


@pytest.fixture
def org(start_salesforce_emulator: Start, start_netsuite_emulator: Start, tmp_path: Path) -> Org:
    return Org(start_salesforce_emulator(deals=0), start_netsuite_emulator(), tmp_path / "data")


def actions(result: PreviewResult) -> set[str]:
    return {preview.diff.action for preview in result.operations}


def test_create_then_unchanged_then_exactly_the_field_changed_in_netsuite(org: Org) -> None:
    opportunity_id = org.seed()["won_candidates"][0]
    org.close_won(opportunity_id)

    first, _calls = org.preview(opportunity_id)
    assert first.triggered
    assert first.plan.ok, [v.message for v in first.plan.errors]
    assert first.opportunity == opportunity_id
    assert len(first.operations) >= len(RECORD_TYPES)
    assert actions(first) == {"create"}
    assert all(preview.diff.changes for preview in first.operations)

    written = asyncio.run(write(org.settings, first.plan))

    second, calls = org.preview(opportunity_id)
    assert actions(second) == {"unchanged"}, [
        (str(p.operation.key), p.diff.as_list()) for p in second.operations if p.diff.changes
    ]
    reads = [c for c in calls if c.system == "netsuite" and c.method == "GET"]
    assert len(reads) == len(second.operations)  # each existing record read once

    subscription = next(op for op in first.plan.operations if op.key.record_type == "subscription")
    key = subscription.key
    asyncio.run(patch(org.settings, key, written[key], {"memo": "edited in NetSuite by hand"}))

    third, _calls = org.preview(opportunity_id)
    updated = [p for p in third.operations if p.diff.action == "update"]
    assert [p.operation.key for p in updated] == [key]
    assert updated[0].diff.as_list() == [
        {
            "path": "memo",
            "before": "edited in NetSuite by hand",
            "after": subscription.payload["memo"],
        }
    ]
    assert len(third.operations) - 1 == sum(
        1 for p in third.operations if p.diff.action == "unchanged"
    )


def test_the_cli_prints_the_json_document_and_exits_0_on_a_flawed_deal(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    flawed = org.seed(deals=12)["flawed"]
    assert flawed, "the seeded org has flawed deals"
    opportunity_id = sorted(flawed)[0]
    for name, value in env_for(org.settings).items():
        monkeypatch.setenv(name, value)
    before = org.stored()

    answer = CliRunner().invoke(
        app, ["flows", "preview", "--opportunity", opportunity_id, "--json"]
    )

    assert answer.exit_code == 0, answer.output
    document = json.loads(answer.stdout)
    assert list(document) == ["opportunity", "violations", "operations"]
    assert document["opportunity"] == opportunity_id
    assert document["violations"], f"{flawed[opportunity_id]} should be a violation"
    assert all(op["action"] == "create" for op in document["operations"])
    assert org.stored() == before


def env_for(settings: Settings) -> dict[str, str]:
    """``DEALBRIDGE_*`` variables that make ``Settings()`` read these settings."""
    env = {"DEALBRIDGE_DATA_DIR": str(settings.data_dir), "DEALBRIDGE_LOG_LEVEL": "WARNING"}
    for group in ("netsuite", "salesforce"):
        for name, value in getattr(settings, group).model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            text = json.dumps(value) if isinstance(value, list | bool) else str(value)
            env[f"DEALBRIDGE_{group.upper()}__{name.upper()}"] = text
    return env
