"""Both emulators as real processes, and settings pointing a runtime at them."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from dbos import DBOS
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from dealbridge.settings import NetSuiteSettings, SalesforceSettings, Settings, SyncSettings
from dealbridge.sync import Runtime, enqueue_deal, triggers, wait_for_outcome
from dealbridge.sync.runtime import system_database_url
from dealbridge.sync.steps import START_LAYOUT_KEY
from tests.support.netsuite import EmulatorControl, netsuite_settings
from tests.support.processes import dealbridge_process

T = TypeVar("T")
POLL_SECONDS = 0.05
# Quick step retries: what is under test is that retries happen, not how long they wait.
QUICK_STEPS: dict[str, Any] = {
    "step_max_attempts": 8,
    "step_interval_seconds": 0.1,
    "queue_polling_interval_seconds": 0.1,
    "shutdown_timeout_seconds": 0,
}


@dataclass
class Emulators:
    """Running emulators: their first lines and their control hooks."""

    salesforce: dict[str, Any]
    netsuite: dict[str, Any]
    seeded: dict[str, Any] = field(default_factory=dict)

    @property
    def netsuite_control(self) -> EmulatorControl:
        return EmulatorControl(self.netsuite)

    def sf_control(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(method, self.salesforce["control_url"] + path, json=body, timeout=30)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def reset(self, deals: int = 10) -> dict[str, Any]:
        """Fresh NetSuite reference data; a freshly generated Salesforce org."""
        self.netsuite_control.reset()
        self.sf_control("POST", "/reset")
        self.seeded = self.sf_control("POST", "/seed", {"seed": 1, "deals": deals})
        return self.seeded

    # -- Salesforce as a user changes it ---------------------------------------------------

    def sf_rest(self) -> httpx.Client:
        token = self.sf_control("POST", "/tokens")["access_token"]
        return httpx.Client(
            base_url=self.salesforce["instance_url"] + "/services/data/v65.0",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        with self.sf_rest() as rest:
            answer = rest.patch(f"/sobjects/{sobject}/{record_id}", json=fields)
            assert answer.status_code == 204, answer.text

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        with self.sf_rest() as rest:
            answer = rest.get(f"/sobjects/{sobject}/{record_id}")
            assert answer.status_code == 200, answer.text
            data: dict[str, Any] = answer.json()
            return data

    def close_won(self, opportunity_id: str) -> dict[str, Any]:
        """Close the deal as won; returns its opportunity row afterwards."""
        self.update("Opportunity", opportunity_id, {"StageName": "Closed Won"})
        return self.get("Opportunity", opportunity_id)

    # -- NetSuite as stored ------------------------------------------------------------------

    def ns_records(self, record_type: str) -> list[dict[str, Any]]:
        return self.netsuite_control.records(record_type)


@contextmanager
def running_emulators(state_dir: Path) -> Iterator[Emulators]:
    with ExitStack() as stack:
        sf_args = ["emulate", "salesforce", "--port", "0", "--deals", "0"]
        sf = stack.enter_context(
            dealbridge_process([*sf_args, "--state-dir", str(state_dir / "sf")])
        )
        ns_args = ["emulate", "netsuite", "--port", "0", "--state-dir", str(state_dir / "ns")]
        ns = stack.enter_context(dealbridge_process(ns_args))
        yield Emulators(sf.info, ns.info)


def salesforce_settings(info: dict[str, Any]) -> SalesforceSettings:
    """JWT bearer against the emulator's app (its first line names key and user)."""
    jwt = info["jwt"]
    return SalesforceSettings(
        instance_url=info["instance_url"],
        login_url=info["instance_url"],
        consumer_key=jwt["consumer_key"],
        username=jwt["username"],
        private_key_file=jwt["private_key"],
        audience=jwt["audience"],
        org_id=info["org_id"],
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
    )


def settings_for(
    emulators: Emulators, data_dir: Path, *, database_url: str | None = None, **sync: Any
) -> Settings:
    """A runtime's settings: both emulators, state under ``data_dir``, quick retries."""
    netsuite: NetSuiteSettings = netsuite_settings(emulators.netsuite, max_attempts=2)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        netsuite=netsuite,
        salesforce=salesforce_settings(emulators.salesforce),
        sync=SyncSettings(**{**QUICK_STEPS, **sync}),
        log_level="WARNING",
    )


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run async test code on a loop of its own (the runtime's deals run on DBOS's loop)."""
    return asyncio.run(coroutine)


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """Poll ``condition`` until truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_SECONDS)


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """``DEALBRIDGE_*`` variables that make a child process read these settings."""
    env = {"DEALBRIDGE_DATA_DIR": str(settings.data_dir), "DEALBRIDGE_LOG_LEVEL": "WARNING"}
    if settings.database_url:
        env["DEALBRIDGE_DATABASE_URL"] = settings.database_url
    if settings.executor_id:
        env["DEALBRIDGE_EXECUTOR_ID"] = settings.executor_id
    for group in ("netsuite", "salesforce", "sync"):
        for name, value in getattr(settings, group).model_dump().items():
            text = _env_text(value)
            if text is not None:
                env[f"DEALBRIDGE_{group.upper()}__{name.upper()}"] = text
    return {**env, **extra}


