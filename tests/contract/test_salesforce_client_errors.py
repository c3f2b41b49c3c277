"""``SalesforceClient`` failures against the emulator process: auth, SOQL, faults and limits.

One emulator serves the module; each test starts from an empty org with start-up settings
(``/__emulator__/reset``) and turns on the faults it needs through ``PUT /__emulator__/faults``.
Where a test needs "fails once, then succeeds", a transport hook turns the fault off as soon as
the client has seen it, so the outcome never depends on a random draw. Retry backoff is set to
milliseconds; no test waits for time to pass. § refers to ``shared/contracts/salesforce.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.salesforce.limits import API_USAGE_GUARD, UsageSnapshot
from dealbridge.connectors.salesforce.soql import Soql, soql
from dealbridge.errors import AuthError, RateLimitedError, RemoteRejectedError, TransientError
from tests.contract.conftest import SalesforceFactory
from tests.support.salesforce import (
    AUTH_MODES,
    AuthMode,
    HookedTransport,
    Info,
    SalesforceHooks,
    make_client,
    running_salesforce,
)

pytestmark = pytest.mark.anyio

ACCOUNTS = soql("SELECT Id, Name FROM Account")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    with running_salesforce(tmp_path_factory.mktemp("sf-errors"), deals=0) as info:
        yield info


@pytest.fixture
def hooks(emulator: Info) -> SalesforceHooks:
    control = SalesforceHooks(emulator)
    control.reset()
    return control


@pytest.fixture(params=AUTH_MODES)
def mode(request: pytest.FixtureRequest) -> AuthMode:
    auth_mode: AuthMode = request.param
    return auth_mode


def fault_off_after(hooks: SalesforceHooks, status: int, fault: str) -> HookedTransport:
    """A transport that switches ``fault`` off once the client has received a ``status``."""

    async def hook(request: httpx.Request, response: httpx.Response) -> None:
        if response.status_code == status and request.url.path.startswith("/services/data"):
            async with httpx.AsyncClient(timeout=30) as control:
                answer = await control.put(hooks.url + "/faults", json={fault: 0.0})
                assert answer.status_code == 200, answer.text

    return HookedTransport(hook)


def other_private_key(directory: Path) -> str:
    """A valid RSA key the emulator's app has never seen."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = directory / "stranger.pem"
    path.write_bytes(pem)
    return str(path)


# -- auth (§2) ------------------------------------------------------------------------------------


async def test_a_wrong_private_key_is_an_auth_error_asked_once(
    emulator: Info, hooks: SalesforceHooks, tmp_path: Path
) -> None:
    run = make_client(emulator, "jwt", private_key_file=other_private_key(tmp_path))
    async with run.client as client:
        with pytest.raises(AuthError) as raised:
            await client.query_all(ACCOUNTS)

    error = raised.value
    assert (error.status, error.code, error.retryable) == (400, "invalid_grant", False)
    assert [call.status for call in run.token_calls()] == [400]
    assert run.api_calls() == []
    assert hooks.stats()["api_calls"] == 0


async def test_a_wrong_client_secret_is_an_auth_error_asked_once(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    run = make_client(emulator, "client_credentials", client_secret="not-the-secret")
    async with run.client as client:
        with pytest.raises(AuthError) as raised:
            await client.query_all(ACCOUNTS)

    assert raised.value.retryable is False
    assert "not-the-secret" not in str(raised.value)
    assert len(run.token_calls()) == 1
    assert run.api_calls() == []


async def test_a_create_refused_for_an_expired_session_is_sent_again_once(
    emulator: Info, hooks: SalesforceHooks, mode: AuthMode
) -> None:
    run = make_client(emulator, mode)
    async with run.client as client:
        await client.query_all(ACCOUNTS)
        hooks.expire_tokens()
        new_id = await client.create("Account", {"Name": "After Expiry"})

    assert [row["Id"] for row in hooks.dump("Account")] == [new_id]
    assert [(c.status, c.attempt) for c in run.api_calls("POST sobjects/Account")] == [
        (401, 1),
        (201, 2),
    ]
    assert len(run.token_calls()) == 2


async def test_a_session_refused_again_after_renewal_is_an_auth_error(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.faults(token_lifetime_seconds=0.0)  # every token is dead by the time it is used
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(AuthError) as raised:
            await client.query_all(ACCOUNTS)

    assert (raised.value.status, raised.value.code) == (401, "INVALID_SESSION_ID")
    assert [(c.status, c.attempt) for c in run.api_calls()] == [(401, 1), (401, 2)]
    assert len(run.token_calls()) == 2  # renewed once, then given up: no loop


# -- rejected SOQL (§1.8) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        (soql("SELECT FROM Account"), "MALFORMED_QUERY", "unexpected"),
        (soql("SELECT Id, Nope__c FROM Account"), "INVALID_FIELD", "No such column 'Nope__c'"),
        (soql("SELECT Id FROM Nothing__c"), "INVALID_TYPE", "Nothing__c"),
    ],
)
async def test_bad_soql_is_rejected_with_salesforces_code_and_not_retried(
    emulator: Info, hooks: SalesforceHooks, query: Soql, code: str, words: str
) -> None:
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(RemoteRejectedError) as raised:
            await client.query_all(query)

    error = raised.value
    assert (error.status, error.code, error.retryable) == (400, code, False)
    assert words.lower() in str(error).lower()
    assert [call.attempt for call in run.api_calls()] == [1]


