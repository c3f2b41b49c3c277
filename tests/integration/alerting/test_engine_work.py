"""``engine_work.read_engine_work`` against a real DBOS: a deal held by an executor, one queued.

A deal workflow blocks on an event, so it stays ``PENDING`` on this executor while the test
reads; another is enqueued on the ``deals`` queue through a client, and this process never
registers that queue, so it stays ``ENQUEUED``. Both the launched DBOS and a web-only node's
``DBOSClient`` must list the two.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dbos import DBOS, DBOSClient, EnqueueOptions, SetWorkflowID

from dealbridge.sync.runtime import QUEUE_NAME
from dealbridge.web.console.engine_work import read_engine_work

HELD = "deal:006000000000001AAA:2026-01-01T00:00:00.000Z"
QUEUED = "deal:006000000000002AAA:2026-01-01T00:00:00.000Z"
EXECUTOR = "engine-work-test"
APP = "engine-work-test"
_release = threading.Event()


@DBOS.workflow(name="engine_work_test_hold")
def hold(opportunity_id: str) -> str:
    """Stays ``PENDING`` until the test releases it."""
    _release.wait(30)
    return opportunity_id


@pytest.fixture
def system_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'dbos.sqlite3'}"
    DBOS.destroy()
    _release.clear()
    DBOS(config={"name": APP, "system_database_url": url, "executor_id": EXECUTOR})
    DBOS.launch()
    try:
        yield url
    finally:
        _release.set()
        DBOS.destroy(workflow_completion_timeout_sec=5)


def test_pending_and_enqueued_deals_are_listed_with_executor_and_age(system_url: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    with SetWorkflowID(HELD):
        DBOS.start_workflow(hold, "006000000000001AAA")
    client = DBOSClient(system_database_url=system_url, application_name=APP)
    try:
        options: EnqueueOptions = {
            "workflow_name": "sync_deal",
            "queue_name": QUEUE_NAME,
            "workflow_id": QUEUED,
        }
        client.enqueue(options, "006000000000002AAA", {})

        for work in (read_engine_work(), read_engine_work(lambda: client)):
            assert work.readable
            by_id = {row.workflow_id: row for row in work.workflows}
            assert set(by_id) == {HELD, QUEUED}
            held, queued = by_id[HELD], by_id[QUEUED]
            assert (held.state, held.executor_id) == ("PENDING", EXECUTOR)
            assert held.opportunity_id == "006000000000001AAA"
            assert (queued.state, queued.executor_id) == ("ENQUEUED", None)
            assert queued.opportunity_id == "006000000000002AAA"
            assert queued.name == "sync_deal"
            assert held.since >= before
            assert queued.since >= before
            assert [row.workflow_id for row in work.workflows] == [HELD, QUEUED]
    finally:
        client.destroy()


def test_an_unreadable_engine_is_reported_not_raised() -> None:
    def broken() -> DBOSClient:
        raise OSError("no route to the system database")

    work = read_engine_work(broken)

    assert (work.readable, work.workflows) == (False, ())
