"""Call records carry redacted bodies when the real connectors talk to the emulators.

Each client records through its own observer; the checks are on what a run's history would
store: the JSON sent and received, credential-named fields masked, token endpoint bodies replaced
by a marker, and no credential the client held or saw anywhere in a record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.core.calls import REDACTED, TOKEN_ENDPOINT_BODY, CallRecord
from tests.support import netsuite as ns_support
from tests.support import salesforce as sf_support

pytestmark = pytest.mark.anyio

LICENSE = "LIC-7f3a9c0d21e4"  # a value stored under a credential-named custom field


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def netsuite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ns_support.Info]:
    with ns_support.running_emulator(tmp_path_factory.mktemp("ns-bodies")) as info:
        yield info


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sf_support.Info]:
    with sf_support.running_salesforce(tmp_path_factory.mktemp("sf-bodies"), deals=0) as info:
        yield info


async def test_netsuite_records_masked_bodies_and_no_credential(netsuite: ns_support.Info) -> None:
    runs = ns_support.ClientRuns(netsuite)
    run = runs("oauth2")
    body = {
        "companyName": "Bodies Co",
        "subsidiary": {"id": "1"},
        "custentity_license_key": LICENSE,
    }
    async with run.client as client:
        new_id = await client.create("customer", body)
        record = await client.get("customer", new_id)

    assert record["custentity_license_key"] == LICENSE  # the emulator really holds it
    create, get = run.api_calls()
    assert create.request_body is not None
    assert json.loads(create.request_body) == {**body, "custentity_license_key": REDACTED}
    assert create.response_body is None  # 204: no body
    assert get.request_body is None
    assert get.response_body is not None
    answered = json.loads(get.response_body)
    assert answered["companyName"] == "Bodies Co"
    assert answered["custentity_license_key"] == REDACTED
    for call in run.calls:
        assert LICENSE not in repr(call.as_dict())
    [token] = run.token_calls()
    assert (token.request_body, token.response_body) == (TOKEN_ENDPOINT_BODY, TOKEN_ENDPOINT_BODY)
    assert run.wire.access_tokens()  # the client did hold a token; none of it was recorded
    runs.assert_nothing_leaked()


async def test_netsuite_bodies_can_be_turned_off(netsuite: ns_support.Info) -> None:
    settings = ns_support.netsuite_settings(netsuite, "tba")
    calls: list[CallRecord] = []
    client = NetSuiteClient(settings, on_call=calls.append, record_bodies=False)
    async with client:
        await client.create("customer", {"companyName": "Quiet Co", "subsidiary": {"id": "1"}})
    [create] = calls
    assert (create.status, create.request_body, create.response_body) == (204, None, None)


async def test_salesforce_records_masked_bodies_and_no_token(salesforce: sf_support.Info) -> None:
    hooks = sf_support.SalesforceHooks(salesforce)
    hooks.reset()
    run = sf_support.make_client(salesforce, "client_credentials")
    async with run.client as client:
        account_id = await client.create("Account", {"Name": "Bodies Inc"})
        rows = await client.query_all(soql("SELECT Id, Name FROM Account"))
        token_value = client.auth.secret_values()

    assert [row["Id"] for row in rows] == [account_id]
    create, query = run.api_calls()
    assert create.request_body is not None
    assert json.loads(create.request_body) == {"Name": "Bodies Inc"}
    assert create.response_body is not None
    assert json.loads(create.response_body)["id"] == account_id
    assert query.request_body is None
    assert query.response_body is not None
    assert json.loads(query.response_body)["records"][0]["Name"] == "Bodies Inc"
    [token] = run.token_calls()
    assert (token.request_body, token.response_body) == (TOKEN_ENDPOINT_BODY, TOKEN_ENDPOINT_BODY)
    client_secret = run.settings.client_secret
    assert client_secret is not None
    secrets = {*token_value, client_secret.get_secret_value()}
    assert all(len(secret) >= 8 for secret in secrets)
    for call in run.calls:
        dumped = repr(call.as_dict())
        assert not [secret for secret in secrets if secret in dumped], call.path
