"""``sync_deal``: one won opportunity into NetSuite, durably, exactly once.

The run is opened in the ledger outside any step (``_start``); then the steps, in order (names
are part of ``ENGINE_VERSION``'s contract): ``read_and_plan`` → ``upserts`` → ``write_back``; on
failure ``record_failure`` comes before the write-back. ``upserts`` sends each record once the
records it refers to are written (``sync.upserts``). Then the run is finished in the ledger,
outside any step too. Doing either ledger write again after a crash records the same facts: the
run is keyed by its workflow id, and finishing it writes the same outcome.

Deals queued or started by earlier releases go on as they began, so the upgrades need no new
``ENGINE_VERSION``: a trigger without ``start_layout`` (the workflow's input, written when the
deal was queued) means the run is opened in a ``start_run`` step; a ``start_run`` checkpoint
without ``read_layout`` means separate ``extract`` and ``plan`` steps (the run's timings name
``start_run``, ``extract`` and ``plan`` either way); a plan checkpoint without ``upsert_layout``
means ``wave_1`` … ``wave_n``, one step per wave. Deals of earlier releases also checkpointed the
finish as a last step, ``finish_run``; their replay no longer calls it, which DBOS allows (only
the steps a replay calls are checked).

Remote steps retry retryable errors with exponential backoff for about 17 minutes
(``sync.step_*`` settings), so a NetSuite or Salesforce outage makes deals wait and land
afterwards.

The workflow never raises for an expected failure: data that breaks the flow's rules, a refusal by
NetSuite, credentials, an outage that outlived the retries, even an unexpected exception inside a
step — each becomes an open error (classified), a "Failed" write-back with the reason, a finished
run and an outcome dict. DBOS's ERROR status is left for bugs in this module or DBOS itself (a
replay that no longer matches its checkpoints), which retrying could not fix anyway.

The outcome (also the workflow's result)::

    {"workflow_id", "opportunity_id", "run_id", "status": synced|unchanged|invalid|failed|skipped,
     "reason", "records_written", "records_unchanged", "netsuite_ids": {"type/eid": id},
     "error": {…} | None, "error_id", "write_back": {"status": written|skipped|disabled|failed}}
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import structlog
from dbos import DBOS, StepOptions

from dealbridge.errors import DealbridgeError
from dealbridge.sync import steps
from dealbridge.sync.ledger import WRITE_BACK_STEP, RunFinish
from dealbridge.sync.outcome import (
    as_dealbridge_error,
    error_text,
    failure_of,
    is_engine_control,
    run_status_of,
    violations_error,
)
from dealbridge.sync.plan_data import record_keys, waves_of
from dealbridge.sync.runtime import current_runtime, ledger_write
from dealbridge.sync.steps import DEPENDENCY_ORDER, UPSERT_LAYOUT_KEY
from dealbridge.sync.write_back import FAILED, SYNCED

WORKFLOW_NAME = "sync_deal"
_log = structlog.get_logger("dealbridge.sync")


@DBOS.workflow(name=WORKFLOW_NAME)
async def sync_deal(opportunity_id: str, trigger: dict[str, Any]) -> dict[str, Any]:
    """Sync one opportunity; ``trigger`` is ``triggers.trigger_info(…)``'s plain dict."""
    return await DealSync(opportunity_id, trigger).run()


async def _began_with_a_start_run_step(workflow_id: str) -> bool:
    """Whether the workflow's first checkpoint is a ``start_run`` step (an earlier release's).

    Read outside the workflow's context (``run_in_executor`` does not copy it): DBOS records a
    step for its own calls made inside a workflow, and that step would take the number the
    workflow's next step is checked under.
    """
    loop = asyncio.get_running_loop()
    recorded = await loop.run_in_executor(
        None, partial(DBOS.list_workflow_steps, workflow_id, load_output=False, limit=1)
    )
    return bool(recorded) and recorded[0]["function_name"] == "start_run"


