"""A won deal through the whole engine: Salesforce emulator → flow → NetSuite emulator → back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from sqlalchemy import select

from dealbridge.db import open_errors, runs
from dealbridge.db.models import ApiCall
from dealbridge.sync import Runtime, dbos_inline, deal_sync, sync_now, wait_for_outcome
from dealbridge.sync.system_db import LoopSystemDatabaseConnection
from tests.integration.sync.harness import (
    Emulators,
    by_external_id,
    close_and_sync,
    enqueue_and_wait,
    queue_as_earlier_release,
    restart_after_crash,
    run,
    settings_for,
    touch,
)


def ref_id(value: Any) -> str:
    """A stored reference, whichever form the emulator keeps it in."""
    return str(value["id"] if isinstance(value, dict) else value)


def netsuite_puts(runtime: Runtime, run_id: str) -> int:
    with runtime.ledger.session() as session:
        query = select(ApiCall).where(
            ApiCall.run_id == run_id, ApiCall.system == "netsuite", ApiCall.method == "PUT"
        )
        return len(list(session.scalars(query)))


def test_a_sound_deal_lands_with_references_and_is_written_back(
    org: Emulators, runtime: Runtime
) -> None:
    opportunity_id = org.seeded["won_candidates"][0]
    outcome = close_and_sync(org, opportunity_id)

    assert outcome["status"] == "synced", outcome
    assert outcome["records_written"] == len(outcome["netsuite_ids"]) > 0
    account_id = org.get("Opportunity", opportunity_id)["AccountId"]
    ids = outcome["netsuite_ids"]
    customer_id = ids[f"customer/SFACC-{account_id}"]
    customers = by_external_id(org.ns_records("customer"))
    assert customers[f"SFACC-{account_id}"]["id"] == customer_id
    subscriptions = by_external_id(org.ns_records("subscription"))
    sub_keys = sorted(key for key in ids if key.startswith("subscription/"))
    assert sub_keys
    for key in sub_keys:
        record = subscriptions[key.split("/", 1)[1]]
        assert record["id"] == ids[key]
        assert ref_id(record["customer"]) == customer_id
    packages = by_external_id(org.ns_records("customrecord_cpq_package"))
    for key, record in packages.items():
        subscription = ref_id(record["custrecord_cpq_pkg_subscription"])
        assert subscription == ids[f"subscription/SFSUB-{key.removeprefix('SFPKG-')}"]

    opportunity = org.get("Opportunity", opportunity_id)
    assert opportunity["NetSuite_Sync_Status__c"] == "Synced"
    assert opportunity["NetSuite_Sync_Error__c"] is None
    assert opportunity["NetSuite_Synced_At__c"]
    assert sorted(opportunity["NetSuite_Subscription_Ids__c"].split(",")) == sorted(
        ids[key] for key in sub_keys
    )
    assert org.get("Account", account_id)["NetSuite_Customer_Id__c"] == customer_id

    with runtime.ledger.session() as session:
        run = runs.get_run(session, outcome["run_id"])
        assert run is not None
        assert run.status == "synced"
        assert run.records_written == outcome["records_written"]
        assert [t["step"] for t in run.step_timings][:3] == ["start_run", "extract", "plan"]
        salesforce = run.api_calls["salesforce"]
        # the token, the two reads of the deal graph, the one composite write-back
        assert salesforce["total"] <= 4
        assert salesforce["writes"] == 2  # the token POST and the composite
    assert runtime.ledger.is_own_write_back(opportunity_id, opportunity["SystemModstamp"])


def test_the_same_change_again_is_a_no_op(org: Emulators, runtime: Runtime) -> None:
    opportunity_id = org.seeded["won_candidates"][0]
    row = org.close_won(opportunity_id)
    first = enqueue_and_wait(row)
    requests = org.netsuite_control.stats()["total_requests"]

    again = enqueue_and_wait(row, trigger="outbound_message")

    assert again == first
    assert org.netsuite_control.stats()["total_requests"] == requests
    with runtime.ledger.session() as session:
        assert len(runs.list_runs(session, runs.RunFilter(opportunity=opportunity_id))) == 1


def test_a_new_stamp_with_unchanged_data_writes_nothing(org: Emulators, runtime: Runtime) -> None:
    opportunity_id = org.seeded["won_candidates"][0]
    first = close_and_sync(org, opportunity_id)
    touched = touch(org, opportunity_id)

    second = enqueue_and_wait(touched)

    assert first["status"] == "synced"
    assert second["workflow_id"] != first["workflow_id"]
    assert second["status"] == "unchanged"
    assert second["records_written"] == 0
    assert second["records_unchanged"] == first["records_written"]
    assert second["netsuite_ids"] == first["netsuite_ids"]
    assert netsuite_puts(runtime, second["run_id"]) == 0
    assert second["write_back"]["status"] == "skipped"
    assert org.get("Opportunity", opportunity_id)["SystemModstamp"] == touched["SystemModstamp"]


def test_our_own_write_back_does_not_set_off_another_sync(org: Emulators, runtime: Runtime) -> None:
    opportunity_id = org.seeded["won_candidates"][0]
    close_and_sync(org, opportunity_id)
    after_write_back = org.get("Opportunity", opportunity_id)
    requests = org.netsuite_control.stats()["total_requests"]

    echo = enqueue_and_wait(after_write_back, trigger="poller")

    assert echo["status"] == "unchanged"
    assert echo["reason"] == "own_write_back"
    assert org.netsuite_control.stats()["total_requests"] == requests
    assert (
        org.get("Opportunity", opportunity_id)["SystemModstamp"]
        == (after_write_back["SystemModstamp"])
    )


def test_flawed_deals_become_open_errors_naming_record_and_field(
    org: Emulators, runtime: Runtime
) -> None:
    flaws = {reason: opp for opp, reason in org.seeded["flawed"].items()}
    expected = {
        "unknown_product": ("subscriptionPlan", "item"),
        "long_account_name": ("customer", "companyName"),
    }
    for reason, (record_type, field) in expected.items():
        opportunity_id = flaws[reason]
        outcome = close_and_sync(org, opportunity_id)

        assert outcome["status"] == "invalid", outcome
        assert outcome["records_written"] == 0
        with runtime.ledger.session() as session:
            error = open_errors.get_error(session, outcome["error_id"])
            assert error is not None
            assert (error.state, error.failure_type) == ("open", "validation")
            assert error.record_type == record_type
            assert error.external_id
            assert error.field_path is not None
            assert error.field_path.endswith(field)
            assert error.violations
            run = runs.get_run(session, outcome["run_id"])
            assert run is not None
            assert run.status == "invalid"
        opportunity = org.get("Opportunity", opportunity_id)
        assert opportunity["NetSuite_Sync_Status__c"] == "Failed"
        assert error.user_message in opportunity["NetSuite_Sync_Error__c"]
    assert org.ns_records("customer") == []


def test_a_manual_sync_of_an_open_deal_is_skipped_without_error(
    org: Emulators, runtime: Runtime
) -> None:
    opportunity_id = org.seeded["won_candidates"][1]  # still open: the flow's trigger is IsWon

    async def manual() -> dict[str, Any]:
        workflow_id = await sync_now(opportunity_id[:15], actor="carol")
        return await wait_for_outcome(workflow_id, 60)

    outcome = run(manual())

    assert (outcome["status"], outcome["reason"]) == ("skipped", "not_triggered")
    assert outcome["error_id"] is None
    assert org.get("Opportunity", opportunity_id)["NetSuite_Sync_Status__c"] is None
    with runtime.ledger.session() as session:
        stored = runs.get_run(session, outcome["run_id"])
        assert stored is not None
        assert (stored.status, stored.trigger, stored.trigger_ref) == (
            "invalid",
            "manual",
            "by:carol",
        )
        assert open_errors.list_errors(session) == []


def test_on_sqlite_the_one_process_limit_is_the_queue_limit(runtime: Runtime) -> None:
    """One process per SQLite state, so DBOS may claim every account's next deal in one query."""
    budget = runtime.fleet.budget
    assert runtime.queue.global_concurrency is None
    assert runtime.queue.worker_concurrency == budget.deals_per_process == budget.deals_in_flight
    assert runtime.queue.partition_concurrency == 1