def _env_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def close_and_sync(
    org: Emulators, opportunity_id: str, *, trigger: str = "poller", timeout: float = 90.0
) -> dict[str, Any]:
    """Close the deal as won, enqueue it as the trigger would, wait for the outcome."""
    row = org.close_won(opportunity_id)
    return enqueue_and_wait(row, trigger=trigger, timeout=timeout)


def enqueue_and_wait(
    row: dict[str, Any], *, trigger: str = "poller", timeout: float = 90.0
) -> dict[str, Any]:
    """Enqueue the opportunity ``row`` (its AccountId and SystemModstamp) and wait."""

    async def go() -> dict[str, Any]:
        workflow_id = await enqueue_deal(
            row["Id"],
            account_id=row["AccountId"],
            system_modstamp=row["SystemModstamp"],
            trigger=trigger,
        )
        return await wait_for_outcome(workflow_id, timeout)

    return run(go())


def queue_as_earlier_release(patch: pytest.MonkeyPatch) -> None:
    """Deals queued from now on carry the trigger earlier releases wrote: no ``start_layout``.

    Such a deal opens its run in a ``start_run`` step, as it did before the upgrade.
    """
    current = triggers.trigger_info

    def earlier_trigger_info(*args: Any, **kwargs: Any) -> dict[str, Any]:
        info = current(*args, **kwargs)
        del info[START_LAYOUT_KEY]
        return info

    patch.setattr(triggers, "trigger_info", earlier_trigger_info)


def restart_after_crash(runtime: Runtime, workflow_id: str, next_step: int) -> Runtime:
    """A new runtime on ``runtime``'s state, as if its process had died before step ``next_step``.

    The crash is made in DBOS's own tables, as a killed process leaves them: the checkpoints
    from ``next_step`` on and the outcome are gone and the workflow is ``PENDING`` under this
    executor. The new runtime recovers it when it launches, under the same workflow id (a fork
    would give it a new one). The caller shuts the returned runtime down.
    """
    settings = runtime.settings
    runtime.shutdown(0)
    database = make_url(system_database_url(settings)).database
    assert database, "a crash is simulated on SQLite state"
    with closing(sqlite3.connect(database)) as dbos_state, dbos_state:
        dbos_state.execute(
            "DELETE FROM operation_outputs WHERE workflow_uuid = ? AND function_id >= ?",
            (workflow_id, next_step),
        )
        dbos_state.execute("DELETE FROM workflow_output WHERE workflow_uuid = ?", (workflow_id,))
        dbos_state.execute(
            "UPDATE workflow_status SET status = 'PENDING', output = NULL, error = NULL"
            " WHERE workflow_uuid = ?",
            (workflow_id,),
        )
    DBOS.destroy()
    again = Runtime(settings)
    again.launch()
    return again


def by_external_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """NetSuite records keyed by external id, failing on a duplicate."""
    keyed: dict[str, dict[str, Any]] = {}
    for record in records:
        external_id = record.get("externalId")
        assert external_id not in keyed, f"duplicate externalId {external_id}"
        keyed[str(external_id)] = record
    return keyed


def touch(org: Emulators, opportunity_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Edit the opportunity (a note) until its SystemModstamp moves on; returns the row.

    Salesforce stamps have one-second resolution, so an edit in the same second as the
    write-back would carry the write-back's own stamp.
    """
    before = org.get("Opportunity", opportunity_id)["SystemModstamp"]
    deadline = time.monotonic() + timeout
    edits = 0
    while True:
        edits += 1
        org.update("Opportunity", opportunity_id, {"Description": f"edited after sync ({edits})"})
        row = org.get("Opportunity", opportunity_id)
        if row["SystemModstamp"] != before:
            return row
        assert time.monotonic() < deadline, "SystemModstamp never moved"
        time.sleep(POLL_SECONDS)
