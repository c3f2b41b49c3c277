"""The HTTP layer in process, over a recording fake of the record service.

What reaches the record service from each URL, header and query parameter, and what the client
gets back: statuses, ``Location``, error shapes, the body cap.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dealbridge.connectors.netsuite.emulator.app import create_app
from dealbridge.connectors.netsuite.emulator.config import EmulatorOptions
from dealbridge.connectors.netsuite.emulator.credentials import (
    Credentials,
    load_or_create_credentials,
)
from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.emulator.state import EmulatorState

BASE = "http://ns.example:8702/services/rest"


class FakeRecords:
    """Records every call; answers with fixed ids."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _note(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    def create(self, record_type: str, body: Any, **kwargs: Any) -> str:
        self._note("create", record_type, body, **kwargs)
        return "101"

    def upsert(self, record_type: str, external_id: str, body: Any, **kwargs: Any) -> str:
        self._note("upsert", record_type, external_id, body, **kwargs)
        return "102"

    def update(self, record_type: str, ref: str, body: Any, **kwargs: Any) -> str:
        self._note("update", record_type, ref, body, **kwargs)
        return "103"

    def get(self, record_type: str, ref: str, **kwargs: Any) -> dict[str, Any]:
        self._note("get", record_type, ref, **kwargs)
        if ref == "404":
            raise NetSuiteProblem(404, "NONEXISTENT_ID", "The record instance does not exist.")
        return {"id": ref}

    def get_sublist(self, record_type: str, ref: str, sublist: str, **kwargs: Any) -> Any:
        self._note("get_sublist", record_type, ref, sublist, **kwargs)
        return {"items": []}

    def delete(self, record_type: str, ref: str) -> None:
        self._note("delete", record_type, ref)

    def list_ids(self, record_type: str, **kwargs: Any) -> tuple[list[str], int]:
        self._note("list_ids", record_type, **kwargs)
        return ["1", "2"], 3

    def rows(self, table: str) -> list[dict[str, Any]] | None:
        return [{"id": n} for n in range(1, 4)] if table == "customer" else None

    def columns(self, table: str) -> set[str] | None:
        return {"id"} if table == "customer" else None

    def dump(self, record_type: str) -> list[dict[str, Any]]:
        return [{"id": "1", "type": record_type}]

    def load_seed(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self._note("load_seed", data)

    def reset(self) -> None:
        self._note("reset")


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return load_or_create_credentials(tmp_path_factory.mktemp("ns-app"))


@pytest.fixture
def records() -> FakeRecords:
    return FakeRecords()


@pytest.fixture
def state(credentials: Credentials, records: FakeRecords) -> EmulatorState:
    return EmulatorState.build(EmulatorOptions(), records, credentials)


def call(
    state: EmulatorState,
    method: str,
    path: str,
    *,
    authorized: bool = True,
    max_body_bytes: int = 1000,
    **kwargs: Any,
) -> httpx.Response:
    app = create_app(state.options, state, max_body_bytes=max_body_bytes)
    headers = dict(kwargs.pop("headers", {}))
    if authorized:
        headers["Authorization"] = f"Bearer {state.tokens.issue(60)}"

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(send())


def code_of(answer: httpx.Response) -> str:
    code: str = answer.json()["o:errorDetails"][0]["o:errorCode"]
    return code


def test_writes_pass_flags_through_and_answer_204_with_location(
    state: EmulatorState, records: FakeRecords
) -> None:
    created = call(
        state,
        "POST",
        "/record/v1/customer?replace=addressBook, item",
        json={"a": 1},
        headers={"X-NetSuite-PropertyNameValidation": "ERROR"},
    )
    assert created.status_code == 204
    assert created.headers["Location"] == f"{BASE}/record/v1/customer/101"
    upserted = call(state, "PUT", "/record/v1/customer/eid:SF-1", json={})
    assert upserted.headers["Location"] == f"{BASE}/record/v1/customer/102"
    patched = call(
        state, "PATCH", "/record/v1/customer/7?replaceSelectedFields=TRUE&replace=x", json={}
    )
    assert patched.headers["Location"] == f"{BASE}/record/v1/customer/103"
    assert records.calls == [
        (
            "create",
            ("customer", {"a": 1}),
            {"strict_fields": True, "replace": frozenset({"addressBook", "item"})},
        ),
        ("upsert", ("customer", "SF-1", {}), {"strict_fields": False, "replace": frozenset()}),
        (
            "update",
            ("customer", "7", {}),
            {"strict_fields": False, "replace": frozenset({"x"}), "replace_selected_fields": True},
        ),
    ]


def test_reads_pass_expansion_fields_and_base_url(
    state: EmulatorState, records: FakeRecords
) -> None:
    answer = call(state, "GET", "/record/v1/customer/eid:X?expandSubResources=true&fields=a,b")
    assert answer.headers["content-type"] == "application/vnd.oracle.resource+json; type=singular"
    call(state, "GET", "/record/v1/customer/5/addressBook")
    assert records.calls == [
        (
            "get",
            ("customer", "eid:X"),
            {"base_url": BASE, "expand_sub_resources": True, "fields": ["a", "b"]},
        ),
        ("get_sublist", ("customer", "5", "addressBook"), {"base_url": BASE}),
    ]
    missing = call(state, "GET", "/record/v1/customer/404")
    assert (missing.status_code, code_of(missing)) == (404, "NONEXISTENT_ID")


def test_delete_and_put_without_eid(state: EmulatorState) -> None:
    assert call(state, "DELETE", "/record/v1/customer/9").status_code == 204
    refused = call(state, "PUT", "/record/v1/customer/9", json={})
    assert (refused.status_code, code_of(refused)) == (405, "METHOD_NOT_ALLOWED")


def test_body_cap_and_malformed_json(state: EmulatorState) -> None:
    too_big = call(state, "POST", "/record/v1/customer", content=b"{" + b" " * 2000 + b"}")
    assert too_big.status_code == 413
    assert too_big.json()["o:errorDetails"][0]["detail"].startswith("The request body exceeds")
    broken = call(state, "POST", "/record/v1/customer", content=b"[1,")
    assert (broken.status_code, code_of(broken)) == (400, "INVALID_CONTENT")
    binary = call(state, "POST", "/record/v1/customer", content=b"\xff\xfe\x00")
    assert (binary.status_code, code_of(binary)) == (400, "INVALID_CONTENT")


def test_unauthenticated_requests_never_reach_the_records(
    state: EmulatorState, records: FakeRecords
) -> None:
    answer = call(state, "POST", "/record/v1/customer", json={}, authorized=False)
    assert (answer.status_code, code_of(answer)) == (401, "INVALID_LOGIN")
    assert records.calls == []


def test_routing_errors_in_netsuite_shape_but_control_errors_in_fastapi_shape(
    state: EmulatorState,
) -> None:
    assert code_of(call(state, "GET", "/record/v1")) == "INVALID_URL"
    assert call(state, "GET", "/record/v1/customer/1/2/3").status_code == 404
    wrong = call(state, "DELETE", "/query/v1/suiteql")
    assert (wrong.status_code, code_of(wrong)) == (405, "METHOD_NOT_ALLOWED")
    bad = call(state, "PUT", "http://ns.example:8702/__emulator__/faults", json={"jitter": -1})
    assert bad.status_code == 422
    assert "detail" in bad.json()


def test_suiteql_runs_on_the_record_rows(state: EmulatorState) -> None:
    answer = call(
        state,
        "POST",
        "/query/v1/suiteql?limit=2",
        json={"q": "SELECT id FROM customer ORDER BY id"},
    )
    body = answer.json()
    assert [item["id"] for item in body["items"]] == ["1", "2"]
    assert body["links"][0] == {"rel": "self", "href": f"{BASE}/query/v1/suiteql?limit=2&offset=0"}
    unknown = call(state, "POST", "/query/v1/suiteql", json={"q": "SELECT id FROM nowhere"})
    assert unknown.status_code == 400


def test_control_reset_and_seed_reach_the_records(
    state: EmulatorState, records: FakeRecords
) -> None:
    state.seed = {"customer": [{"companyName": "Seeded"}]}
    assert call(state, "POST", "http://ns.example:8702/__emulator__/reset").status_code == 200
    seeded = call(
        state,
        "POST",
        "http://ns.example:8702/__emulator__/seed",
        json={"contact": [{"firstName": "A"}]},
    )
    assert seeded.json() == {"loaded": {"contact": 1}}
    assert [name for name, _, _ in records.calls] == ["reset", "load_seed", "load_seed"]
