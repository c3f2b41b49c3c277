"""Starting deals: workflow ids, and putting a deal on the ``deals`` queue.

Exactly once starts here (DESIGN §5): the workflow id is ``deal:<OpportunityId18>:<SystemModstamp>``
so a repeated notification of the same change — Salesforce retries Outbound Messages, the poller
overlaps its window, a person clicks twice — names the same workflow. DBOS 3.4 treats an existing
id as "return the existing workflow" (``SetWorkflowID``'s default ``workflow_id_reuse_policy``,
checked in ``dbos/_context.py`` and by experiment on a partitioned queue), so a duplicate enqueue
is a no-op that returns the same id, whatever that workflow's state. DBOS's own
``deduplication_id`` is not an option here: ``Queue._validate_enqueue`` refuses it together with a
partition key, and the queue is partitioned by AccountId so that two deals of one account never
race to create the same customer.

Three ways in: ``enqueue_deal`` (async, inside a launched runtime: the web listener, the poller),
``enqueue_deal_sync`` (plain code with a launched runtime) and ``enqueue_with_client`` (a process
that must not launch DBOS, e.g. the CLI while a worker owns the SQLite files).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from dbos import (
    DBOS,
    DBOSClient,
    EnqueueOptions,
    SetEnqueueOptions,
    SetWorkflowID,
    WorkflowHandleAsync,
)

from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.models import to_id18
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.db.models import TRIGGERS
from dealbridge.db.timestamps import utc_now
from dealbridge.errors import NotFoundError, ValidationError
from dealbridge.sync.deal_sync import WORKFLOW_NAME, sync_deal
from dealbridge.sync.runtime import ENGINE_VERSION, QUEUE_NAME, current_runtime
from dealbridge.sync.stamps import salesforce_instant
from dealbridge.sync.steps import RUN_OPENED_WITHOUT_STEP, START_LAYOUT_KEY

NO_ACCOUNT = "no-account"  # the partition of a deal without an account (it cannot sync)
RESULT_POLL_SECONDS = 0.2
TRIGGER_FACTS_QUERY = "SELECT Id, AccountId, SystemModstamp FROM Opportunity WHERE Id = {}"


def opportunity_id18(opportunity_id: str) -> str:
    """The 18-character id (15-character ids from reports and URLs are accepted).

    Raises:
        ValidationError: Not a Salesforce id.
    """
    try:
        return to_id18(opportunity_id.strip())
    except ValueError:
        raise ValidationError(
            f"{opportunity_id!r} is not a Salesforce Opportunity id",
            record="Opportunity",
            field_path="Id",
            rule="salesforce_id",
        ) from None


def workflow_id_for(opportunity_id: str, system_modstamp: str | datetime) -> str:
    """``deal:<OpportunityId18>:<SystemModstamp as YYYY-MM-DDTHH:MM:SS.mmmZ>``."""
    return f"deal:{opportunity_id18(opportunity_id)}:{salesforce_instant(system_modstamp)}"


def trigger_info(
    kind: str,
    *,
    account_id: str | None,
    system_modstamp: str | datetime | None,
    trigger_ref: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The workflow's ``trigger`` argument: plain, picklable, stable data.

    Raises:
        ValidationError: ``kind`` is not one of the ledger's triggers.
    """
    if kind not in TRIGGERS:
        raise ValidationError(
            f"unknown trigger {kind!r}; expected one of {', '.join(TRIGGERS)}",
            record="trigger",
            field_path="kind",
            rule="one_of",
        )
    return {
        "kind": kind,
        "account_id": to_id18(account_id) if account_id else None,
        "system_modstamp": salesforce_instant(system_modstamp) if system_modstamp else None,
        "trigger_ref": trigger_ref,
        "received_at": utc_now().isoformat(),
        START_LAYOUT_KEY: RUN_OPENED_WITHOUT_STEP,
        **extra,
    }


