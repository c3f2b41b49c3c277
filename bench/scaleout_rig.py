"""The scale-out rig: both emulators, N ``dealbridge worker`` processes, one throwaway PostgreSQL.

Why real processes and a real database: what is measured is the split of one NetSuite account
among processes (``dealbridge.sync.budget``) and DBOS's queue across them, so each worker must be
a separate interpreter with its own CPU, exactly as deployed. Deals are seeded and closed through
the Salesforce emulator, queued with a ``DBOSClient`` (as ``dealbridge sync`` beside running
workers does), and read back from DBOS's statuses, the ledger and the emulators' statistics.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
from dbos import DBOSClient
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.harness import cpu_seconds, first_line, terminate
from dealbridge.cli.demo_config import netsuite_settings, salesforce_settings
from dealbridge.cli.demo_emulators import Emulators
from dealbridge.db.models import Run
from dealbridge.sync import enqueue_with_client, trigger_info, workflow_id_for
from dealbridge.sync.runtime import APP_NAME

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
WON_CANDIDATES_PER_DEAL = 0.55
FINISHED = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new PostgreSQL database for one run; yields its SQLAlchemy URL, drops it after."""
    name = f"dealbridge_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PG_URL.format(name=name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def seed_deals(emulators: Emulators, deals: int, accounts: int) -> list[dict[str, str]]:
    """A fresh org with ``deals`` deals closed won over ``accounts`` accounts.

    Whole accounts of the generated org move together onto ``accounts`` targets (so a contact is
    only written by deals of one partition); one sObject Collections PATCH per 200 deals sets
    ``StageName`` and ``AccountId``. Returns the deals' ``Id``, ``AccountId``, ``SystemModstamp``.
    """
    emulators.sf_control("POST", "/reset")
    size = math.ceil(deals / WON_CANDIDATES_PER_DEAL) + 20
    seeded = emulators.sf_control("POST", "/seed", {"seed": 1, "deals": size})
    chosen: list[str] = seeded["won_candidates"][:deals]
    if len(chosen) < deals:
        raise RuntimeError(f"the generated org offers {len(chosen)} deals, not {deals}")
    before = {row["Id"]: row for row in emulators.sf_control("GET", "/records/Opportunity")}
    originals = sorted({before[i]["AccountId"] for i in chosen})
    move = {old: originals[n % accounts] for n, old in enumerate(originals)}
    _close(emulators, [(i, move[before[i]["AccountId"]]) for i in chosen])
    after = {row["Id"]: row for row in emulators.sf_control("GET", "/records/Opportunity")}
    return [{k: after[i][k] for k in ("Id", "AccountId", "SystemModstamp")} for i in chosen]


def _close(emulators: Emulators, moves: list[tuple[str, str]]) -> None:
    token = emulators.sf_control("POST", "/tokens")["access_token"]
    url = emulators.salesforce["instance_url"] + "/services/data/v65.0/composite/sobjects"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as rest:
        for first in range(0, len(moves), 200):
            records = [
                {"attributes": {"type": "Opportunity"}, "Id": i, "StageName": "Closed Won",
                 "AccountId": account}
                for i, account in moves[first : first + 200]
            ]  # fmt: skip
            answer = rest.patch(url, json={"records": records})
            answer.raise_for_status()
            refused = [r for r in answer.json() if not r.get("success")]
            if refused:
                raise RuntimeError(f"Salesforce refused to close deals: {refused[:3]}")