# -- injected faults (§1.8) -----------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "status"), [("error_rate", 500), ("unavailable_rate", 503)])
async def test_server_errors_are_retried_for_idempotent_calls_until_attempts_run_out(
    emulator: Info, hooks: SalesforceHooks, fault: str, status: int
) -> None:
    hooks.faults(**{fault: 1.0})
    run = make_client(emulator, max_attempts=3)
    async with run.client as client:
        with pytest.raises(TransientError) as raised:
            await client.query_all(ACCOUNTS)

    assert (raised.value.status, raised.value.retryable) == (status, True)
    assert [(c.status, c.attempt) for c in run.api_calls()] == [(status, n) for n in (1, 2, 3)]
    assert hooks.stats()["faults_injected"] == {fault.removesuffix("_rate"): 3}


async def test_a_server_error_then_success_is_invisible_to_the_caller(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.load({"Account": [{"Name": "Survivor"}]})
    hooks.faults(error_rate=1.0)
    run = make_client(emulator, transport=fault_off_after(hooks, 500, "error_rate"))
    async with run.client as client:
        rows = await client.query_all(ACCOUNTS)

    assert [row["Name"] for row in rows] == ["Survivor"]
    assert [(c.status, c.attempt) for c in run.api_calls()] == [(500, 1), (200, 2)]


async def test_a_create_that_hit_a_server_error_is_not_sent_twice(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.faults(error_rate=1.0)
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(TransientError) as raised:
            await client.create("Account", {"Name": "Maybe"})

    assert raised.value.retryable is True  # the caller may decide, knowing the risk
    assert [(c.status, c.attempt) for c in run.api_calls()] == [(500, 1)]


@pytest.mark.parametrize("write", ["create", "update"])
async def test_a_row_lock_is_retried_and_the_write_happens_once(
    emulator: Info, hooks: SalesforceHooks, write: str
) -> None:
    [account_id] = hooks.load({"Account": [{"Name": "Locked"}]})["Account"]
    hooks.faults(row_lock_rate=1.0)
    run = make_client(emulator, transport=fault_off_after(hooks, 400, "row_lock_rate"))
    async with run.client as client:
        if write == "create":
            await client.create("Account", {"Name": "Unlocked"})
        else:
            await client.update("Account", account_id, {"Name": "Unlocked"})

    names = sorted(row["Name"] for row in hooks.dump("Account"))
    assert names == (["Locked", "Unlocked"] if write == "create" else ["Unlocked"])
    outcomes = [(c.status, c.attempt, c.error_code) for c in run.api_calls()]
    assert outcomes == [
        (400, 1, "UNABLE_TO_LOCK_ROW"),
        (201 if write == "create" else 204, 2, None),
    ]


async def test_a_lasting_row_lock_ends_as_a_retryable_error(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    [account_id] = hooks.load({"Account": [{"Name": "Stuck"}]})["Account"]
    hooks.faults(row_lock_rate=1.0)
    run = make_client(emulator, max_attempts=4)
    async with run.client as client:
        with pytest.raises(TransientError) as raised:
            await client.update("Account", account_id, {"Name": "Never"})

    assert (raised.value.code, raised.value.retryable) == ("UNABLE_TO_LOCK_ROW", True)
    assert len(run.api_calls()) == 4
    assert hooks.record("Account", account_id)["Name"] == "Stuck"


# -- the daily API allocation and the usage guard (§1.7, §5) ---------------------------------------


async def test_an_exhausted_daily_allocation_is_a_rate_limit_not_retried(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.faults(daily_api_limit=3)
    run = make_client(emulator)
    async with run.client as client:
        for _ in range(3):
            await client.query_all(ACCOUNTS)
        with pytest.raises(RateLimitedError) as raised:
            await client.query_all(ACCOUNTS)

    error = raised.value
    assert (error.status, error.code, error.retryable) == (403, "REQUEST_LIMIT_EXCEEDED", True)
    assert error.retry_after is not None
    assert error.retry_after >= 900  # the rolling 24 h window frees calls slowly
    assert [c.status for c in run.api_calls()] == [200, 200, 200, 403]
    assert hooks.stats()["limit_rejections"] == 1
    assert run.client.limits_usage.snapshot == UsageSnapshot(3, 3)


async def test_the_daily_allocation_given_at_start_is_enforced(
    start_salesforce_emulator: SalesforceFactory,
) -> None:
    info = start_salesforce_emulator(deals=0, daily_api_limit=2)
    run = make_client(info)
    async with run.client as client:
        await client.query_all(ACCOUNTS)
        await client.query_all(ACCOUNTS)
        with pytest.raises(RateLimitedError) as raised:
            await client.get("Account", "001000000000001AAA")

    assert raised.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert [c.status for c in run.api_calls()] == [200, 200, 403]


async def test_the_usage_guard_stops_backfill_above_the_share_but_never_sync(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.faults(daily_api_limit=10)
    run = make_client(emulator)
    async with run.client as client:
        client.guard("backfill")  # usage unknown before the first answer: work may start
        for _ in range(7):
            await client.query_all(ACCOUNTS)
        client.guard("backfill")  # 70 %: below the 80 % guard
        for _ in range(2):
            await client.query_all(ACCOUNTS)
        with pytest.raises(RateLimitedError) as backfill:
            client.guard("backfill")
        with pytest.raises(RateLimitedError):
            client.guard("reconcile")
        client.guard("sync")
        await client.query_all(ACCOUNTS)  # urgent work spends the rest

    assert backfill.value.code == API_USAGE_GUARD
    assert backfill.value.context == {"used": 9, "allocation": 10, "kind": "backfill"}
    assert run.api_calls()[-1].extra["api_usage"] == "api-usage=10/10"
    assert len(run.api_calls()) == 10  # the guard itself spends no calls
