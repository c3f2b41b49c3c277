"""Governance and faults, in process: the pool, the dice, the statistics, the paging rules.

Requests that must overlap are held open by an event, never by a sleep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dealbridge.connectors.netsuite.emulator.faults import (
    FaultSettings,
    GovernanceMiddleware,
    Governor,
)
from dealbridge.connectors.netsuite.emulator.paging import (
    PageRequest,
    QueryParameterProblem,
    page_body,
)

REST = "http://emulator/services/rest"


def governed_app(governor: Governor, handler: Callable[[], Awaitable[None]]) -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        await handler()
        return JSONResponse({"ok": True})

    routes = [
        Route("/services/rest/record/v1/customer", endpoint),
        Route("/services/rest/auth/oauth2/v1/token", endpoint, methods=["POST"]),
        Route("/__emulator__/health", endpoint),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(GovernanceMiddleware, governor=governor)
    return app


async def nothing() -> None:
    return None


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=REST)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["o:errorDetails"][0]["o:errorCode"]
    return code


def test_the_pool_refuses_the_request_past_the_limit_and_counts_it() -> None:
    governor = Governor(FaultSettings(concurrency_limit=3))
    release = asyncio.Event()

    async def scenario() -> tuple[list[int], httpx.Response]:
        async with client(governed_app(governor, release.wait)) as http:
            held = [asyncio.create_task(http.get("/record/v1/customer")) for _ in range(3)]
            while governor.stats.in_flight < 3:
                await asyncio.sleep(0)
            refused = await http.get("/record/v1/customer")
            release.set()
            return [(await task).status_code for task in held], refused

    statuses, refused = asyncio.run(scenario())
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert error_code(refused) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert refused.json()["o:errorDetails"][0]["detail"] == (
        "Concurrent request limit exceeded. Request blocked."
    )
    stats = governor.stats.snapshot()
    assert stats["max_in_flight"] == 3
    assert stats["in_flight"] == 0
    assert stats["concurrency_rejections"] == 1
    assert stats["by_status"] == {"200": 3, "429": 1}


def test_the_token_endpoint_and_control_api_are_outside_the_pool() -> None:
    governor = Governor(FaultSettings(concurrency_limit=1, error_rate=1.0))

    async def scenario() -> list[int]:
        async with client(governed_app(governor, nothing)) as http:
            token = await http.post("/auth/oauth2/v1/token")
            health = await http.get("http://emulator/__emulator__/health")
            return [token.status_code, health.status_code]

    assert asyncio.run(scenario()) == [200, 200]
    assert governor.stats.total_requests == 0
    assert governor.stats.token_requests == 1


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"error_rate": 1.0}, 500, "UNEXPECTED_ERROR"),
        ({"rate_limit_rate": 1.0}, 429, "CONCURRENCY_LIMIT_EXCEEDED"),
        ({"slow_login_rate": 1.0, "slow_login_seconds": 0.0}, 401, "INVALID_LOGIN"),
        ({"timeout_rate": 1.0, "timeout_seconds": 0.0}, 500, "UNEXPECTED_ERROR"),
    ],
)
def test_faults_answer_in_netsuite_shape(fault: dict[str, Any], status: int, code: str) -> None:
    governor = Governor(FaultSettings(**fault))

    async def scenario() -> httpx.Response:
        async with client(governed_app(governor, nothing)) as http:
            return await http.get("/record/v1/customer")

    answer = asyncio.run(scenario())
    assert (answer.status_code, error_code(answer)) == (status, code)
    assert answer.headers["content-type"].startswith("application/vnd.oracle.resource+json")
    assert sum(governor.stats.faults_injected.values()) == 1
    assert governor.stats.in_flight == 0


def test_a_bug_in_the_app_becomes_a_counted_netsuite_500(caplog: pytest.LogCaptureFixture) -> None:
    governor = Governor(FaultSettings())

    async def broken() -> None:
        raise RuntimeError("boom")

    async def scenario() -> httpx.Response:
        async with client(governed_app(governor, broken)) as http:
            return await http.get("/record/v1/customer")

    with caplog.at_level(logging.ERROR):
        answer = asyncio.run(scenario())
    assert (answer.status_code, error_code(answer)) == (500, "UNEXPECTED_ERROR")
    assert governor.stats.by_status[500] == 1
    assert "boom" in caplog.text


def test_settings_updates_validate_and_reset_restores_start_up_values() -> None:
    governor = Governor(FaultSettings(concurrency_limit=5))
    assert governor.update({"error_rate": 0.5}).concurrency_limit == 5
    with pytest.raises(ValidationError):
        governor.update({"error_rate": 2})
    with pytest.raises(ValidationError):
        governor.update({"no_such_knob": 1})
    assert governor.settings.error_rate == 0.5
    governor.stats.in_flight = 2
    governor.stats.total_requests = 9
    governor.reset()
    assert governor.settings == FaultSettings(concurrency_limit=5)
    assert (governor.stats.total_requests, governor.stats.in_flight) == (0, 2)
    assert governor.stats.max_in_flight == 2


def test_latency_stays_within_its_jitter() -> None:
    governor = Governor(FaultSettings(latency_ms=100, jitter=0.2))
    assert all(0.08 <= governor.latency_seconds() <= 0.12 for _ in range(200))


@pytest.mark.parametrize(
    ("limit", "offset", "parameter"),
    [
        ("0", None, "limit"),
        ("1001", None, "limit"),
        ("x", None, "limit"),
        ("10", "5", "offset"),
        ("10", "-10", "offset"),
    ],
)
def test_paging_rules(limit: str, offset: str | None, parameter: str) -> None:
    with pytest.raises(QueryParameterProblem) as refused:
        PageRequest.parse(limit, offset)
    detail = refused.value.body()["o:errorDetails"][0]
    assert detail["o:errorQueryParam"] == parameter
    assert detail["o:errorCode"] == "INVALID_PARAMETER"
    assert PageRequest.parse(None, None) == PageRequest(limit=1000, offset=0)


def test_page_links_follow_the_documented_shape() -> None:
    def href(offset: int) -> str:
        return f"u?offset={offset}"

    middle = page_body(PageRequest(limit=2, offset=2), 7, ["a", "b"], href)
    assert [(link["rel"], link["href"]) for link in middle["links"]] == [
        ("self", "u?offset=2"),
        ("first", "u?offset=0"),
        ("prev", "u?offset=0"),
        ("next", "u?offset=4"),
        ("last", "u?offset=6"),
    ]
    assert (middle["count"], middle["hasMore"], middle["totalResults"]) == (2, True, 7)
    last = page_body(PageRequest(limit=2, offset=6), 7, ["g"], href)
    assert [link["rel"] for link in last["links"]] == ["self", "first", "prev"]
    assert last["hasMore"] is False
