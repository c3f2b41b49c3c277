"""How ``NetSuiteClient`` fails against the emulator: typed errors, retries, faults, redaction.

Every refusal is checked down to the error class, ``status``, ``code`` and ``field_path``, and
the number of HTTP attempts the client made (its ``on_call`` records). Faults are switched on and
off through ``/__emulator__/faults``; a test that must wait for the emulator polls with a deadline.
Contract sections (§) refer to ``shared/contracts/netsuite.md``.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.netsuite.client import eid
from dealbridge.core.logs import configure_logging
from dealbridge.errors import (
    AuthError,
    ConnectorError,
    DuplicateError,
    NotFoundError,
    RemoteRejectedError,
    TransientError,
)
from tests.support.netsuite import (
    AUTH_SCHEMES,
    OAUTH2_MODES,
    AuthMode,
    ClientRun,
    ClientRuns,
    EmulatorControl,
    Info,
    leaks,
    pem_fragments,
    running_emulator,
    shared_ssl_context,
)

pytestmark = pytest.mark.anyio

CUSTOMER = "<the id of a customer made for the case>"
BAD_SECRET = "0" * 64


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    with running_emulator(tmp_path_factory.mktemp("netsuite")) as info:
        yield info


@pytest.fixture(scope="module")
def control(emulator: Info) -> Iterator[EmulatorControl]:
    with EmulatorControl(emulator) as hooks:
        yield hooks


@pytest.fixture(autouse=True)
def _fresh_emulator(control: EmulatorControl) -> None:
    control.fresh()


@pytest.fixture
def clients(emulator: Info) -> Iterator[ClientRuns]:
    runs = ClientRuns(emulator)
    yield runs
    runs.assert_nothing_leaked()


def customer(name: str, **fields: Any) -> dict[str, Any]:
    return {"companyName": name, "subsidiary": {"id": "1"}, **fields}


def assert_attempts(run: ClientRun, operation: str, statuses: list[int | None]) -> None:
    """The client made exactly these HTTP attempts for ``operation``."""
    calls = run.api_calls(operation)
    assert [call.status for call in calls] == statuses
    assert [call.attempt for call in calls] == list(range(1, len(statuses) + 1))


# -- rejections (§5) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A write NetSuite refuses, and the error the client must turn it into."""

    record_type: str
    body: dict[str, Any]
    error: type[ConnectorError]
    code: str
    field_path: str | None
    words: tuple[str, ...]
    status: int = 400
    first_create: bool = False  # POST the same body once before (it must succeed)


REJECTIONS = {
    "unknown field": Rejection(
        "customer",
        customer("Unknown Field Co", bogusField=1),
        RemoteRejectedError,
        "INVALID_CONTENT",
        "bogusField",
        ("bogusField",),
    ),
    "bad reference": Rejection(
        "customer",
        customer("Bad Ref Co", subsidiary={"id": "999"}),
        RemoteRejectedError,
        "INVALID_KEY_OR_REF",
        "subsidiary",
        ("subsidiary", "999"),
    ),
    "bad reference in a sublist line": Rejection(
        "subscriptionPlan",
        {
            "itemId": "Bad Member Plan",
            "member": {
                "items": [{"lineNumber": 1, "item": {"id": "9999"}, "subscriptionLineType": "2"}]
            },
        },
        RemoteRejectedError,
        "INVALID_KEY_OR_REF",
        "member.items[0].item",
        ("item", "9999"),
    ),
    "over-long string": Rejection(
        "customer",
        customer("X" * 84),
        RemoteRejectedError,
        "USER_ERROR",
        "companyName",
        ("companyName", "83"),
    ),
    "wrong date format": Rejection(
        "billingAccount",
        {
            "name": "Date Co USD",
            "customer": {"id": CUSTOMER},
            "billingSchedule": {"id": "1"},
            "currency": {"id": "1"},
            "startDate": "03/01/2025",
        },
        RemoteRejectedError,
        "INVALID_CONTENT",
        "startDate",
        ("startDate", "03/01/2025", "YYYY-MM-DD"),
    ),
    "missing required field": Rejection(
        "customer",
        {"companyName": "No Subsidiary Co"},
        RemoteRejectedError,
        "USER_ERROR",
        "subsidiary",
        ("Subsidiary",),
    ),
    "duplicate external id via POST": Rejection(
        "customer",
        customer("Twice Co", externalId="SFACC-001000000000DUPAAA"),
        DuplicateError,
        "USER_ERROR",
        "externalId",
        ("SFACC-001000000000DUPAAA", "already exists"),
        first_create=True,
    ),
}


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
@pytest.mark.parametrize("case", list(REJECTIONS.values()), ids=list(REJECTIONS))
async def test_rejections_are_typed_with_status_code_and_field_path(
    clients: ClientRuns, mode: AuthMode, case: Rejection
) -> None:
    run = clients(mode)
    async with run.client as client:
        body = dict(case.body)
        if body.get("customer") == {"id": CUSTOMER}:
            body["customer"] = {"id": await client.create("customer", customer("Case Co"))}
        if case.first_create:
            await client.create(case.record_type, body)
        with pytest.raises(ConnectorError) as caught:
            await client.create(case.record_type, body)

    error = caught.value
    assert type(error) is case.error
    assert (error.status, error.code, error.field_path) == (case.status, case.code, case.field_path)
    assert all(word in error.message for word in case.words), error.message
    assert not error.retryable
    assert error.system == "netsuite"
    assert error.operation == f"POST {case.record_type}"
    sent = run.wire.api()[-1].request
    assert sent.headers["X-NetSuite-PropertyNameValidation"] == "error"
    calls = run.api_calls(error.operation)
    assert [c.status for c in calls] == [*[204] * case.first_create, case.status]
    assert (calls[-1].attempt, calls[-1].error_code) == (1, case.code)  # a 4xx is not retried


