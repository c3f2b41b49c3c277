"""Clients we did not write talk to the emulator unmodified: it speaks NetSuite, not dealbridge.

* the PyPI ``netsuite`` package (authlib OAuth1 with ``oauth_body_hash``, realm as configured,
  ``X-NetSuite-PropertyNameValidation: error``), pointed at the emulator by overriding only the
  URL it builds (the real one is ``https://<account>.suitetalk.api.netsuite.com``);
* ``requests`` + ``requests-oauthlib`` OAuth1 with HMAC-SHA256 and a realm.

All tests share one emulator process, reset before each test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
from netsuite.config import Config, TokenAuth
from netsuite.exceptions import NetsuiteAPIRequestError
from netsuite.rest_api import NetSuiteRestApi
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from tests.contract.conftest import Info, reset_emulator

# The package was written against older library versions; its own calls raise these warnings
# (``data=`` for raw content, authlib's httpx module, oauthlib's old signer name). They are its
# concern, not the emulator's, so they are allowed here and nowhere else.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The httpx module is deprecated"),
    pytest.mark.filterwarnings("ignore:use sign_hmac_sha256_with_client:DeprecationWarning"),
]


@pytest.fixture
def netsuite_emulator(netsuite_emulator_module: Info) -> Info:
    """This module's shared emulator (default options), reset by ``_fresh_shared_emulator``."""
    return netsuite_emulator_module


@pytest.fixture(autouse=True)
def _fresh_shared_emulator(netsuite_emulator_module: Info) -> None:
    """``POST /__emulator__/reset`` before each test.

    Records, faults, statistics and login failures go back to start-up. Credentials, issued
    tokens and used nonces stay, which is harmless: every client here signs with a fresh random
    nonce.
    """
    reset_emulator(netsuite_emulator_module)


class EmulatorRestApi(NetSuiteRestApi):
    """The package's REST client with its host swapped for the emulator's; nothing else changed."""

    def __init__(self, config: Config, base_url: str) -> None:
        super().__init__(config)
        self._base_url = base_url

    def _make_url(self, subpath: str) -> str:
        return f"{self._base_url}{subpath}"


def _package_client(emulator: dict[str, Any]) -> EmulatorRestApi:
    tba = emulator["tba"]
    config = Config(
        account=emulator["account"],
        auth=TokenAuth(
            consumer_key=tba["consumer_key"],
            consumer_secret=tba["consumer_secret"],
            token_id=tba["token_id"],
            token_secret=tba["token_secret"],
        ),
    )
    return EmulatorRestApi(config, emulator["base_url"])


def test_netsuite_package_record_calls_and_suiteql(netsuite_emulator: dict[str, Any]) -> None:
    api = _package_client(netsuite_emulator)

    async def scenario() -> tuple[Any, Any, Any]:
        created = await api.put(
            "/record/v1/customer/eid:SFACC-PKG-1",
            json={"companyName": "Package Co", "subsidiary": {"id": "1"}},
        )
        record = await api.get("/record/v1/customer/eid:SFACC-PKG-1")
        rows = await api.suiteql(
            "SELECT id, companyname, externalid FROM customer WHERE externalid = 'SFACC-PKG-1'",
            limit=10,
        )
        return created, record, rows

    created, record, rows = asyncio.run(scenario())
    assert created is None  # 204, no body
    assert record["companyName"] == "Package Co"
    assert record["externalId"] == "SFACC-PKG-1"
    assert rows["count"] == 1
    assert rows["items"][0]["companyname"] == "Package Co"
    assert rows["items"][0]["id"] == record["id"]


def test_netsuite_package_sees_netsuite_error_shape(netsuite_emulator: dict[str, Any]) -> None:
    api = _package_client(netsuite_emulator)

    async def scenario() -> None:
        await api.post("/record/v1/customer", json={"companyName": "X", "bogusField": 1})

    with pytest.raises(NetsuiteAPIRequestError) as caught:
        asyncio.run(scenario())
    assert caught.value.status_code == 400
    assert "bogusField" in caught.value.response_text
    assert "o:errorDetails" in caught.value.response_text


def _requests_auth(emulator: dict[str, Any]) -> OAuth1:
    tba = emulator["tba"]
    return OAuth1(
        tba["consumer_key"],
        client_secret=tba["consumer_secret"],
        resource_owner_key=tba["token_id"],
        resource_owner_secret=tba["token_secret"],
        signature_method=SIGNATURE_HMAC_SHA256,
        realm=emulator["account"],
    )


def test_requests_oauthlib_signatures_are_accepted(netsuite_emulator: dict[str, Any]) -> None:
    base = netsuite_emulator["base_url"]
    auth = _requests_auth(netsuite_emulator)
    created = requests.post(
        f"{base}/record/v1/customer",
        json={"companyName": "Requests Co", "subsidiary": {"id": "1"}},
        auth=auth,
        timeout=30,
    )
    assert created.status_code == 204, created.text
    location = created.headers["Location"]
    got = requests.get(location, params={"expandSubResources": "true"}, auth=auth, timeout=30)
    assert got.status_code == 200, got.text
    assert got.json()["companyName"] == "Requests Co"
    listed = requests.get(
        f"{base}/record/v1/customer",
        params={"q": 'companyName IS "Requests Co"', "limit": 5},
        auth=auth,
        timeout=30,
    )
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [location.rsplit("/", 1)[-1]]


def test_requests_oauthlib_with_a_wrong_secret_is_refused(
    netsuite_emulator: dict[str, Any],
) -> None:
    tba = netsuite_emulator["tba"]
    auth = OAuth1(
        tba["consumer_key"],
        client_secret=tba["consumer_secret"],
        resource_owner_key=tba["token_id"],
        resource_owner_secret="not-the-secret",
        signature_method=SIGNATURE_HMAC_SHA256,
        realm=netsuite_emulator["account"],
    )
    answer = requests.get(
        f"{netsuite_emulator['base_url']}/record/v1/customer", auth=auth, timeout=30
    )
    assert answer.status_code == 401
    detail = answer.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_LOGIN"
    assert detail["detail"] == "Invalid login attempt."