async def enqueue_deal(
    opportunity_id: str,
    *,
    account_id: str | None,
    system_modstamp: str | datetime,
    trigger: str,
    trigger_ref: str | None = None,
) -> str:
    """Durably queue one deal change; returns its workflow id (the same for a duplicate).

    When this returns, the workflow is in DBOS's database: an Outbound Message may be acked.
    """
    workflow_id = workflow_id_for(opportunity_id, system_modstamp)
    info = trigger_info(
        trigger, account_id=account_id, system_modstamp=system_modstamp, trigger_ref=trigger_ref
    )
    await start_on_queue(workflow_id, opportunity_id18(opportunity_id), info)
    return workflow_id


def enqueue_deal_sync(
    opportunity_id: str,
    *,
    account_id: str | None,
    system_modstamp: str | datetime,
    trigger: str,
    trigger_ref: str | None = None,
) -> str:
    """``enqueue_deal`` for synchronous code in a process with a launched runtime."""
    workflow_id = workflow_id_for(opportunity_id, system_modstamp)
    info = trigger_info(
        trigger, account_id=account_id, system_modstamp=system_modstamp, trigger_ref=trigger_ref
    )
    start_on_queue_sync(workflow_id, opportunity_id18(opportunity_id), info)
    return workflow_id


def start_on_queue_sync(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
    """``start_on_queue`` for synchronous code (not on an event loop's thread)."""
    partition = info.get("account_id") or NO_ACCOUNT
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=partition):
        current_runtime().queue.enqueue(sync_deal, opportunity_id, info)


async def start_on_queue(workflow_id: str, opportunity_id: str, info: dict[str, Any]) -> None:
    """Enqueue ``sync_deal`` under ``workflow_id`` in the account's partition."""
    partition = info.get("account_id") or NO_ACCOUNT
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=partition):
        await current_runtime().queue.enqueue_async(sync_deal, opportunity_id, info)


def enqueue_with_client(
    client: DBOSClient, workflow_id: str, opportunity_id: str, info: dict[str, Any]
) -> str:
    """Enqueue from a process that has not launched DBOS (the CLI beside a running worker)."""
    options: EnqueueOptions = {
        "workflow_name": WORKFLOW_NAME,
        "queue_name": QUEUE_NAME,
        "workflow_id": workflow_id,
        "queue_partition_key": info.get("account_id") or NO_ACCOUNT,
        "app_version": ENGINE_VERSION,
    }
    return client.enqueue(options, opportunity_id, info).workflow_id


async def read_trigger_facts(
    salesforce: SalesforceClient, opportunity_id: str
) -> tuple[str | None, str]:
    """The opportunity's AccountId and SystemModstamp, in one SOQL query (manual triggers).

    Raises:
        NotFoundError: No such opportunity.
    """
    query = soql(TRIGGER_FACTS_QUERY, opportunity_id)
    rows = (await salesforce.query(query)).records
    if not rows:
        raise NotFoundError(
            f"Salesforce has no Opportunity {opportunity_id}",
            system="salesforce",
            operation="GET query Opportunity",
            context={"opportunity_id": opportunity_id},
        )
    return rows[0].get("AccountId"), str(rows[0]["SystemModstamp"])


async def sync_now(
    opportunity_id: str, *, trigger: str = "manual", actor: str | None = None
) -> str:
    """A manual sync of the opportunity as it is now; returns the workflow id.

    Reads AccountId and SystemModstamp first (one API call), so a manual sync of an unchanged
    deal joins the workflow the notification already started instead of running it twice.
    """
    identifier = opportunity_id18(opportunity_id)
    clients = await current_runtime().loop_clients()
    account_id, stamp = await read_trigger_facts(clients.salesforce, identifier)
    return await enqueue_deal(
        identifier,
        account_id=account_id,
        system_modstamp=stamp,
        trigger=trigger,
        trigger_ref=f"by:{actor}" if actor else None,
    )


async def wait_for_outcome(workflow_id: str, timeout: float | None = None) -> dict[str, Any]:
    """The outcome of a deal's workflow once it has finished (``deal_sync`` module docstring).

    Raises:
        TimeoutError: It has not finished within ``timeout`` seconds.
    """
    handle: WorkflowHandleAsync[dict[str, Any]] = await DBOS.retrieve_workflow_async(workflow_id)
    waiting = handle.get_result(polling_interval_sec=RESULT_POLL_SECONDS)
    result: dict[str, Any] = await asyncio.wait_for(waiting, timeout)
    return result
