"""``/__emulator__/``: the test hook that steers a running Salesforce emulator.

Salesforce has nothing like it. It takes no authentication, counts no API calls and must never
be exposed beyond the test machine: tests, benchmarks and demos use it to reset and seed the
org, load raw rows, change faults and limits, end sessions, and register Outbound Message
endpoints and read their delivery log. Validation errors are FastAPI's plain 422, not
Salesforce's shape, since no Salesforce client ever calls here.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dealbridge.connectors.salesforce.emulator.records import sobject_def
from dealbridge.connectors.salesforce.emulator.state import SalesforceEmulatorState, state_of
from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError

CONTROL_PREFIX = "/__emulator__"
router = APIRouter(prefix=CONTROL_PREFIX)
State = Annotated[SalesforceEmulatorState, Depends(state_of)]


class SeedRequest(BaseModel):
    """``POST seed``: which generated org to load."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 1
    deals: int = Field(50, ge=0, le=100_000)


@router.get("/health")
async def health(state: State) -> dict[str, Any]:
    """Liveness, and which org this emulator plays."""
    return {"status": "ok", "org_id": state.credentials.org_id, "pid": os.getpid()}


@router.get("/stats")
async def stats(state: State) -> dict[str, Any]:
    """API calls, responses by status, faults injected, auth failures, records per sObject."""
    return {
        **state.governor.stats.snapshot(),
        "api_usage": state.governor.used,
        "daily_api_limit": state.governor.settings.daily_api_limit,
        "records": state.store.counts(),
        "outbound_pending": state.sender.pending(),
    }


@router.post("/reset")
async def reset(state: State) -> dict[str, str]:
    """An empty org, start-up faults and limits, zero usage, no deliveries."""
    state.reset()
    return {"status": "reset"}


@router.post("/seed")
async def seed(state: State, request: Annotated[SeedRequest, Body()]) -> dict[str, Any]:
    """Load the generated CPQ org on top of what is there; returns the flawed deals."""
    return _loaded(lambda: state.load_seed_org(request.seed, request.deals))


@router.post("/records")
async def load_records(
    state: State, rows: Annotated[dict[str, list[dict[str, Any]]], Body()]
) -> dict[str, Any]:
    """Load raw rows ``{sObject: [row, …]}`` (Ids optional) without field validation."""
    return _loaded(lambda: {"loaded": state.load_rows(rows)})


def _loaded(load: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = load()
    except SalesforceApiError as error:
        raise HTTPException(status_code=error.status, detail=error.body()) from error
    return result


@router.get("/records/{sobject}")
async def dump_records(sobject: str, state: State) -> list[dict[str, Any]]:
    """Every stored record of an sObject, deleted ones included, as stored."""
    try:
        defn = sobject_def(sobject)
    except SalesforceApiError as error:
        raise HTTPException(status_code=404, detail=error.body()) from error
    return state.store.records(defn.name, include_deleted=True)


@router.get("/faults")
async def read_faults(state: State) -> dict[str, Any]:
    """Fault rates, latency, the daily API allocation and the token lifetime."""
    return state.governor.settings.model_dump()


@router.put("/faults")
async def write_faults(state: State, changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Change the named settings and keep the rest; 422 (and no change) on a bad value."""
    try:
        settings = state.governor.update(changes)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    return settings.model_dump()


@router.post("/tokens/expire")
async def expire_tokens(state: State) -> dict[str, int]:
    """End every session now: the next REST call gets 401 ``INVALID_SESSION_ID``."""
    return {"expired": state.tokens.expire_all()}


@router.post("/tokens")
async def issue_token(state: State) -> dict[str, str]:
    """A fresh session token without an OAuth flow (for tests that need a second one)."""
    return {"access_token": state.tokens.issue(), "instance_url": state.instance_url}


@router.post("/outbound/endpoints")
async def register_endpoint(
    state: State, config: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Register an Outbound Message endpoint: ``{"url", "fields"?, "action_id"?}``."""
    try:
        return state.sender.register_endpoint(config)
    except (ValueError, TypeError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("/outbound/endpoints")
async def list_endpoints(state: State) -> list[dict[str, Any]]:
    """The registered endpoints."""
    return state.sender.endpoints()


@router.get("/outbound/deliveries")
async def deliveries(state: State) -> dict[str, Any]:
    """Every delivery attempt with its outcome (ack or not), and how many are still due."""
    return {"deliveries": state.sender.log(), "pending": state.sender.pending()}


@router.put("/outbound/mode")
async def outbound_mode(state: State, flags: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Misbehave like Salesforce may: ``{"duplicate": bool, "reorder": bool, "max_batch": n}``."""
    try:
        return state.sender.set_mode(**flags)
    except (ValueError, TypeError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