def cut_customer_body(request: httpx.Request, body: bytes) -> bytes | None:
    """Break the JSON of customer creates, as a truncating proxy would."""
    if request.method == "POST" and request.url.path.endswith("/record/v1/customer"):
        return body[: len(body) // 2]
    return None


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
async def test_malformed_json_is_invalid_content(
    clients: ClientRuns, mode: AuthMode, control: EmulatorControl
) -> None:
    # The client always serialises with httpx's json=, so the broken bytes are made on the way
    # out by the test transport; everything else (auth, dispatch, error mapping) is the client's.
    run = clients(mode, rewrite=cut_customer_body)
    async with run.client as client:
        with pytest.raises(RemoteRejectedError) as caught:
            await client.create("customer", customer("Half Sent Co"))

    error = caught.value
    assert type(error) is RemoteRejectedError
    assert (error.status, error.code, error.field_path) == (400, "INVALID_CONTENT", None)
    assert "Invalid JSON" in error.message
    with pytest.raises(ValueError, match="Unterminated"):  # what reached the emulator
        json.loads(run.wire.api()[0].body)
    assert_attempts(run, "POST customer", [400])
    assert control.records("customer") == []


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
async def test_unknown_record_type_is_a_404_naming_the_type(
    clients: ClientRuns, mode: AuthMode
) -> None:
    run = clients(mode)
    async with run.client as client:
        with pytest.raises(RemoteRejectedError) as caught:
            await client.create("customerz", customer("Typo Co"))

    error = caught.value
    assert (error.status, error.code, error.field_path) == (404, "INVALID_RCRD_TYPE", None)
    assert "customerz" in error.message
    assert_attempts(run, "POST customerz", [404])


async def test_unknown_record_type_is_not_mistaken_for_a_missing_record(
    clients: ClientRuns,
) -> None:
    """A misspelt type must not look like "that record is already gone".

    Product bug: ``errors._classify`` maps every 404 to ``NotFoundError``, so
    ``delete(…, missing_ok=True)`` on a type that does not exist succeeds silently.
    """
    run = clients("tba")
    async with run.client as client:
        with pytest.raises(RemoteRejectedError) as caught:
            await client.delete("customerz", "1", missing_ok=True)

    assert not isinstance(caught.value, NotFoundError)
    assert caught.value.code == "INVALID_RCRD_TYPE"


# -- credentials (§7) ---------------------------------------------------------------------------


async def test_tba_with_a_wrong_token_secret_is_auth_error_tried_twice_at_most(
    clients: ClientRuns, control: EmulatorControl
) -> None:
    clients.extra_secrets.add(BAD_SECRET)
    run = clients("tba", token_secret=BAD_SECRET)
    async with run.client as client:
        with pytest.raises(AuthError) as caught:
            await client.get("customer", "1")

    error = caught.value
    assert type(error) is AuthError
    assert (error.status, error.code, error.field_path) == (401, "INVALID_LOGIN", None)
    assert "Invalid login attempt" in error.message
    assert not error.retryable
    assert error.failure_type == "auth"
    assert_attempts(run, "GET customer/1", [401, 401])  # the one retry of §5's slow 401
    assert control.stats()["auth_failures"] == {"bad signature": 2}


def fresh_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


@pytest.mark.parametrize("fault", ["unknown kid", "key of another certificate", "foreign key"])
async def test_oauth2_with_a_wrong_key_or_kid_is_auth_error_tried_twice_at_most(
    clients: ClientRuns, emulator: Info, control: EmulatorControl, fault: str
) -> None:
    if fault == "unknown kid":
        overrides: dict[str, Any] = {"certificate_id": "not-a-certificate"}
    elif fault == "key of another certificate":
        es256 = emulator["oauth2_es256"]
        overrides = {"private_key_file": es256["private_key_pem"], "jwt_algorithm": "ES256"}
    else:
        pem = fresh_rsa_pem()
        clients.extra_secrets |= pem_fragments(pem)
        overrides = {"private_key": pem, "private_key_file": None}
    run = clients("oauth2", **overrides)
    async with run.client as client:
        with pytest.raises(AuthError) as caught:
            await client.get("customer", "1")

    error = caught.value
    assert type(error) is AuthError
    assert (error.status, error.code, error.field_path) == (401, "invalid_client", None)
    assert "token endpoint" in error.message
    assert not error.retryable
    assert_attempts(run, "GET customer/1", [None, None])  # no API request left the client
    assert [call.status for call in run.token_calls()] == [401, 401]
    stats = control.stats()
    assert (stats["token_requests"], stats["total_requests"]) == (2, 0)


async def until_refused(emulator: Info, token: str) -> None:
    """Poll (with a deadline) until the emulator refuses ``token`` as expired."""
    deadline = asyncio.get_running_loop().time() + 20
    headers = {"Authorization": f"Bearer {token}"}
    verify = shared_ssl_context()
    async with httpx.AsyncClient(base_url=emulator["base_url"], timeout=30, verify=verify) as raw:
        while (await raw.get("/system/v1/governanceLimits", headers=headers)).status_code != 401:
            assert asyncio.get_running_loop().time() < deadline, "the token never expired"
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", OAUTH2_MODES)
async def test_an_expired_bearer_token_is_replaced_transparently(
    clients: ClientRuns, emulator: Info, control: EmulatorControl, mode: AuthMode
) -> None:
    # The client refreshes at half the lifetime (auth.py); 2 s leaves the first call time to
    # use its token even on a loaded machine.
    control.faults(token_lifetime_seconds=2)
    run = clients(mode)
    async with run.client as client:
        first_id = await client.create("customer", customer("Token Co"))
        [first_token] = run.wire.access_tokens()
        await until_refused(emulator, first_token)
        record = await client.get("customer", first_id)

    assert record["companyName"] == "Token Co"
    assert len(run.wire.access_tokens()) == 2
    second_token = run.wire.access_tokens()[1]
    assert second_token != first_token
    last = run.wire.api()[-1]
    assert (last.request.headers["Authorization"], last.status) == (f"Bearer {second_token}", 200)
    assert [call.status for call in run.token_calls()] == [200, 200]
    # Refreshed ahead of expiry, so no call was spent on a 401.
    assert [call.status for call in run.api_calls()] == [204, 200]


# -- faults (§5, §6) ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
async def test_idempotent_calls_ride_out_a_30_percent_500_rate(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    control.faults(error_rate=0.3)
    run = clients(mode, max_attempts=15, concurrency_limit=5)
    external_ids = [f"SFACC-001000000000F{n:03d}" for n in range(15)]
    async with run.client as client:
        ids = await asyncio.gather(
            *(client.upsert("customer", x, customer(f"Flaky {x}")) for x in external_ids)
        )
        records = await asyncio.gather(*(client.get("customer", eid(x)) for x in external_ids))
    stats = control.stats()
    control.faults(error_rate=0.0)

    assert [r["id"] for r in records] == ids
    assert len(set(ids)) == 15
    assert sorted(r["externalId"] for r in control.records("customer")) == external_ids
    injected = stats["faults_injected"]["error"]
    assert injected > 0
    failed = [c for c in run.api_calls() if c.status == 500]
    assert len(failed) == injected
    assert {c.error_code for c in failed} == {"UNEXPECTED_ERROR"}
    assert len(run.api_calls()) == 30 + injected  # each 500 cost exactly one more attempt


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
async def test_a_create_under_500s_is_transient_and_not_sent_twice(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    control.faults(error_rate=1.0)
    run = clients(mode)
    async with run.client as client:
        with pytest.raises(TransientError) as caught:
            await client.create("customer", customer("Outage Co"))
    control.faults(error_rate=0.0)

    error = caught.value
    assert type(error) is TransientError
    assert (error.status, error.code, error.field_path) == (500, "UNEXPECTED_ERROR", None)
    assert error.retryable
    assert error.failure_type == "remote_outage"
    assert_attempts(run, "POST customer", [500])
    assert control.records("customer") == []


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
async def test_a_slow_invalid_login_is_retried_once_and_then_succeeds(
    clients: ClientRuns, control: EmulatorControl, mode: AuthMode
) -> None:
    # The fault is switched off while the first 401 is still on its way (2 s), so the one retry
    # the client allows itself goes through.
    control.faults(slow_login_rate=1.0, slow_login_seconds=2.0)
    run = clients(mode)
    async with run.client as client:
        upsert = asyncio.create_task(
            client.upsert("customer", "SFACC-001000000000SLOWAAA", customer("Slow Login Co"))
        )
        await control.wait_for(
            lambda s: s["faults_injected"].get("slow_login", 0) >= 1, "the slow 401"
        )
        control.faults(slow_login_rate=0.0)  # before the 401 arrives: the retry goes through
        record_id = await upsert

    assert record_id
    operation = "PUT customer/eid:SFACC-001000000000SLOWAAA"
    assert_attempts(run, operation, [401, 204])
    assert run.api_calls(operation)[0].error_code == "INVALID_LOGIN"
    assert control.stats()["faults_injected"] == {"slow_login": 1}
    if mode != "tba":  # the 401 dropped the cached token, so the retry carried a new one
        sent = [x.request.headers["Authorization"] for x in run.wire.api()]
        assert sent == [f"Bearer {token}" for token in run.wire.access_tokens()]
        assert len(set(sent)) == 2


async def test_timeouts_fail_a_create_once_and_an_upsert_is_retried_until_it_passes(
    clients: ClientRuns, control: EmulatorControl
) -> None:
    # A hang of 1.5 s against a client that waits 0.3 s; the hung requests keep their emulator
    # slots until the hang ends, which the next test's fixture waits out.
    control.faults(timeout_rate=1.0, timeout_seconds=1.5)
    run = clients("tba", timeout_seconds=0.3, max_attempts=20)
    async with run.client as client:
        with pytest.raises(TransientError) as caught:
            await client.create("customer", customer("Timeout Co"))
        upsert = asyncio.create_task(
            client.upsert("customer", "SFACC-001000000000TIMEAAA", customer("Timeout Co"))
        )
        await control.wait_for(
            lambda s: s["faults_injected"].get("timeout", 0) >= 2, "a timed-out upsert"
        )
        control.faults(timeout_rate=0.0)
        record_id = await upsert

    error = caught.value
    assert (error.status, error.code, error.field_path) == (None, "ReadTimeout", None)
    assert error.retryable
    assert_attempts(run, "POST customer", [None])
    puts = run.api_calls("PUT customer/eid:SFACC-001000000000TIMEAAA")
    assert len(puts) >= 2
    assert {c.error_code for c in puts[:-1]} == {"ReadTimeout"}
    assert puts[-1].status == 204
    assert [r["id"] for r in control.records("customer")] == [record_id]


# -- redaction (DESIGN §8) ----------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The product's JSON logging, written to a buffer; structlog is reset afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # The buffer is handed over explicitly: pytest re-installs its own sys.stderr between the
    # setup and call phases, so patching sys.stderr here would be undone before the test runs.
    configure_logging("DEBUG", "json", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = handlers, level


async def failures_of(run: ClientRun, control: EmulatorControl) -> list[ConnectorError]:
    """A success, a rejection, a 500 with retries and an auth refusal, through ``run``."""
    errors: list[ConnectorError] = []
    async with run.client as client:
        await client.upsert("customer", "SFACC-001000000000LOGAAA", customer("Log Co"))
        for call in (
            client.create("customer", customer("Log Co", bogusField=1)),
            client.get("customer", "999999"),
        ):
            try:
                await call
            except ConnectorError as error:
                errors.append(error)
        control.faults(error_rate=1.0)
        try:
            await client.get("customer", eid("SFACC-001000000000LOGAAA"))
        except ConnectorError as error:
            errors.append(error)
        control.faults(error_rate=0.0)
    return errors


@pytest.mark.parametrize("mode", AUTH_SCHEMES)
async def test_logs_call_records_and_errors_hold_no_credentials(
    clients: ClientRuns, control: EmulatorControl, json_logs: io.StringIO, mode: AuthMode
) -> None:
    good = clients(mode, log_calls=True, max_attempts=2)
    bad_credentials: dict[str, Any] = (
        {"token_secret": BAD_SECRET} if mode == "tba" else {"certificate_id": "not-a-cert"}
    )
    clients.extra_secrets.add(BAD_SECRET)
    bad = clients(mode, log_calls=True, **bad_credentials)
    errors = await failures_of(good, control)
    async with bad.client as client:
        try:
            await client.get("customer", "1")
        except ConnectorError as error:
            errors.append(error)

    assert [type(e) for e in errors] == [
        RemoteRejectedError,
        NotFoundError,
        TransientError,
        AuthError,
    ]
    secrets = clients.secrets()
    if mode != "tba":
        assert good.wire.access_tokens()  # known, so checked below
        assert good.wire.client_assertions()
    logged = json_logs.getvalue()
    records = good.calls + bad.calls
    assert logged.count('"event": "api_call"') == len(records) > 0
    assert leaks(secrets, logged) == []
    for record in records:
        assert leaks(secrets, record) == [], record
    for failure in errors:
        assert leaks(secrets, str(failure), repr(failure), failure.as_dict()) == []
