"""``dealbridge reconcile`` as a user runs it: formats, exit status, the stored report, --repair.

The runtime of the ``synced`` fixture stands for a running worker: it holds the SQLite data
directory, so the command queues its repairs for it through DBOS's client, as it would for
``dealbridge worker``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dealbridge.sync.reconcile_ledger import latest_report, report_history
from dealbridge.sync.reconcile_report import CATEGORIES, CSV_COLUMNS
from tests.integration.reconcile.support import SyncedOrg, cli, cli_json
from tests.integration.sync.harness import run

FINDINGS_EXIT = 3


def test_json_is_one_document_and_the_ledger_keeps_it_with_its_trend(synced: SyncedOrg) -> None:
    clean = cli_json(synced.runtime, "reconcile", "--format", "json")
    run(_delete_a_package(synced))
    damaged = cli_json(synced.runtime, "reconcile", "--format", "json", expect=FINDINGS_EXIT)

    assert clean["summary"] == dict.fromkeys(CATEGORIES, 0)
    assert clean["items"] == []
    assert damaged["summary"]["missing"] == 1
    assert damaged["items"][0]["record_type"] == "customrecord_cpq_package"
    stored = latest_report(synced.runtime.ledger)
    assert stored is not None
    assert stored["generated_at"] == damaged["generated_at"]
    trend = report_history(synced.runtime.ledger)
    assert [entry["summary"]["missing"] for entry in trend] == [0, 1]


def test_csv_and_html(synced: SyncedOrg, tmp_path: Path) -> None:
    run(_delete_a_package(synced))
    page = tmp_path / "report.html"

    text = cli(synced.runtime, "reconcile", "--format", "csv", expect=FINDINGS_EXIT)
    cli(synced.runtime, "reconcile", "--format", "html", "-o", str(page), expect=FINDINGS_EXIT)

    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row["category"] for row in rows] == ["missing"]
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "<script" not in html
    assert "http" not in html  # self-contained: no stylesheet, font or script to fetch
    assert rows[0]["external_id"] in html


def test_repair_queues_for_the_running_worker_and_ends_clean(synced: SyncedOrg) -> None:
    run(_delete_a_package(synced))

    cli(synced.runtime, "reconcile", "--repair", "--format", "csv")

    assert cli_json(synced.runtime, "reconcile", "--format", "json")["items"] == []


async def _delete_a_package(synced: SyncedOrg) -> None:
    package = synced.org.ns_records("customrecord_cpq_package")[0]
    async with synced.netsuite() as netsuite:
        await netsuite.delete("customrecord_cpq_package", package["id"])
