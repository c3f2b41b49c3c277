"""DBOS's floor: the CPU a deal costs before dealbridge does anything, measured on this machine.

Why: the engine-overhead figure is service CPU per deal, and part of it is the price of
durability itself — DBOS enqueues the workflow, claims it from the queue, checks and records a
checkpoint around every step (two SQLite transactions, on the loop's thread as the service runs
them: ``sync/dbos_inline.py``) and records the outcome. That price depends on the machine as
much as on us. Running DBOS alone, with the same database settings, the same queue shape and as
many steps per workflow as a deal has, but steps that do nothing, gives the floor no engine
built on DBOS can go under; what the service spends above it is dealbridge's own (mapping, HTTP
clients, the ledger). The overhead bench runs this in its own process after the burst, so both
figures come from one run on one machine.

Method: a fresh SQLite system database prepared as the service prepares its own
(``sync.system_db``: WAL, ``synchronous=NORMAL``, no pre-ping), a ``deals``-shaped queue
(partitioned, one workflow per partition at a time, ``--concurrency`` per process, polled every
``--polling-interval`` seconds), a warm-up, then ``--workflows`` workflows enqueued at once, each
running ``--steps`` async no-op steps. CPU is ``time.process_time()`` (all threads) from before
the first enqueue to the last result; the idle rate is measured before the burst, as in the
overhead bench. Prints one JSON object.

Run: ``.venv/bin/python -m bench.dbos_floor --steps 6`` (the overhead bench passes the steps
per deal it read from the service's checkpoints).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from dbos import DBOS, Queue, SetEnqueueOptions

from dealbridge.sync import system_db

try:  # the engine under measurement may be an earlier commit's (``bench.compare``)
    from dealbridge.sync import dbos_inline
except ImportError:  # pragma: no cover - before DBOS's hooks ran on the loop
    dbos_inline = None  # type: ignore[assignment]

APP_NAME = "dbos_floor"
QUEUE_NAME = "floor"
WARMUP_WORKFLOWS = 5
PARTITIONS = 200  # about the accounts of a burst's deals; each partition runs one at a time


async def no_op(index: int) -> dict[str, Any]:
    """A step that does nothing, returning the kind of small dict a deal's steps return."""
    return {"index": index, "ms": 0.0}


@DBOS.workflow(name="floor_workflow")
async def floor_workflow(steps: int) -> int:
    """``steps`` checkpointed no-op steps, named as distinct steps like a deal's."""
    for index in range(steps):
        await DBOS.run_step_async({"name": f"step_{index}"}, no_op, index)
    return steps


def launch(database: Path, concurrency: int, polling_interval: float) -> Queue:
    """DBOS on a fresh SQLite file set up as the service sets up its own."""
    url = f"sqlite:///{database}"
    system_db.prepare_sqlite(url)
    engine_kwargs = system_db.sqlite_engine_kwargs()
    if dbos_inline is not None and dbos_inline.install(database):  # where the service runs them
        engine_kwargs = system_db.sqlite_engine_kwargs(checkpoints_elsewhere=True)
    DBOS(config={"name": APP_NAME, "system_database_url": url, "log_level": "WARNING",
                 "db_engine_kwargs": engine_kwargs})  # fmt: skip
    DBOS.launch()
    return DBOS.register_queue(
        QUEUE_NAME,
        worker_concurrency=concurrency,
        partition_concurrency=1,
        polling_interval_sec=polling_interval,
    )


async def burst(queue: Queue, workflows: int, steps: int, first: int) -> None:
    """Enqueue ``workflows`` at once and wait for every result."""
    handles = []
    for index in range(first, first + workflows):
        with SetEnqueueOptions(queue_partition_key=f"account-{index % PARTITIONS}"):
            handles.append(await queue.enqueue_async(floor_workflow, steps))
    for handle in handles:
        await handle.get_result()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, idle, then the burst; CPU per workflow and per step."""
    workdir = Path(tempfile.mkdtemp(prefix="dbos-floor-"))
    try:
        queue = launch(workdir / "dbos.sqlite3", args.concurrency, args.polling_interval)
        asyncio.run(burst(queue, WARMUP_WORKFLOWS, args.steps, 0))
        idle_started, idle_cpu = time.monotonic(), time.process_time()
        time.sleep(args.idle_seconds)
        idle = (time.process_time() - idle_cpu) / (time.monotonic() - idle_started)
        started, cpu = time.monotonic(), time.process_time()
        asyncio.run(burst(queue, args.workflows, args.steps, WARMUP_WORKFLOWS))
        used, elapsed = time.process_time() - cpu, time.monotonic() - started
    finally:
        DBOS.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    per_workflow = used * 1000 / args.workflows
    return {
        "workflows": args.workflows,
        "steps_per_workflow": args.steps,
        "cpu_ms_per_workflow": round(per_workflow, 2),
        "cpu_ms_per_step": round(per_workflow / max(1, args.steps), 2),
        "idle_cpu_ms_per_second": round(idle * 1000, 2),
        "seconds": round(elapsed, 2),
        "workflows_per_second": round(args.workflows / elapsed, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Print the floor as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=300, help="workflows enqueued at once")
    parser.add_argument("--steps", type=int, default=6, help="no-op steps per workflow")
    parser.add_argument("--concurrency", type=int, default=30, help="workflows per process")
    parser.add_argument("--polling-interval", type=float, default=0.05, help="queue poll, s")
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="idle CPU measurement")
    args = parser.parse_args(argv)
    result = measure(args)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
