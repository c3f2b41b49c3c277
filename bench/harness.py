"""The benchmark rig: both emulators and ``dealbridge serve`` as real processes, and their gauges.

Why real processes: the figures must describe what a user runs — the Outbound Message arrives
over HTTP, the service's CPU is its own process's, NetSuite's limit is enforced by another
process. Deals are closed through the Salesforce REST API, the Outbound Message endpoint is
registered through the emulator's control API, and outcomes are read from the ledger and the
emulators' statistics; nothing reaches into a process's memory.

The ledger and DBOS's SQLite files are opened read-only with plain deferred reads: the ledger's
own engine begins every transaction with ``BEGIN IMMEDIATE``, which would make the observer take
the write lock the service needs. CPU time and memory come from ``/proc`` (no psutil).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import selectors
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dealbridge.connectors.salesforce.models import OUTBOUND_MESSAGE_FIELDS, OUTBOUND_MESSAGE_NAME
from dealbridge.db.models import ACTIVE_ERROR_STATES, ApiCall, Run, SyncError

START_TIMEOUT_SECONDS = 180.0
HTTP_TIMEOUT_SECONDS = 60.0
COLLECTION_MAX = 200  # records per sObject Collections call (contracts/salesforce.md §1.6)
WON_CANDIDATES_PER_DEAL = 0.55  # the seed org offers ~0.6 open, sound, quoted deals per opportunity
CLOSED_WON = "Closed Won"
API_PATH = "/services/data/v65.0"


@dataclass(frozen=True)
class StackOptions:
    """How the rig starts; the limit is also the service's budget, ``env`` its extra settings."""

    netsuite_latency_ms: float = 200.0
    jitter: float = 0.2
    concurrency_limit: int = 15
    salesforce_latency_ms: float = 200.0
    deals_needed: int = 50
    seed: int = 1
    env: dict[str, str] = field(default_factory=dict)


class Child:
    """A ``python -m dealbridge …`` process and the JSON object it printed first.

    Its stderr, and its stdout after the first line, go to ``log``: a pipe nobody reads fills up
    and stalls the child.
    """

    def __init__(self, args: list[str], log: Path, env: dict[str, str], cwd: Path) -> None:
        self.log = log.open("ab")
        command = [sys.executable, "-m", "dealbridge", *args]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=cwd
        )
        self.pid = self.process.pid
        self.info: dict[str, Any] = json.loads(self._first_line(args[:2]))
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _first_line(self, name: list[str]) -> bytes:
        line = first_line(self.process)
        if line is None:
            self.stop()
            raise RuntimeError(f"{' '.join(name)} did not start; see {self.log.name}")
        return line

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            self.log.write(line)

    def stop(self) -> None:
        """SIGTERM (a graceful drain), then SIGKILL after 30 s."""
        terminate(self.process)
        if hasattr(self, "_drainer"):
            self._drainer.join(timeout=10)
        self.log.close()


def first_line(process: subprocess.Popen[bytes]) -> bytes | None:
    """The child's first stdout line, or None if it exits or stays silent past the start timeout."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.2) and (line := process.stdout.readline()):
            return line
    return None


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a graceful drain), then SIGKILL after 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def parse_proc_stat_ticks(stat: str) -> int:
    """User + system clock ticks from ``/proc/<pid>/stat``; every thread of the process counts.

    The command name (field 2) may hold spaces and parentheses, so fields are counted from the
    last ``)``: utime and stime are fields 14 and 15 of proc(5), the 12th and 13th after it.
    """
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def parse_proc_status_kib(status: str, key: str) -> int:
    """A ``kB`` line of ``/proc/<pid>/status`` (``VmHWM`` = peak resident set, ``VmRSS`` = now)."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    raise KeyError(f"{key} is not in the status file")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    return parse_proc_stat_ticks(stat) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, key: str = "VmHWM") -> int:
    """Peak (``VmHWM``) or current (``VmRSS``) resident memory of the process, KiB."""
    return parse_proc_status_kib(Path(f"/proc/{pid}/status").read_text(encoding="ascii"), key)