class DealSync:
    """The state of one execution of ``sync_deal`` (rebuilt from checkpoints on replay)."""

    def __init__(self, opportunity_id: str, trigger: dict[str, Any]) -> None:
        self.opportunity_id = opportunity_id
        self.trigger = trigger
        self.account_id: str | None = trigger.get("account_id")
        self.workflow_id = DBOS.workflow_id or ""
        self.run_id = ""
        self.timings: list[dict[str, Any]] = []
        self.document: dict[str, Any] | None = None
        self.ids: dict[str, str] = {}
        self.written = 0
        self.unchanged = 0

    async def run(self) -> dict[str, Any]:
        """The whole deal: see the module docstring."""
        started = await self._start()
        self.run_id = started["run_id"]
        if started["own_write_back"]:
            return await self._finish("unchanged", reason="own_write_back")
        try:
            outcome = await self._sync(started.get(steps.READ_LAYOUT_KEY) == steps.ONE_READ_STEP)
        except Exception as exc:
            if is_engine_control(exc):
                raise
            return await self._fail(as_dealbridge_error(exc))
        return outcome

    async def _start(self) -> dict[str, Any]:
        """The run opened: outside any step, or as the first step of an earlier release's deal.

        Why no step: opening the run again after a crash finds the same row (it is keyed by the
        workflow id), so a checkpoint would cost DBOS two transactions for nothing. The echo
        check is repeated with it; it can only change from "our own write-back" to "a change"
        (the watermark moves forward only), and then the deal is synced instead of skipped.

        The trigger's ``start_layout`` is written by the process that queued the deal, which in
        a rolling upgrade may be newer than the one that ran it: an earlier release ignores the
        key and opens the run in a ``start_run`` step. So a deal whose run already existed (it
        is resumed) checks its checkpoints, and goes on with that step if they begin with it.
        """
        args = (self.workflow_id, self.opportunity_id, self.trigger)
        options = current_runtime().ledger_step("start_run")
        if self.trigger.get(steps.START_LAYOUT_KEY) != steps.RUN_OPENED_WITHOUT_STEP:
            return await self._step(options, steps.start_run, *args)
        started = await ledger_write(partial(steps.start_run, *args))
        if started["reopened"] and await _began_with_a_start_run_step(self.workflow_id):
            return await self._step(options, steps.start_run, *args)
        self.timings.append({"step": "start_run", "ms": started["ms"]})
        return started

    async def _sync(self, read_in_one_step: bool) -> dict[str, Any]:
        planned = await (self._read_and_plan() if read_in_one_step else self._read_then_plan())
        self.document = planned["plan"]
        if not planned["triggered"]:
            return await self._finish("invalid", reason="not_triggered", status="skipped")
        if not planned["ok"]:
            assert self.document is not None  # noqa: S101 - a triggered plan has a document
            raise violations_error(self.document["violations"], self.document["operations"])
        if planned.get(UPSERT_LAYOUT_KEY) == DEPENDENCY_ORDER:
            await self._upserts()
        else:
            await self._waves()
        status = "synced" if self.written else "unchanged"
        write_back = await self._write_back(self._success_write(), unchanged=not self.written)
        return await self._finish(status, write_back=write_back)

    async def _read_and_plan(self) -> dict[str, Any]:
        """The deal read and planned in one step (``steps.read_and_plan``)."""
        planned = await self._step(
            current_runtime().remote_step(steps.ONE_READ_STEP),
            steps.read_and_plan,
            self.run_id,
            self.opportunity_id,
            self._fresh_lookups,
        )
        self.account_id = planned["account_id"] or self.account_id
        return planned

    async def _read_then_plan(self) -> dict[str, Any]:
        """Earlier releases' layout, for deals they started: ``extract``, then ``plan``."""
        runtime = current_runtime()
        extracted = await self._step(
            runtime.remote_step("extract"), steps.extract, self.run_id, self.opportunity_id
        )
        self.account_id = extracted["account_id"] or self.account_id
        return await self._step(
            runtime.remote_step("plan"),
            steps.plan,
            self.run_id,
            extracted["graph"],
            self._fresh_lookups,
        )

    @property
    def _fresh_lookups(self) -> bool:
        """A retry plans with fresh lookup tables (it usually follows a fix of reference data)."""
        return bool(self.trigger["kind"] == "retry")

    async def _upserts(self) -> None:
        runtime = current_runtime()
        assert self.document is not None  # noqa: S101 - called after a plan
        ordered = [entry for wave in waves_of(self.document) for entry in wave]
        result = await self._step(
            runtime.remote_step("upserts"),
            steps.upserts,
            self.run_id,
            self.opportunity_id,
            ordered,
            {},
            self.document["flow"],
        )
        self._took(result)

    async def _waves(self) -> None:
        """The previous release's layout, for deals it planned (see the module docstring)."""
        runtime = current_runtime()
        assert self.document is not None  # noqa: S101 - called after a plan
        flow = self.document["flow"]
        for number, entries in enumerate(waves_of(self.document), start=1):
            result = await self._step(
                runtime.remote_step(f"wave_{number}"),
                steps.upserts,
                self.run_id,
                self.opportunity_id,
                entries,
                dict(self.ids),
                flow,
            )
            self._took(result)

    def _took(self, result: dict[str, Any]) -> None:
        self.ids.update(result["ids"])
        self.written += len(result["written"])
        self.unchanged += len(result["unchanged"])

    async def _fail(self, error: DealbridgeError) -> dict[str, Any]:
        runtime = current_runtime()
        recorded = await self._step(
            runtime.ledger_step("record_failure"),
            steps.record_failure,
            self.run_id,
            self.workflow_id,
            self.opportunity_id,
            failure_of(error, self.account_id),
        )
        write = {
            "opportunity_id": self.opportunity_id,
            "account_id": self.account_id,
            "status": FAILED,
            "error": error_text(error),
        }
        write_back = await self._write_back(write, unchanged=False)
        return await self._finish(
            run_status_of(error), error=error, error_id=recorded["error_id"], write_back=write_back
        )

    async def _write_back(self, write: dict[str, Any], *, unchanged: bool) -> dict[str, Any]:
        """Best effort: a write-back that fails is logged and reported, never fatal."""
        options = current_runtime().remote_step(WRITE_BACK_STEP)
        try:
            result = await DBOS.run_step_async(
                options, steps.write_back, self.run_id, write, unchanged
            )
        except Exception as exc:
            if is_engine_control(exc):
                raise
            error = as_dealbridge_error(exc)
            _log.warning("write_back_failed", opportunity=self.opportunity_id, error=error.message)
            result = {"status": "failed", "error": error.as_dict()}
        self.timings.append({"step": WRITE_BACK_STEP, **result})
        return result

    def _success_write(self) -> dict[str, Any]:
        assert self.document is not None  # noqa: S101 - after the upserts
        subscriptions = record_keys(self.document, "subscription")
        customers = record_keys(self.document, "customer")
        return {
            "opportunity_id": self.opportunity_id,
            "account_id": self.account_id,
            "status": SYNCED,
            "subscription_ids": [self.ids[key] for key in subscriptions if key in self.ids],
            "customer_id": self.ids.get(customers[0]) if customers else None,
        }

    async def _finish(
        self,
        run_status: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        error: DealbridgeError | None = None,
        error_id: int | None = None,
        write_back: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        finish = RunFinish(
            status=run_status,
            step_timings=self.timings,
            records_written=self.written,
            records_unchanged=self.unchanged,
            plan=self.document,
            error_id=error_id,
        )
        succeeded = error is None and run_status in ("synced", "unchanged")
        # Not a step: finishing the run again after a crash records the same facts, so a
        # checkpoint would buy nothing (``runtime.ledger_write``).
        await ledger_write(
            partial(steps.finish_run, self.run_id, self.opportunity_id, finish, succeeded)
        )
        outcome = self._outcome(status or run_status, reason, error, error_id, write_back)
        _log.info("deal_finished", **{k: outcome[k] for k in ("opportunity_id", "status")})
        return outcome

    def _outcome(
        self,
        status: str,
        reason: str | None,
        error: DealbridgeError | None,
        error_id: int | None,
        write_back: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "opportunity_id": self.opportunity_id,
            "run_id": self.run_id,
            "status": status,
            "reason": reason,
            "records_written": self.written,
            "records_unchanged": self.unchanged,
            "netsuite_ids": dict(self.ids),
            "error": error.as_dict() if error is not None else None,
            "error_id": error_id,
            "write_back": write_back or {"status": "none"},
        }

    async def _step(self, options: StepOptions, function: Any, *args: Any) -> dict[str, Any]:
        """Run one checkpointed step and keep its duration for the run's timings.

        A step that does several things names each with its own duration (``timings``).
        """
        result: dict[str, Any] = await DBOS.run_step_async(options, function, *args)
        own = [{"step": options.get("name"), "ms": result.get("ms")}]
        self.timings.extend(result.get("timings") or own)
        return result
