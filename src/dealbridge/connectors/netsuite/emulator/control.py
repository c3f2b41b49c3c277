"""``/__emulator__/``: the test hook that steers a running emulator.

NetSuite has nothing like it. It takes no authentication, sits outside governance and must
never be exposed beyond the test machine: tests and benchmarks use it to read statistics, change
faults and latency at run time, inspect and seed records, and reset between cases. Validation
errors are FastAPI's plain 422, not NetSuite's shape, since no NetSuite client ever calls here.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from dealbridge.connectors.netsuite.emulator.state import EmulatorState, state_of

CONTROL_PREFIX = "/__emulator__"
router = APIRouter(prefix=CONTROL_PREFIX)
State = Annotated[EmulatorState, Depends(state_of)]


@router.get("/health")
async def health(state: State) -> dict[str, Any]:
    """Liveness, and which account this emulator plays."""
    return {"status": "ok", "account": state.options.account, "pid": os.getpid()}


@router.get("/stats")
async def stats(state: State) -> dict[str, Any]:
    """Governance counters, plus why logins failed (NetSuite's Login Audit Trail, in short)."""
    return {**state.governor.stats.snapshot(), "auth_failures": dict(state.authenticator.failures)}


@router.post("/stats/reset")
async def reset_stats(state: State) -> dict[str, Any]:
    """Zero the counters (requests in flight stay counted)."""
    state.governor.reset_stats()
    state.authenticator.failures.clear()
    return await stats(state)


@router.get("/faults")
async def read_faults(state: State) -> dict[str, Any]:
    """The run-time settings: fault rates, latency, concurrency limit, token lifetime."""
    return state.governor.settings.model_dump()


@router.put("/faults")
async def write_faults(state: State, changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Change the named settings and keep the rest; 422 (and no change) on a bad value."""
    try:
        settings = state.governor.update(changes)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    return settings.model_dump()


@router.get("/records/{record_type}")
async def dump_records(record_type: str, state: State) -> list[dict[str, Any]]:
    """Every stored record of a type, as the record service keeps it."""
    return state.records.dump(record_type)


@router.post("/reset")
async def reset(state: State) -> dict[str, str]:
    """Reference data and the start-up seed only; start-up settings; fresh statistics."""
    state.reset()
    return {"status": "reset"}


@router.post("/seed")
async def seed(
    state: State, data: Annotated[dict[str, list[dict[str, Any]]], Body()]
) -> dict[str, Any]:
    """Load ``{type: [record, …]}`` on top of what is there."""
    state.records.load_seed(data)
    return {"loaded": {record_type: len(records) for record_type, records in data.items()}}
