"""``dealbridge serve`` and both emulators as separate processes, wired as a user would wire them.

The emulators run for a whole module and are reset per test; each test starts its own ``serve``
on a fresh data directory (the reset org reuses its ids, so an old ledger would mistake new deals
for old ones), registers its Outbound Message URL with the Salesforce emulator and closes deals
through the Salesforce REST API. Nothing else drives the sync: every check below reads what
Salesforce and NetSuite hold afterwards.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dealbridge.connectors.salesforce.models import OUTBOUND_MESSAGE_FIELDS, OUTBOUND_MESSAGE_PATH
from tests.integration.sync.harness import Emulators, env_for, settings_for
from tests.support.processes import StartedProcess, dealbridge_process

T = TypeVar("T")
TOKEN = "e2e-webhook-token-0123456789abcdef"
POLL_SECONDS = 0.25
# Outbound Message retries 20x faster than Salesforce's (first retry after 0.75 s, not 15 s).
SALESFORCE_TIME_SCALE = "20"
SERVE_SETTINGS = {
    "DEALBRIDGE_WEBHOOK_TOKEN": TOKEN,
    "DEALBRIDGE_POLLER__INTERVAL_SECONDS": "5",
    "DEALBRIDGE_POLLER__OVERLAP_SECONDS": "30",
    "DEALBRIDGE_NETSUITE__CONCURRENCY_LIMIT": "15",
    "DEALBRIDGE_SYNC__SHUTDOWN_TIMEOUT_SECONDS": "5",
}


@dataclass
class Stack:
    """Running emulators, and the ``serve`` of the current test."""

    emulators: Emulators
    root: Path
    serve: StartedProcess | None = None
    env: dict[str, str] = field(default_factory=dict)

    # -- Salesforce as its users and admins change it ---------------------------------------

    def register_endpoint(self) -> None:
        """Point the Outbound Message at the running ``serve``, as an admin does in Setup."""
        assert self.serve is not None
        url = self.serve.info["url"] + OUTBOUND_MESSAGE_PATH + TOKEN
        body = {"url": url, "fields": list(OUTBOUND_MESSAGE_FIELDS)}
        self.emulators.sf_control("POST", "/outbound/endpoints", body)

    def close_won(self, opportunity_ids: list[str]) -> None:
        """Close the deals in one collection update (one burst of Outbound Messages)."""
        with self.emulators.sf_rest() as rest:
            for start in range(0, len(opportunity_ids), 200):
                chunk = opportunity_ids[start : start + 200]
                records = [
                    {"attributes": {"type": "Opportunity"}, "Id": ident, "StageName": "Closed Won"}
                    for ident in chunk
                ]
                answer = rest.patch(
                    "/composite/sobjects", json={"allOrNone": True, "records": records}
                )
                assert answer.status_code == 200, answer.text
                assert all(result["success"] for result in answer.json()), answer.text

    def opportunities(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        wanted = set(ids)
        rows = self.emulators.sf_control("GET", "/records/Opportunity")
        return {row["Id"]: row for row in rows if row["Id"] in wanted}

    def synced(self, ids: list[str]) -> list[str]:
        """The deals Salesforce shows as synced (the write-back landed)."""
        rows = self.opportunities(ids)
        return [ident for ident, row in rows.items() if row["NetSuite_Sync_Status__c"] == "Synced"]

    # -- NetSuite as stored -----------------------------------------------------------------

    def netsuite(self, record_type: str) -> list[dict[str, Any]]:
        return self.emulators.ns_records(record_type)

    def external_id_counts(self, record_types: tuple[str, ...]) -> Counter[str]:
        return Counter(
            record["externalId"]
            for record_type in record_types
            for record in self.netsuite(record_type)
            if record.get("externalId")
        )

    # -- the service ------------------------------------------------------------------------

    @contextmanager
    def serving(self, data_dir: Path, *, port: int = 0, **sync: Any) -> Iterator[StartedProcess]:
        """``dealbridge serve`` on ``data_dir``; stopped (SIGTERM) on the way out."""
        settings = settings_for(self.emulators, data_dir, **sync)
        self.env = env_for(settings, **SERVE_SETTINGS)
        with dealbridge_process(["serve", "--port", str(port)], env=self.env) as started:
            self.serve = started
            try:
                yield started
            finally:
                self.serve = None


@contextmanager
def running_stack(root: Path) -> Iterator[Stack]:
    """Both emulators as processes (the Salesforce one with a fast retry clock)."""
    with ExitStack() as stack:
        sf_args = ["emulate", "salesforce", "--port", "0", "--deals", "0"]
        sf_args += ["--time-scale", SALESFORCE_TIME_SCALE, "--state-dir", str(root / "sf")]
        salesforce = stack.enter_context(dealbridge_process(sf_args))
        ns_args = ["emulate", "netsuite", "--port", "0", "--state-dir", str(root / "ns")]
        netsuite = stack.enter_context(dealbridge_process(ns_args))
        yield Stack(Emulators(salesforce.info, netsuite.info), root)


def wait_until(condition: Callable[[], T], what: str, timeout: float) -> T:
    """Poll ``condition`` until truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_SECONDS)


def free_port() -> int:
    """A port nobody listens on now (a restarted ``serve`` must keep its URL)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