def test_on_sqlite_dbos_bookkeeping_runs_on_the_deals_loop_while_launched(
    org: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DBOS's step and workflow bookkeeping runs inline (``sync/dbos_inline.py``), then stops."""
    DBOS.destroy()
    started = Runtime(settings_for(org, tmp_path / "data"))
    started.launch()
    try:
        hooks = dbos_inline.installed()
        assert hooks is not None
        engine_kwargs = started.dbos_config()["db_engine_kwargs"]  # type: ignore[typeddict-item]
        assert engine_kwargs["connect_args"]["factory"] is LoopSystemDatabaseConnection
        ticks: list[int] = []
        counted = hooks.checkpoints.tick
        monkeypatch.setattr(hooks.checkpoints, "tick", lambda: (ticks.append(1), counted()))
        outcome = close_and_sync(org, org.seeded["won_candidates"][0])
        assert outcome["status"] == "synced", outcome
        assert len(ticks) >= 6  # a check and a record for each of a deal's three steps
    finally:
        started.shutdown(0)
    assert dbos_inline.installed() is None


def _run_facts(runtime: Runtime, run_id: str) -> tuple[Any, ...]:
    with runtime.ledger.session() as session:
        finished = runs.get_run(session, run_id)
        assert finished is not None
        return (
            finished.status,
            finished.records_written,
            finished.step_timings,
            finished.api_calls,
        )


def _run_count(runtime: Runtime, opportunity_id: str) -> int:
    with runtime.ledger.session() as session:
        return len(runs.list_runs(session, runs.RunFilter(opportunity=opportunity_id)))


def test_the_run_is_opened_and_finished_without_a_checkpoint_and_again_after_a_crash(
    org: Emulators, runtime: Runtime
) -> None:
    """Opening and finishing the run are no steps: a crash after the last step re-runs both."""
    first = close_and_sync(org, org.seeded["won_candidates"][0])
    recorded = DBOS.list_workflow_steps(first["workflow_id"])
    assert [step["function_name"] for step in recorded] == [
        "read_and_plan", "upserts", "write_back",
    ]  # fmt: skip
    facts = _run_facts(runtime, first["run_id"])
    assert facts[0] == "synced"
    assert [timing["step"] for timing in facts[2]][:3] == ["start_run", "extract", "plan"]

    # As after a crash between the ledger's write and DBOS's outcome: every step replays.
    after_write_back = recorded[-1]["function_id"] + 1
    again_runtime = restart_after_crash(runtime, first["workflow_id"], after_write_back)
    try:
        again = run(wait_for_outcome(first["workflow_id"], 90))
        assert again["run_id"] == first["run_id"]  # the run reopened by its workflow id
        assert again["records_written"] == first["records_written"]
        assert _run_facts(again_runtime, first["run_id"])[:2] == facts[:2]
        assert _run_count(again_runtime, first["opportunity_id"]) == 1
    finally:
        again_runtime.shutdown(0)


def test_a_crash_before_the_first_checkpoint_reopens_the_same_run_and_writes_once(
    org: Emulators, runtime: Runtime
) -> None:
    first = close_and_sync(org, org.seeded["won_candidates"][0])
    written = netsuite_puts(runtime, first["run_id"])
    assert written > 0
    recorded = DBOS.list_workflow_steps(first["workflow_id"])

    # No checkpoint survives: the deal is read, planned, upserted and written back again.
    again_runtime = restart_after_crash(runtime, first["workflow_id"], recorded[0]["function_id"])
    try:
        again = run(wait_for_outcome(first["workflow_id"], 90))
        assert again["run_id"] == first["run_id"]
        # The records this run wrote count as its writes again, but none is sent twice.
        assert again["status"] == "synced"
        assert again["records_written"] == first["records_written"]
        assert netsuite_puts(again_runtime, first["run_id"]) == written
        assert _run_facts(again_runtime, first["run_id"])[:2] == (
            "synced",
            again["records_written"],
        )
        assert _run_count(again_runtime, first["opportunity_id"]) == 1
    finally:
        again_runtime.shutdown(0)


def test_a_deal_that_checkpointed_finish_run_replays_without_calling_it(
    org: Emulators, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deals of earlier releases recorded ``finish_run`` as their last step; replay skips it.

    Those releases opened the run in a ``start_run`` step too (their triggers say so).
    """

    async def as_a_step(write: Any) -> Any:
        return await DBOS.run_step_async(runtime.ledger_step("finish_run"), write)

    with monkeypatch.context() as patch:
        queue_as_earlier_release(patch)
        patch.setattr(deal_sync, "ledger_write", as_a_step)
        first = close_and_sync(org, org.seeded["won_candidates"][0])
    recorded = DBOS.list_workflow_steps(first["workflow_id"])
    assert recorded[0]["function_name"] == "start_run"
    assert recorded[-1]["function_name"] == "finish_run"

    again_runtime = restart_after_crash(
        runtime, first["workflow_id"], recorded[-1]["function_id"] + 1
    )
    try:
        again = run(wait_for_outcome(first["workflow_id"], 90))
    finally:
        again_runtime.shutdown(0)

    assert again["status"] == "synced"
    assert again["run_id"] == first["run_id"]