class Sampler:
    """Calls ``probe`` ``hz`` times a second on a thread; ``samples`` = ``(seconds, value)``.

    Ticks are scheduled from the start, so a slow probe does not stretch the time axis; a probe
    that fails (a process stopping) ends the sampling instead of the benchmark.
    """

    def __init__(self, probe: Callable[[], float], hz: float) -> None:
        self.probe, self.period = probe, 1.0 / hz
        self.samples: list[tuple[float, float]] = []
        self.started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        tick = self.started
        while not self._stop.is_set():
            try:
                value = self.probe()
            except (httpx.HTTPError, OSError):
                return
            self.samples.append((time.monotonic() - self.started, value))
            tick += self.period
            self._stop.wait(max(0.0, tick - time.monotonic()))


@dataclass(frozen=True)
class LedgerRun:
    """What the benchmarks read of one run."""

    id: str
    workflow_id: str
    opportunity_id: str
    status: str
    received_at: datetime
    finished_at: datetime | None
    plan: dict[str, Any] | None
    step_timings: list[dict[str, Any]]


class Stack:
    """The running rig: emulators, service, the org's open deals and read-only state views."""

    def __init__(self, children: tuple[Child, Child, Child], workdir: Path, env: dict[str, str]):
        self.salesforce, self.netsuite, self.service = children
        self.workdir, self.env = workdir, env
        data = workdir / "data"
        self.ledger = _read_only(data / "dealbridge.sqlite3")
        self.dbos = _read_only(data / "dbos.sqlite3")
        self.won_candidates: list[str] = []
        self.http = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        self._token = ""

    def close(self) -> None:
        """Release the HTTP client and the database handles."""
        self.http.close()
        self.ledger.dispose()
        self.dbos.dispose()

    def control(self, child: Child, method: str, path: str, body: Any = None) -> Any:
        """An emulator's control API (``/__emulator__``)."""
        answer = self.http.request(method, child.info["control_url"] + path, json=body)
        _expect(answer, 200)
        return answer.json()

    def stats(self, child: Child) -> dict[str, Any]:
        """An emulator's counters; neither counts token requests as calls."""
        return dict(self.control(child, "GET", "/stats"))

    def sf_rest(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """A Salesforce REST call as a user's tool makes it (a session of its own)."""
        if not self._token:
            self._token = self.control(self.salesforce, "POST", "/tokens")["access_token"]
        url = self.salesforce.info["instance_url"] + API_PATH + path
        return self.http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {self._token}"}
        )

    def close_won(self, opportunity_ids: list[str]) -> float:
        """Close the deals as won; returns the wall-clock time the last PATCH was answered.

        One deal is one PATCH, as a sales rep closes it; a burst is a mass update (a list view,
        a data loader) — sObject Collections PATCHes of 200 — which is how 1,000 deals close
        "at once". The emulator applies its latency before the change, so a deal is Closed Won
        the moment its PATCH is answered.
        """
        if len(opportunity_ids) == 1:
            path = f"/sobjects/Opportunity/{opportunity_ids[0]}"
            _expect(self.sf_rest("PATCH", path, {"StageName": CLOSED_WON}), 204)
            return time.time()
        for first in range(0, len(opportunity_ids), COLLECTION_MAX):
            records = [
                {"attributes": {"type": "Opportunity"}, "Id": i, "StageName": CLOSED_WON}
                for i in opportunity_ids[first : first + COLLECTION_MAX]
            ]
            answer = self.sf_rest("PATCH", "/composite/sobjects", {"records": records})
            _expect(answer, 200)
            if refused := [r for r in answer.json() if not r.get("success")]:
                raise RuntimeError(f"Salesforce refused to close deals: {refused[:3]}")
        return time.time()

    def runs(self, opportunity_ids: list[str], since: datetime | None = None) -> list[LedgerRun]:
        """The finished runs of these deals received at or after ``since``, oldest first."""
        query = select(Run).where(Run.opportunity_id.in_(opportunity_ids), _finished(since))
        with Session(self.ledger) as session:
            return [_ledger_run(row) for row in session.scalars(query.order_by(Run.received_at))]

    def first_step_started(self, workflow_id: str) -> float | None:
        """When the run's first step began (epoch seconds), from DBOS's checkpoints.

        That is when the deal left the queue and its workflow began; ``None`` where DBOS keeps
        no step start times (``operation_outputs.started_at_epoch_ms``, DBOS 3).
        """
        query = text(
            "SELECT started_at_epoch_ms FROM operation_outputs WHERE workflow_uuid = :id "
            "ORDER BY function_id LIMIT 1"
        )
        try:
            with self.dbos.connect() as connection:
                started = connection.execute(query, {"id": workflow_id}).scalar()
        except OperationalError:
            return None
        return float(started) / 1000 if started is not None else None

    def steps_per_deal(self) -> float | None:
        """Checkpointed steps per finished ``sync_deal`` workflow, from DBOS's checkpoints.

        What the DBOS floor (``bench.dbos_floor``) must run to cost what a deal's durability
        costs; ``None`` before any deal finished.
        """
        query = text(
            "SELECT COUNT(*) * 1.0 / COUNT(DISTINCT o.workflow_uuid) FROM operation_outputs o "
            "JOIN workflow_status w ON w.workflow_uuid = o.workflow_uuid "
            "WHERE w.name = 'sync_deal' AND w.status = 'SUCCESS'"
        )
        with self.dbos.connect() as connection:
            steps = connection.execute(query).scalar()
        return float(steps) if steps is not None else None

    def wait_finished(
        self, opportunity_ids: list[str], timeout: float, since: datetime | None = None
    ) -> list[LedgerRun]:
        """Poll until each deal has a finished run (or ``timeout``); the finished runs.

        The poll reads one column: whole runs carry the deal graph and the plan, and reading
        a thousand of them twice a second would steal the CPU being measured.
        """
        deadline, wanted = time.monotonic() + timeout, set(opportunity_ids)
        query = select(Run.opportunity_id).where(Run.opportunity_id.in_(wanted), _finished(since))
        while time.monotonic() < deadline:
            with Session(self.ledger) as session:
                if set(session.scalars(query)) >= wanted:
                    break
            time.sleep(0.01 if len(wanted) == 1 else 1.0)
        return self.runs(opportunity_ids, since)

    def open_errors(self, opportunity_ids: list[str]) -> int:
        """Active open errors of these deals."""
        query = select(SyncError.id).where(
            SyncError.opportunity_id.in_(opportunity_ids), SyncError.state.in_(ACTIVE_ERROR_STATES)
        )
        with Session(self.ledger) as session:
            return len(session.scalars(query).all())

    def calls(self, run_ids: list[str]) -> list[ApiCall]:
        """The API call rows of these runs, detached from their session."""
        rows: list[ApiCall] = []
        with Session(self.ledger, expire_on_commit=False) as session:
            for first in range(0, len(run_ids), 500):  # SQLite caps bound parameters
                query = select(ApiCall).where(ApiCall.run_id.in_(run_ids[first : first + 500]))
                rows += session.scalars(query).all()
            session.expunge_all()
        return sorted(rows, key=lambda row: (row.at, row.id))


