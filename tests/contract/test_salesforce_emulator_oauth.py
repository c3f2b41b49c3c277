"""The Salesforce emulator's OAuth, sessions, TLS, start-up line and Outbound wiring over HTTP.

Token endpoint per contracts §2 (JWT bearer with a string ``exp``, client credentials in the
body or as HTTP Basic), 401 ``INVALID_SESSION_ID`` as a JSON array (§2.1), HTTPS with the
generated CA (§6), and an Outbound Message reaching a listener after a REST write (§3.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.contract.conftest import SalesforceFactory
from tests.support.salesforce_org import (
    DATA,
    SalesforceOrg,
    jwt_assertion,
    salesforce_process,
    token_request,
    wait_for,
)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUTH_FAILURE = {"error": "invalid_grant", "error_description": "authentication failure"}
ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
    b'"http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse '
    b'xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>'
    b"</soapenv:Body></soapenv:Envelope>"
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceOrg]:
    with salesforce_process(tmp_path_factory.mktemp("sf-oauth"), "--deals", "2") as org:
        yield org


@pytest.fixture
def org(emulator: SalesforceOrg) -> SalesforceOrg:
    emulator.reset()
    return emulator


def query_with(org: SalesforceOrg, token: str, scheme: str = "Bearer") -> httpx.Response:
    return org.anonymous.get(
        f"{DATA}/query",
        params={"q": "SELECT Id FROM Account"},
        headers={"Authorization": f"{scheme} {token}"},
    )


def test_first_line_describes_the_org(org: SalesforceOrg) -> None:
    info = org.info
    assert info["api_version"] == "65.0"
    assert info["org_id"].startswith("00D")
    assert len(info["org_id"]) == 18
    assert info["access_token"].startswith(info["org_id"][:15] + "!AR")
    assert info["jwt"]["username"] == "integration@dealbridge.example"
    assert info["jwt"]["audience"] == info["instance_url"]
    assert info["jwt"]["token_url"] == info["instance_url"] + "/services/oauth2/token"
    assert stat.S_IMODE(Path(info["jwt"]["private_key"]).stat().st_mode) == 0o600
    assert Path(info["jwt"]["certificate"]).read_text().startswith("-----BEGIN CERTIFICATE")
    assert info["ca_cert"] is None
    assert org.ok(org.control.get("/health"))["org_id"] == info["org_id"]


@pytest.mark.parametrize(
    "audience", ["https://login.salesforce.com", "https://test.salesforce.com", "instance"]
)
def test_jwt_bearer_with_string_exp_grants_a_session(org: SalesforceOrg, audience: str) -> None:
    aud = org.info["instance_url"] if audience == "instance" else audience
    form = {"grant_type": JWT_GRANT, "assertion": jwt_assertion(org.info, aud=aud)}
    response = token_request(org.info, form)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "scope", "instance_url", "id", "token_type"}
    assert (body["instance_url"], body["token_type"], body["scope"]) == (
        org.info["instance_url"],
        "Bearer",
        "api id",
    )
    assert body["id"].startswith(f"{org.info['instance_url']}/id/{org.info['org_id']}/005")
    assert query_with(org, body["access_token"]).status_code == 200


def test_jwt_bearer_accepts_a_numeric_exp(org: SalesforceOrg) -> None:
    assertion = jwt_assertion(org.info, exp=int(time.time()) + 120)
    response = token_request(org.info, {"grant_type": JWT_GRANT, "assertion": assertion})
    assert response.status_code == 200


def test_jwt_bearer_refusals(org: SalesforceOrg) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    refusals = {
        "sub": jwt_assertion(org.info, sub="someone@else.example"),
        "exp": jwt_assertion(org.info, exp=str(int(time.time()) - 5)),
        "aud": jwt_assertion(org.info, aud="https://evil.example"),
        "key": jwt_assertion(org.info, key=other_pem),
        "garbage": "not.a.jwt",
    }
    for reason, assertion in refusals.items():
        response = token_request(org.info, {"grant_type": JWT_GRANT, "assertion": assertion})
        assert (response.status_code, response.json()) == (400, AUTH_FAILURE), reason
    wrong_app = jwt_assertion(org.info, iss="3MVG9unknown")
    response = token_request(org.info, {"grant_type": JWT_GRANT, "assertion": wrong_app})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client_id")


def test_client_credentials_in_the_body_and_as_basic(org: SalesforceOrg) -> None:
    app = org.info["client_credentials"]
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    by_body = token_request(
        org.info,
        {
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    by_basic = token_request(
        org.info,
        {"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    for response in (by_body, by_basic):
        assert response.status_code == 200
        body = response.json()
        expected = hmac.new(
            app["client_secret"].encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
        ).digest()
        assert base64.b64decode(body["signature"]) == expected
        assert query_with(org, body["access_token"]).status_code == 200


def test_bad_client_credentials_and_grant_types(org: SalesforceOrg) -> None:
    app = org.info["client_credentials"]
    wrong = token_request(
        org.info,
        {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": "x"},
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_client")
    password = token_request(org.info, {"grant_type": "password", "username": "u"})
    assert (password.status_code, password.json()["error"]) == (400, "unsupported_grant_type")


def test_expired_sessions_get_a_401_array(org: SalesforceOrg) -> None:
    token = org.ok(org.control.post("/tokens"))["access_token"]
    assert query_with(org, token, scheme="OAuth").status_code == 200
    assert org.ok(org.control.post("/tokens/expire"))["expired"] >= 1
    for response in (query_with(org, token), org.anonymous.get(f"{DATA}/limits")):
        assert response.status_code == 401
        assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
        assert response.json()[0]["message"] == "Session expired or invalid"


def test_idle_sessions_expire_after_the_token_lifetime(org: SalesforceOrg) -> None:
    org.faults(token_lifetime_seconds=0)  # any idle time at all is too long
    token = org.ok(org.control.post("/tokens"))["access_token"]
    assert query_with(org, token).status_code == 401
    org.faults(token_lifetime_seconds=7200)
    fresh = org.ok(org.control.post("/tokens"))["access_token"]
    assert query_with(org, fresh).status_code == 200


def test_tls_with_the_generated_ca(start_salesforce_emulator: SalesforceFactory) -> None:
    info = start_salesforce_emulator(tls=True, deals=2)
    assert info["instance_url"].startswith("https://127.0.0.1:")
    ca = info["ca_cert"]
    assert Path(ca).read_text().startswith("-----BEGIN CERTIFICATE")
    with httpx.Client(verify=ca, timeout=30) as trusting, httpx.Client(timeout=30) as default:
        assert trusting.get(info["instance_url"] + "/services/data/").status_code == 200
        with pytest.raises(httpx.ConnectError):
            default.get(info["instance_url"] + "/services/data/")  # system CAs only
        localhost = info["instance_url"].replace("127.0.0.1", "localhost")
        counted = trusting.get(
            f"{localhost}{DATA}/query",
            params={"q": "SELECT COUNT() FROM Opportunity"},
            headers={"Authorization": f"Bearer {info['access_token']}"},
        )
        assert counted.json()["totalSize"] == 2


class _Listener(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(ACK)))
        self.end_headers()
        self.wfile.write(ACK)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []
    handler = type("Handler", (_Listener,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/outbound", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_closing_a_deal_over_rest_sends_an_outbound_message(
    org: SalesforceOrg, listener: tuple[str, list[bytes]]
) -> None:
    url, received = listener
    org.ok(org.control.post("/outbound/endpoints", json={"url": url}))
    deal = org.create(
        "Opportunity", {"Name": "D", "StageName": "Prospecting", "CloseDate": "2026-01-31"}
    )
    update = org.rest.patch(f"{DATA}/sobjects/Opportunity/{deal}", json={"StageName": "Closed Won"})
    assert update.status_code == 204
    wait_for(lambda: received)
    assert deal.encode() in received[0]
    assert org.info["org_id"].encode() in received[0]
    log = wait_for(lambda: org.ok(org.control.get("/outbound/deliveries"))["deliveries"])
    assert log[0]["acked"] is True
