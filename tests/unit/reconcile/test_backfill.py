"""The backfill's pages, cursor and skips, with a fake org and a fake worker on a real ledger."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from dealbridge.connectors.salesforce.limits import API_USAGE_GUARD
from dealbridge.connectors.salesforce.results import QueryResult
from dealbridge.db import runs, watermarks
from dealbridge.errors import RateLimitedError
from dealbridge.sync.backfill import job_name, run_backfill
from dealbridge.sync.ledger import WRITE_BACK_WATERMARK, Ledger
from dealbridge.sync.reconcile_fetch import Window
from dealbridge.sync.reconcile_ledger import read_cursor
from dealbridge.sync.triggers import workflow_id_for

WINDOW = Window()
STAMP = "2025-05-01T10:00:00.000+0000"


def _deal(number: int) -> dict[str, Any]:
    return {
        "Id": f"006{number:012d}AAA",
        "AccountId": f"001{number:012d}AAA",
        "SystemModstamp": STAMP,
        "CloseDate": f"2025-01-{1 + number // 3:02d}",
    }


class FakeOrg:
    """Won opportunities answered page by page; the usage guard trips on demand."""

    def __init__(self, count: int, guard_after: int | None = None) -> None:
        self.deals = [_deal(n) for n in range(count)]
        self.guard_after = guard_after
        self.pages = 0

    def guard(self, kind: str) -> None:
        if self.guard_after is not None and self.pages >= self.guard_after:
            raise RateLimitedError(
                "above the guard", system="salesforce", code=API_USAGE_GUARD, retry_after=60
            )

    async def query(self, query: str) -> QueryResult:
        return QueryResult(len(self._after(query)), True, [])

    async def query_all(self, query: str) -> list[dict[str, Any]]:
        self.pages += 1
        return self._after(query)[: int(query.rsplit(" ", 1)[1])]

    def _after(self, query: str) -> list[dict[str, Any]]:
        found = re.search(r"CloseDate = (\S+) AND Id > '([^']+)'", query)
        if not found:
            return list(self.deals)
        cursor = (found.group(1), found.group(2))
        return [d for d in self.deals if (d["CloseDate"], d["Id"]) > cursor]


class FakeWorker:
    """``Enqueue``: records each deal and finishes its run at once, or dies after ``die_after``."""

    def __init__(self, ledger: Ledger, die_after: int | None = None) -> None:
        self.ledger = ledger
        self.die_after = die_after
        self.queued: list[str] = []

    async def __call__(self, workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
        if self.die_after is not None and len(self.queued) >= self.die_after:
            raise KeyboardInterrupt  # the process is killed mid-page
        self.queued.append(opportunity_id)
        with self.ledger.session() as session:
            run = runs.start_run(
                session,
                workflow_id=workflow_id,
                opportunity_id=opportunity_id,
                trigger=info["kind"],
                trigger_ref=info["trigger_ref"],
            )
            runs.finish_run(session, run.id, status="synced")


def backfill(org: FakeOrg, ledger: Ledger, worker: FakeWorker, **options: Any) -> Any:
    return asyncio.run(
        run_backfill(org, ledger, worker, WINDOW, page_size=4, **options)  # type: ignore[arg-type]
    )


def test_every_deal_is_queued_once_and_the_cursor_ends_after_the_last(ledger: Ledger) -> None:
    org = FakeOrg(10)
    worker = FakeWorker(ledger)

    summary = backfill(org, ledger, worker)

    assert worker.queued == [deal["Id"] for deal in org.deals]
    assert (summary.total, summary.queued, summary.skipped) == (10, 10, 0)
    assert summary.outcomes == {"synced": 10}
    last = org.deals[-1]
    assert read_cursor(ledger, job_name(WINDOW)) == f"{last['CloseDate']}/{last['Id']}"
    assert summary.job_totals == {"synced": 10}


def test_a_killed_backfill_resumes_without_queueing_a_finished_deal_again(ledger: Ledger) -> None:
    org = FakeOrg(10)
    with pytest.raises(KeyboardInterrupt):
        backfill(org, ledger, FakeWorker(ledger, die_after=6))  # dies in the second page
    again = FakeWorker(ledger)

    summary = backfill(org, ledger, again)

    assert again.queued == [deal["Id"] for deal in org.deals[6:]]
    assert summary.skipped == 2  # the second page's deals that had finished before the kill
    assert summary.job_totals == {"synced": 10}


def test_a_deal_synced_before_and_unchanged_since_is_not_queued(ledger: Ledger) -> None:
    org = FakeOrg(3)
    first, second = org.deals[0]["Id"], org.deals[1]["Id"]
    with ledger.session() as session:
        watermarks.advance_watermark(session, WRITE_BACK_WATERMARK + first, STAMP)
        runs.start_run(
            session,
            workflow_id=workflow_id_for(second, STAMP),
            opportunity_id=second,
            trigger="poller",
        )
    worker = FakeWorker(ledger)

    summary = backfill(org, ledger, worker)

    assert worker.queued == [org.deals[2]["Id"]]
    assert summary.skipped == 2


def test_the_usage_guard_pauses_the_backfill_and_the_next_run_resumes(ledger: Ledger) -> None:
    org = FakeOrg(10, guard_after=1)
    paused = backfill(org, ledger, FakeWorker(ledger))
    assert paused.paused is not None
    assert "run the same command later" in paused.paused
    assert paused.queued == 4

    org.guard_after = None
    resumed = FakeWorker(ledger)
    backfill(org, ledger, resumed)
    assert resumed.queued == [deal["Id"] for deal in org.deals[4:]]


def test_from_start_forgets_the_cursor_but_finished_deals_stay_skipped(ledger: Ledger) -> None:
    org = FakeOrg(5)
    backfill(org, ledger, FakeWorker(ledger))
    again = FakeWorker(ledger)

    summary = backfill(org, ledger, again, from_start=True)

    assert again.queued == []
    assert summary.skipped == 5