def _finished(since: datetime | None) -> Any:
    done = Run.finished_at.is_not(None)
    return done if since is None else done & (Run.received_at >= since)


def _ledger_run(row: Run) -> LedgerRun:
    return LedgerRun(
        row.id, row.workflow_id, row.opportunity_id, row.status, row.received_at, row.finished_at,
        row.plan, list(row.step_timings),
    )  # fmt: skip


def _expect(answer: httpx.Response, status: int) -> None:
    if answer.status_code != status:
        raise RuntimeError(f"{answer.request.url}: {answer.status_code} {answer.text[:300]}")


def _read_only(path: Path) -> Engine:
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def service_env(
    sf: dict[str, Any], ns: dict[str, Any], data_dir: Path, options: StackOptions, token: str
) -> dict[str, str]:
    """The service's environment: both emulators' credentials and ``options.env``, nothing else.

    Every inherited ``DEALBRIDGE_*`` variable is dropped so a developer's own configuration
    cannot change what is measured, and the poller is off so each deal has exactly one trigger,
    the Outbound Message.
    """
    jwt, oauth2 = sf["jwt"], ns["oauth2"]
    settings = {
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_TOKEN": token,
        "POLLER__ENABLED": "false",
        "SALESFORCE__INSTANCE_URL": sf["instance_url"],
        "SALESFORCE__LOGIN_URL": sf["instance_url"],
        "SALESFORCE__CONSUMER_KEY": jwt["consumer_key"],
        "SALESFORCE__USERNAME": jwt["username"],
        "SALESFORCE__PRIVATE_KEY_FILE": jwt["private_key"],
        "SALESFORCE__AUDIENCE": jwt["audience"],
        "SALESFORCE__ORG_ID": sf["org_id"],
        "NETSUITE__ACCOUNT": ns["account"],
        "NETSUITE__BASE_URL": ns["base_url"],
        "NETSUITE__AUTH_MODE": "oauth2",
        "NETSUITE__CLIENT_ID": oauth2["client_id"],
        "NETSUITE__CERTIFICATE_ID": oauth2["certificate_id"],
        "NETSUITE__PRIVATE_KEY_FILE": oauth2["private_key_pem"],
        "NETSUITE__JWT_ALGORITHM": oauth2["algorithm"],
        "NETSUITE__CONCURRENCY_LIMIT": str(options.concurrency_limit),
        **options.env,
    }
    return {**_clean_env(), **{f"DEALBRIDGE_{k}": v for k, v in settings.items()}}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DEALBRIDGE_")}