def worker_env(
    emulators: Emulators, database_url: str, limit: int, workdir: Path
) -> dict[str, str]:
    """``DEALBRIDGE_*`` variables of a worker: PostgreSQL, both emulators, the account limit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALBRIDGE_")}
    values: dict[str, Any] = {
        "DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "SYNC__QUEUE_POLLING_INTERVAL_SECONDS": "0.2",
        "SYNC__SHUTDOWN_TIMEOUT_SECONDS": "5",
    }
    groups = {
        "SALESFORCE": salesforce_settings(emulators),
        "NETSUITE": netsuite_settings(emulators).model_copy(update={"concurrency_limit": limit}),
    }
    for group, model in groups.items():
        dumped = model.model_dump(exclude_none=True)
        for name, value in dumped.items():
            if isinstance(value, SecretStr):  # read from its *_file again by the worker
                if dumped.get(f"{name}_file"):
                    continue
                value = value.get_secret_value()
            text = json.dumps(value) if isinstance(value, list) else str(value)
            values[f"{group}__{name.upper()}"] = text
    return env | {f"DEALBRIDGE_{key}": value for key, value in values.items()}


class Worker:
    """One ``python -m dealbridge worker`` process and its first line."""

    def __init__(self, env: dict[str, str], executor_id: str, log: Path) -> None:
        self.log: IO[bytes] = log.open("ab")
        command = [sys.executable, "-m", "dealbridge", "worker"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            env=env | {"DEALBRIDGE_EXECUTOR_ID": executor_id},
            stdout=subprocess.PIPE,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
        )
        self.info: dict[str, Any] = {}

    def wait_started(self) -> None:
        """Read the first line (the worker is taking deals once it is printed)."""
        line = first_line(self.process)
        if line is None:
            raise RuntimeError(f"a worker did not start; see {self.log.name}")
        self.info = json.loads(line)

    def cpu_seconds(self) -> float:
        """User + system CPU of the process so far (``/proc/<pid>/stat``)."""
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        """SIGTERM (drain), then SIGKILL after 30 s."""
        terminate(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


@contextmanager
def workers(env: dict[str, str], count: int, workdir: Path) -> Iterator[list[Worker]]:
    """``count`` workers started together, ``w0`` … (each waits for the others' shares)."""
    with ExitStack() as stack:
        started = [Worker(env, f"w{n}", workdir / f"w{n}.log") for n in range(count)]
        for worker in started:
            stack.callback(worker.stop)
        for worker in started:
            worker.wait_started()
        yield started


class InFlightSampler:
    """NetSuite requests in flight, as the emulator counts them, ``hz`` times a second."""

    def __init__(self, control_url: str, hz: float = 10.0) -> None:
        self.url, self.period = control_url + "/stats", 1.0 / hz
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> InFlightSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.wait(self.period):
                self.samples.append(int(client.get(self.url).json()["in_flight"]))


def enqueue_all(client: DBOSClient, deals: list[dict[str, str]]) -> list[str]:
    """Queue every deal as the poller would; their workflow ids."""
    ids = []
    for deal in deals:
        workflow_id = workflow_id_for(deal["Id"], deal["SystemModstamp"])
        info = trigger_info(
            "poller", account_id=deal["AccountId"], system_modstamp=deal["SystemModstamp"]
        )
        enqueue_with_client(client, workflow_id, deal["Id"], info)
        ids.append(workflow_id)
    return ids


def wait_finished(client: DBOSClient, ids: list[str], timeout: float) -> dict[str, int]:
    """Poll DBOS until every workflow finished; the count per final status."""
    deadline = time.monotonic() + timeout
    while True:
        rows = client.list_workflows(workflow_ids=ids, load_input=False, load_output=False)
        if len(rows) == len(ids) and all(row.status in FINISHED for row in rows):
            counts: dict[str, int] = {}
            for row in rows:
                counts[row.status] = counts.get(row.status, 0) + 1
            return counts
        if time.monotonic() > deadline:
            raise RuntimeError(f"deals still running after {timeout} s")
        time.sleep(0.2)


def dbos_client(database_url: str) -> DBOSClient:
    """A client of the workers' system database."""
    return DBOSClient(system_database_url=database_url, application_name=APP_NAME)


def ledger_runs(database_url: str, ids: list[str]) -> list[Run]:
    """The ledger's runs of these workflows (detached)."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            rows = list(session.scalars(select(Run).where(Run.workflow_id.in_(ids))).all())
            session.expunge_all()
            return rows
    finally:
        engine.dispose()
