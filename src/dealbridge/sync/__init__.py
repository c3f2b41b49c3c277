"""The sync engine: won deals into NetSuite on DBOS durable workflows, exactly once.

Public API (what the web listener, the poller, ``serve`` and ``demo`` build on)::

    runtime = Runtime(Settings())        # runtime.py: DBOS + ledger + flow + clients
    runtime.launch()                     # or: await runtime.launch_async()
    workflow_id = await enqueue_deal(    # triggers.py: durable once this returns
        opportunity_id, account_id=..., system_modstamp=..., trigger="outbound_message")
    outcome = await wait_for_outcome(workflow_id, timeout=60)
    await sync_now(opportunity_id)       # manual: reads AccountId and SystemModstamp first
    is_own = runtime.ledger.is_own_write_back(opportunity_id, system_modstamp)  # poller's guard
    await retry_error(error_id, actor)   # operator.py; resolve_error, edit_and_retry
    runtime.shutdown(timeout=30)         # or: await runtime.shutdown_async(30)

``deal_sync.sync_deal`` is the workflow; its outcome dict is described in ``deal_sync``.
"""

from __future__ import annotations

from dealbridge.sync.deal_sync import WORKFLOW_NAME, sync_deal
from dealbridge.sync.operator import (
    Operator,
    check_override_payload,
    edit_and_retry,
    resolve_error,
    retry_error,
    runtime_operator,
)
from dealbridge.sync.runtime import (
    ENGINE_VERSION,
    QUEUE_NAME,
    Runtime,
    current_runtime,
    deals_in_flight,
    runtime_is_running,
)
from dealbridge.sync.triggers import (
    enqueue_deal,
    enqueue_deal_sync,
    enqueue_with_client,
    opportunity_id18,
    read_trigger_facts,
    start_on_queue,
    sync_now,
    trigger_info,
    wait_for_outcome,
    workflow_id_for,
)

__all__ = [
    "ENGINE_VERSION",
    "QUEUE_NAME",
    "WORKFLOW_NAME",
    "Operator",
    "Runtime",
    "check_override_payload",
    "current_runtime",
    "deals_in_flight",
    "edit_and_retry",
    "enqueue_deal",
    "enqueue_deal_sync",
    "enqueue_with_client",
    "opportunity_id18",
    "read_trigger_facts",
    "resolve_error",
    "retry_error",
    "runtime_is_running",
    "runtime_operator",
    "start_on_queue",
    "sync_deal",
    "sync_now",
    "trigger_info",
    "wait_for_outcome",
    "workflow_id_for",
]
