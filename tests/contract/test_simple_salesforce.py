"""simple-salesforce, unmodified, against the emulator over ``--tls`` (issue 3 "Done means").

simple-salesforce only speaks ``https://`` and sends logins to ``https://{domain}.salesforce.com``
(contracts §2.1), so every test gives it a ``requests.Session`` that trusts the emulator's
generated CA, and the login tests mount a transport adapter that forwards the login host to the
emulator — "a session pointed at the emulator". Nothing of simple-salesforce is patched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from tests.support.salesforce_org import SalesforceOrg, salesforce_process

OPPORTUNITY = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-06-30"}


class ForwardingAdapter(HTTPAdapter):
    """Sends whatever is mounted on it to ``target`` instead, keeping path and query."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = urlsplit(target)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Rewrite scheme and host, then send as usual (TLS verified against the session CA)."""
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(
            (self._target.scheme, self._target.netloc, parts.path, parts.query, parts.fragment)
        )
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceOrg]:
    state_dir = tmp_path_factory.mktemp("sf-simple")
    with salesforce_process(state_dir, "--tls", "--deals", "20") as org:
        yield org


@pytest.fixture
def org(emulator: SalesforceOrg) -> SalesforceOrg:
    emulator.reset()
    emulator.seed(deals=20)
    return emulator


def trusting_session(org: SalesforceOrg, *login_hosts: str) -> requests.Session:
    """A session that trusts the emulator's CA and forwards ``login_hosts`` to it."""
    session = requests.Session()
    # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment override
    # ``session.verify``; without the environment the session's CA is the one used.
    session.trust_env = False
    session.verify = org.info["ca_cert"]
    for host in login_hosts:
        session.mount(f"https://{host}", ForwardingAdapter(org.info["instance_url"]))
    return session


@pytest.fixture
def sf(org: SalesforceOrg) -> Iterator[Salesforce]:
    """simple-salesforce in "direct" mode: instance URL and a session id (§2.1)."""
    token = org.ok(org.control.post("/tokens"))["access_token"]
    session = trusting_session(org)
    yield Salesforce(
        instance_url=org.info["instance_url"], session_id=token, session=session, version="65.0"
    )
    session.close()


def test_nested_subquery_query(sf: Salesforce, org: SalesforceOrg) -> None:
    soql = (
        "SELECT Id, Name, Account.Name, (SELECT ContactId, Role FROM OpportunityContactRoles), "
        "(SELECT Id, (SELECT Id, SBQQ__ProductCode__c FROM SBQQ__LineItems__r) "
        "FROM SBQQ__Quotes2__r WHERE SBQQ__Primary__c = true) FROM Opportunity "
        "WHERE SBQQ__PrimaryQuote__c != null ORDER BY Name LIMIT 5"
    )
    result = sf.query(soql)
    assert result["done"] is True
    assert 0 < result["totalSize"] <= 5
    for record in result["records"]:
        quotes = record["SBQQ__Quotes2__r"]
        assert quotes["totalSize"] == 1
        lines = quotes["records"][0]["SBQQ__LineItems__r"]
        assert lines["done"] is True
        assert all(line["SBQQ__ProductCode__c"] for line in lines["records"])
    assert sf.api_usage["api-usage"].used >= 1


def test_query_all_follows_locators_over_5000_records(sf: Salesforce, org: SalesforceOrg) -> None:
    org.load({"Account": [{"Name": f"Bulk {n:05d}"} for n in range(5000)]})
    result = sf.query_all("SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk%'")
    assert result["totalSize"] == 5000
    assert len({record["Id"] for record in result["records"]}) == 5000


def sobject(sf: Salesforce, name: str) -> SFType:
    """``sf.<name>``: simple-salesforce's per-object handle (typed as a union by its stubs)."""
    return cast(SFType, getattr(sf, name))


def test_create_update_upsert_delete_status_codes(sf: Salesforce) -> None:
    accounts = sobject(sf, "Account")
    created = accounts.create({"Name": "Simple"})
    assert created["success"] is True
    account = created["id"]
    assert accounts.update(account, {"Phone": "555"}) == 204
    assert accounts.get(account)["Phone"] == "555"
    assert accounts.upsert("NetSuite_Customer_Id__c/NS-1", {"Name": "Upserted"}) == 201
    assert accounts.upsert("NetSuite_Customer_Id__c/NS-1", {"Name": "Upserted again"}) == 200
    by_external = accounts.get_by_custom_id("NetSuite_Customer_Id__c", "NS-1")
    assert by_external["Name"] == "Upserted again"
    assert accounts.delete(account) == 204
    with pytest.raises(SalesforceResourceNotFound):
        accounts.get(account)


def test_errors_map_onto_simple_salesforce_exceptions(sf: Salesforce, org: SalesforceOrg) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad_query:
        sf.query("SELECT Nope FROM Account")
    content = cast(list[dict[str, Any]], bad_query.value.content)
    assert content[0]["errorCode"] == "INVALID_FIELD"
    org.load({"Account": [{"Name": n, "NetSuite_Customer_Id__c": "TWICE"} for n in "AB"]})
    with pytest.raises(SalesforceMoreThanOneRecord):
        sobject(sf, "Account").upsert("NetSuite_Customer_Id__c/TWICE", {"Phone": "1"})


def test_composite_through_restful(sf: Salesforce, org: SalesforceOrg) -> None:
    result = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v65.0/sobjects/Account/",
                    "referenceId": "acc",
                    "body": {"Name": "Composite Co"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v65.0/sobjects/Opportunity/",
                    "referenceId": "opp",
                    "body": {**OPPORTUNITY, "AccountId": "@{acc.id}"},
                },
            ],
        },
    )
    assert result is not None
    statuses = [entry["httpStatusCode"] for entry in result["compositeResponse"]]
    assert statuses == [201, 201]
    account, opportunity = (entry["body"]["id"] for entry in result["compositeResponse"])
    assert sobject(sf, "Opportunity").get(opportunity)["AccountId"] == account


def test_jwt_login_through_a_session_pointed_at_the_emulator(org: SalesforceOrg) -> None:
    jwt_settings = org.info["jwt"]
    session = trusting_session(org, "login.salesforce.com")
    sf = Salesforce(
        username=jwt_settings["username"],
        consumer_key=jwt_settings["consumer_key"],
        privatekey_file=jwt_settings["private_key"],
        session=session,
    )
    assert sf.sf_instance == urlsplit(org.info["instance_url"]).netloc
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 20
    # When the session dies, simple-salesforce reads the 401 array, logs in again and retries.
    org.ok(org.control.post("/tokens/expire"))
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 20
    session.close()


def test_client_credentials_login_with_a_my_domain(org: SalesforceOrg) -> None:
    app = org.info["client_credentials"]
    session = trusting_session(org, "acme.my.salesforce.com")
    sf = Salesforce(
        consumer_key=app["client_id"],
        consumer_secret=app["client_secret"],
        domain="acme.my",
        session=session,
    )
    assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1
    session.close()