@contextmanager
def running_stack(options: StackOptions, workdir: Path) -> Iterator[Stack]:
    """Start the emulators, generate the org, start the service, register the Outbound Message.

    ``workdir`` is emptied first and holds every process's state and log afterwards.
    """
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    with ExitStack() as stack:
        ns = _emulator(stack, workdir, "netsuite", [
            "--latency-ms", str(options.netsuite_latency_ms), "--jitter", str(options.jitter),
            "--concurrency-limit", str(options.concurrency_limit),
        ])  # fmt: skip
        sf = _emulator(stack, workdir, "salesforce", [
            "--deals", "0", "--seed", str(options.seed),
            "--latency-ms", str(options.salesforce_latency_ms),
        ])  # fmt: skip
        candidates = _seed(sf.info["control_url"], options)
        token = secrets.token_urlsafe(32)
        env = service_env(sf.info, ns.info, workdir / "data", options, token)
        service = Child(["serve", "--port", "0"], workdir / "service.log", env, workdir)
        stack.callback(service.stop)
        rig = Stack((sf, ns, service), workdir, env)
        stack.callback(rig.close)
        rig.won_candidates = candidates
        hook = service.info["url"] + service.info["outbound_message_path"].format(token=token)
        fields = list(OUTBOUND_MESSAGE_FIELDS)
        rig.control(sf, "POST", "/outbound/endpoints", {"url": hook, "fields": fields,
                                                        "name": OUTBOUND_MESSAGE_NAME})  # fmt: skip
        yield rig


def _emulator(stack: ExitStack, workdir: Path, name: str, args: list[str]) -> Child:
    argv = ["emulate", name, "--port", "0", "--state-dir", str(workdir / name), *args]
    child = Child(argv, workdir / f"{name}.log", _clean_env(), workdir)
    stack.callback(child.stop)
    return child


def _seed(control_url: str, options: StackOptions) -> list[str]:
    """A freshly generated org with enough open, sound deals; their ids."""
    deals = math.ceil(options.deals_needed / WON_CANDIDATES_PER_DEAL) + 10
    with httpx.Client(base_url=control_url, timeout=900) as control:
        _expect(control.post("/reset"), 200)
        answer = control.post("/seed", json={"seed": options.seed, "deals": deals})
    _expect(answer, 200)
    candidates: list[str] = answer.json()["won_candidates"]
    if len(candidates) < options.deals_needed:
        raise RuntimeError(f"the org offers {len(candidates)} deals, not {options.deals_needed}")
    return candidates
