"""The NetSuite emulator over real HTTP, as a separate process, with raw httpx.

Requests are signed here with oauthlib's own Client (TBA) and PyJWT (OAuth 2.0), not with
dealbridge's client, so these tests pin the emulator to the wire contract
(``shared/contracts/netsuite.md``) rather than to our client. No test sleeps for timing: a test
that must wait polls with a deadline.

Tests taking ``netsuite_emulator`` share one emulator process, reset before each test; tests
about start-up options, restarts and shutdown start their own.
"""

from __future__ import annotations

import asyncio
import json
import stat
import time
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from tests.contract.conftest import NetSuiteFactory, reset_emulator
from tests.support.processes import dealbridge_process

Info = dict[str, Any]
SINGULAR = "application/vnd.oracle.resource+json; type=singular"


class Tba(httpx.Auth):
    """OAuth 1.0a HMAC-SHA256 signing by oauthlib, as requests-oauthlib does it (§7.1)."""

    def __init__(self, info: Info, **overrides: Any) -> None:
        tba = info["tba"]
        options: dict[str, Any] = {
            "client_secret": tba["consumer_secret"],
            "resource_owner_key": tba["token_id"],
            "resource_owner_secret": tba["token_secret"],
            "signature_method": SIGNATURE_HMAC_SHA256,
            "realm": tba["realm"],
            **overrides,
        }
        self.client = Client(tba["consumer_key"], **options)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        method: Any = request.method  # oauthlib's stubs want a Literal of method names
        _, headers, _ = self.client.sign(str(request.url), http_method=method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assertion(info: Info, section: str = "oauth2", **changes: Any) -> str:
    """A client assertion for the emulator's registered client (§7.2)."""
    cert = info[section]
    now = int(time.time())
    claims = {
        "iss": info["oauth2"]["client_id"],
        "scope": ["rest_webservices"],
        "aud": info["oauth2"]["token_url"],
        "iat": now,
        "exp": now + 3000,
        **changes,
    }
    kid = claims.pop("kid", cert["certificate_id"])
    key = Path(cert["private_key_pem"]).read_bytes()
    return jwt.encode(claims, key, algorithm=cert["algorithm"], headers={"kid": kid, "typ": "JWT"})


def request_token(info: Info, token: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": token,
    }
    return httpx.post(info["oauth2"]["token_url"], data=form, timeout=30)


def access_token(info: Info, section: str = "oauth2") -> str:
    answer = request_token(info, assertion(info, section))
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def error_detail(answer: httpx.Response) -> dict[str, Any]:
    assert answer.headers["content-type"].startswith("application/vnd.oracle.resource+json")
    body = answer.json()
    assert body["status"] == answer.status_code
    assert {"type", "title", "status", "o:errorDetails"} <= body.keys()
    detail: dict[str, Any] = body["o:errorDetails"][0]
    return detail


def api(info: Info, auth: httpx.Auth | None = None) -> httpx.Client:
    return httpx.Client(base_url=info["base_url"], auth=auth or Tba(info), timeout=30)


def control(info: Info) -> httpx.Client:
    return httpx.Client(base_url=info["control_url"], timeout=30)


@pytest.fixture
def netsuite_emulator(netsuite_emulator_module: Info) -> Info:
    """This module's shared emulator (default options), reset by ``_fresh_shared_emulator``."""
    return netsuite_emulator_module


@pytest.fixture(autouse=True)
def _fresh_shared_emulator(request: pytest.FixtureRequest) -> None:
    """``POST /__emulator__/reset`` before each test that uses the shared emulator.

    The reset restores records, fault settings (token lifetime too), statistics and login
    failures. It keeps credentials, issued tokens and the TBA nonce store, which no test here
    depends on: nonces are random per request, and tokens are only ever added.
    """
    if "netsuite_emulator_module" not in request.fixturenames:
        return  # a test with its own emulator process; do not start the shared one for it
    reset_emulator(request.getfixturevalue("netsuite_emulator_module"))


def new_customer(client: httpx.Client, name: str) -> str:
    answer = client.post(
        "/record/v1/customer", json={"companyName": name, "subsidiary": {"id": "1"}}
    )
    assert answer.status_code == 204, answer.text
    return answer.headers["Location"].rsplit("/", 1)[-1]


def test_first_line_describes_urls_and_credentials(netsuite_emulator: Info) -> None:
    info = netsuite_emulator
    assert info["base_url"].startswith("http://127.0.0.1:")
    assert info["base_url"].endswith("/services/rest")
    assert info["control_url"] == info["base_url"].replace("/services/rest", "/__emulator__")
    assert info["tba"]["realm"] == "1234567_SB1"
    assert set(info["tba"]) == {
        "consumer_key",
        "consumer_secret",
        "token_id",
        "token_secret",
        "realm",
    }
    assert info["oauth2"]["algorithm"] == "PS256"
    assert info["oauth2_es256"]["algorithm"] == "ES256"
    assert info["oauth2"]["token_url"] == info["base_url"] + "/auth/oauth2/v1/token"
    for section in ("oauth2", "oauth2_es256"):
        pem = Path(info[section]["private_key_pem"])
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert pem.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert isinstance(info["pid"], int)
    assert Path(info["state_dir"]).is_dir()


def test_record_crud_answers_with_netsuite_statuses(netsuite_emulator: Info) -> None:
    with api(netsuite_emulator) as client:
        created = client.post(
            "/record/v1/customer", json={"companyName": "Crud Co", "subsidiary": {"id": "1"}}
        )
        assert created.status_code == 204
        assert created.content == b""
        location = created.headers["Location"]
        assert location.startswith(netsuite_emulator["base_url"] + "/record/v1/customer/")
        got = client.get(location)
        assert got.status_code == 200
        assert got.headers["content-type"] == SINGULAR
        assert got.json()["companyName"] == "Crud Co"
        patched = client.patch(location, json={"companyName": "Crud Co 2"})
        assert (patched.status_code, patched.headers["Location"]) == (204, location)
        deleted = client.delete(location)
        assert deleted.status_code == 204
        assert error_detail(client.get(location))["o:errorCode"] == "NONEXISTENT_ID"


def test_put_upserts_only_by_external_id(netsuite_emulator: Info) -> None:
    body = {"companyName": "Upsert Co", "subsidiary": {"id": "1"}}
    with api(netsuite_emulator) as client:
        first = client.put("/record/v1/customer/eid:SFACC-UPSERT-1", json=body)
        again = client.put(
            "/record/v1/customer/eid:SFACC-UPSERT-1", json={**body, "companyName": "Upsert Co 2"}
        )
        assert (first.status_code, again.status_code) == (204, 204)
        assert first.headers["Location"] == again.headers["Location"]
        record = client.get("/record/v1/customer/eid:SFACC-UPSERT-1").json()
        assert record["companyName"] == "Upsert Co 2"
        plain = client.put(f"/record/v1/customer/{record['id']}", json=body)
        assert plain.status_code == 405
        assert error_detail(plain)["o:errorCode"] == "METHOD_NOT_ALLOWED"


def test_collection_pages_carry_full_links(netsuite_emulator: Info) -> None:
    with api(netsuite_emulator) as client:
        ids = [new_customer(client, f"Paging {n}") for n in range(5)]
        params = {"q": 'companyName START_WITH "Paging"', "limit": "2", "offset": "2"}
        page = client.get("/record/v1/customer", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["count"], body["hasMore"], body["offset"], body["totalResults"]) == (
            2,
            True,
            2,
            5,
        )
        assert [item["id"] for item in body["items"]] == ids[2:4]
        item_link = body["items"][0]["links"][0]
        assert item_link == {
            "rel": "self",
            "href": f"{netsuite_emulator['base_url']}/record/v1/customer/{ids[2]}",
        }
        links = {link["rel"]: httpx.URL(link["href"]) for link in body["links"]}
        assert set(links) == {"self", "first", "prev", "next", "last"}
        assert {rel: url.params["offset"] for rel, url in links.items()} == {
            "self": "2",
            "first": "0",
            "prev": "0",
            "next": "4",
            "last": "4",
        }
        assert links["next"].params["q"] == params["q"]
        following = client.get(str(links["next"])).json()
        assert [item["id"] for item in following["items"]] == ids[4:]
        assert following["hasMore"] is False


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "2", "offset": "3"}, "offset"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_paging_is_refused(
    netsuite_emulator: Info, params: dict[str, str], parameter: str
) -> None:
    with api(netsuite_emulator) as client:
        for answer in (
            client.get("/record/v1/customer", params=params),
            client.post("/query/v1/suiteql", params=params, json={"q": "SELECT id FROM customer"}),
        ):
            assert answer.status_code == 400
            detail = error_detail(answer)
            assert detail["o:errorCode"] == "INVALID_PARAMETER"
            assert detail["o:errorQueryParam"] == parameter


def test_suiteql_pages_results(netsuite_emulator: Info) -> None:
    query = {
        "q": "SELECT id, companyname FROM customer WHERE companyname LIKE 'Query %' ORDER BY id"
    }
    with api(netsuite_emulator) as client:
        ids = [new_customer(client, f"Query {n}") for n in range(5)]
        page = client.post(
            "/query/v1/suiteql",
            params={"limit": 2, "offset": 2},
            json=query,
            headers={"Prefer": "transient"},
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["count"], body["hasMore"], body["offset"], body["totalResults"]) == (
            2,
            True,
            2,
            5,
        )
        assert body["items"] == [
            {"links": [], "id": ids[n], "companyname": f"Query {n}"} for n in (2, 3)
        ]
        rels = {link["rel"]: httpx.URL(link["href"]) for link in body["links"]}
        assert rels["next"].path.endswith("/query/v1/suiteql")
        assert rels["next"].params["offset"] == "4"
        unpreferred = client.post("/query/v1/suiteql", json=query)  # no Prefer: transient
        assert unpreferred.json()["totalResults"] == 5
        missing = client.post("/query/v1/suiteql", json={"query": "SELECT 1"})
        assert error_detail(missing)["o:errorCode"] == "INVALID_CONTENT"


def test_malformed_json_unknown_routes_and_methods(netsuite_emulator: Info) -> None:
    with api(netsuite_emulator) as client:
        broken = client.post(
            "/record/v1/customer",
            content=b'{"companyName": ',
            headers={"Content-Type": "application/json"},
        )
        assert broken.status_code == 400
        detail = error_detail(broken)
        assert detail["o:errorCode"] == "INVALID_CONTENT"
        assert detail["detail"].startswith("Invalid JSON")
        missing = client.get("/record/v2/customer")
        assert missing.status_code == 404
        assert error_detail(missing)["o:errorCode"] == "INVALID_URL"
        wrong = client.post("/system/v1/governanceLimits", json={})
        assert wrong.status_code == 405
        assert "GET" in wrong.headers["Allow"]
        error_detail(wrong)


def test_governance_limits_report_the_configured_pool(
    start_netsuite_emulator: NetSuiteFactory,
) -> None:
    info = start_netsuite_emulator(concurrency_limit=7)
    with api(info) as client:
        limits = client.get("/system/v1/governanceLimits")
    assert limits.json() == {
        "accountConcurrencyLimit": 7,
        "accountUnallocatedConcurrencyLimit": 7,
        "integrationLimitType": "accountLimit",
    }


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"resource_owner_secret": "not-the-secret"}, "bad signature"),
        ({"realm": "1234567_sb1"}, "wrong realm"),
        ({"timestamp": str(int(time.time()) - 3600)}, "timestamp outside the allowed skew"),
    ],
)
def test_tba_failures_are_netsuite_invalid_login(
    netsuite_emulator: Info, overrides: dict[str, Any], reason: str
) -> None:
    with api(netsuite_emulator, Tba(netsuite_emulator, **overrides)) as client:
        answer = client.get("/record/v1/customer")
    assert answer.status_code == 401
    detail = error_detail(answer)
    assert (detail["o:errorCode"], detail["detail"]) == ("INVALID_LOGIN", "Invalid login attempt.")
    with control(netsuite_emulator) as hooks:
        assert hooks.get("/stats").json()["auth_failures"] == {reason: 1}


def test_a_reused_nonce_is_refused(netsuite_emulator: Info) -> None:
    # The shared emulator's nonce store outlives resets; a random nonce is new to it all the same.
    with api(netsuite_emulator, Tba(netsuite_emulator, nonce=uuid.uuid4().hex)) as client:
        assert client.get("/record/v1/customer", params={"limit": 1}).status_code == 200
        replay = client.get("/record/v1/customer", params={"limit": 1})
    assert replay.status_code == 401
    assert error_detail(replay)["o:errorCode"] == "INVALID_LOGIN"


@pytest.mark.parametrize("section", ["oauth2", "oauth2_es256"])
def test_oauth2_tokens_from_either_certificate_open_the_api(
    netsuite_emulator: Info, section: str
) -> None:
    answer = request_token(netsuite_emulator, assertion(netsuite_emulator, section))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    with httpx.Client(base_url=netsuite_emulator["base_url"], timeout=30) as client:
        limits = client.get("/system/v1/governanceLimits", headers=bearer(body["access_token"]))
    assert limits.status_code == 200


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"kid": "not-a-certificate"}, 401, "invalid_client"),
        ({"aud": "https://elsewhere.example/token"}, 400, "invalid_grant"),
        ({"iat": int(time.time()), "exp": int(time.time()) + 3601}, 400, "invalid_grant"),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3700}, 400, "invalid_grant"),
    ],
)
def test_bad_client_assertions_get_oauth_errors(
    netsuite_emulator: Info, changes: dict[str, Any], status: int, error: str
) -> None:
    answer = request_token(netsuite_emulator, assertion(netsuite_emulator, **changes))
    assert answer.status_code == status
    assert answer.json()["error"] == error


def test_expired_and_unknown_bearer_tokens_are_refused(netsuite_emulator: Info) -> None:
    # Expired at issue via the run-time token lifetime; the next test's reset restores 3600 s.
    with control(netsuite_emulator) as hooks:
        assert hooks.put("/faults", json={"token_lifetime_seconds": 0}).status_code == 200
    expired = access_token(netsuite_emulator)
    with httpx.Client(base_url=netsuite_emulator["base_url"], timeout=30) as client:
        for token in (expired, "never-issued"):
            answer = client.get("/record/v1/customer", headers=bearer(token))
            assert answer.status_code == 401
            assert error_detail(answer)["o:errorCode"] == "INVALID_LOGIN"
            assert answer.headers["WWW-Authenticate"] == (
                'Bearer realm="1234567_SB1", error="invalid_token"'
            )


def test_concurrency_over_the_limit_gets_429(start_netsuite_emulator: NetSuiteFactory) -> None:
    info = start_netsuite_emulator(concurrency_limit=15, latency_ms=200)
    token = access_token(info)

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
        async with httpx.AsyncClient(
            base_url=info["base_url"], limits=limits, timeout=60
        ) as client:
            calls = [
                client.get("/system/v1/governanceLimits", headers=bearer(token)) for _ in range(50)
            ]
            return await asyncio.gather(*calls)

    answers = asyncio.run(burst())
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) > 0
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert error_detail(refused) == {
        "detail": "Concurrent request limit exceeded. Request blocked.",
        "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
    }
    with control(info) as hooks:
        stats = hooks.get("/stats").json()
    assert 0 < stats["max_in_flight"] <= 15
    assert stats["responses_429"] == statuses.count(429)
    assert stats["in_flight"] == 0


def test_injected_faults_and_reset(netsuite_emulator: Info) -> None:
    with api(netsuite_emulator) as client, control(netsuite_emulator) as hooks:
        kept = new_customer(client, "Before reset")
        assert hooks.put("/faults", json={"error_rate": 2}).status_code == 422
        assert hooks.put("/faults", json={"unknown_knob": 1}).status_code == 422
        settings = hooks.put("/faults", json={"error_rate": 1.0}).json()
        assert settings["error_rate"] == 1.0
        assert settings["concurrency_limit"] == 15
        failed = client.get("/record/v1/customer")
        assert (failed.status_code, error_detail(failed)["o:errorCode"]) == (
            500,
            "UNEXPECTED_ERROR",
        )
        hooks.put(
            "/faults", json={"error_rate": 0.0, "slow_login_rate": 1.0, "slow_login_seconds": 0.2}
        )
        slow = client.get("/record/v1/customer")
        assert (slow.status_code, error_detail(slow)["o:errorCode"]) == (401, "INVALID_LOGIN")
        stats = hooks.get("/stats").json()
        assert stats["faults_injected"] == {"error": 1, "slow_login": 1}
        assert hooks.post("/reset").json() == {"status": "reset"}
        assert hooks.get("/faults").json()["slow_login_rate"] == 0.0
        assert hooks.get("/stats").json()["total_requests"] == 0
        assert client.get(f"/record/v1/customer/{kept}").status_code == 404


def test_control_api_seeds_and_dumps_records(netsuite_emulator: Info) -> None:
    with control(netsuite_emulator) as hooks, api(netsuite_emulator) as client:
        assert hooks.get("/health").json()["status"] == "ok"
        seeded = hooks.post(
            "/seed",
            json={
                "customer": [
                    {
                        "externalId": "SFACC-SEED-1",
                        "companyName": "Seeded Co",
                        "subsidiary": {"id": "1"},
                    }
                ]
            },
        )
        assert seeded.status_code == 200, seeded.text
        assert seeded.json() == {"loaded": {"customer": 1}}
        record = client.get("/record/v1/customer/eid:SFACC-SEED-1")
        assert record.json()["companyName"] == "Seeded Co"
        dumped = hooks.get("/records/customer").json()
        assert any("Seeded Co" in str(entry) for entry in dumped)
        assert hooks.post("/seed", json={"customer": "not a list"}).status_code == 422


def test_restart_on_the_same_state_dir_keeps_credentials_and_exits_cleanly(
    tmp_path: Path,
) -> None:
    args = ["emulate", "netsuite", "--port", "0", "--state-dir", str(tmp_path / "ns")]
    with dealbridge_process(args) as first:
        first_info = first.info
    assert first.process.returncode == 0
    with dealbridge_process(args) as second:
        assert second.info["tba"] == first_info["tba"]
        assert second.info["oauth2"]["certificate_id"] == first_info["oauth2"]["certificate_id"]
        assert access_token(second.info)


def test_a_hung_request_keeps_its_slot_and_does_not_stall_shutdown(tmp_path: Path) -> None:
    args = [
        "emulate",
        "netsuite",
        "--port",
        "0",
        "--state-dir",
        str(tmp_path / "ns"),
        "--concurrency-limit",
        "1",
    ]
    with dealbridge_process(args) as emulator:
        info = emulator.info
        token = access_token(info)
        with control(info) as hooks:
            hooks.put("/faults", json={"timeout_rate": 1.0, "timeout_seconds": 600})
            with httpx.Client(base_url=info["base_url"], timeout=1.0) as impatient:
                with pytest.raises(httpx.ReadTimeout):
                    impatient.get("/system/v1/governanceLimits", headers=bearer(token))
            hooks.put("/faults", json={"timeout_rate": 0.0})
            assert hooks.get("/stats").json()["in_flight"] == 1
            with httpx.Client(base_url=info["base_url"], timeout=30) as client:
                blocked = client.get("/system/v1/governanceLimits", headers=bearer(token))
            assert error_detail(blocked)["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert emulator.process.returncode == 0


def test_a_seed_file_is_loaded_at_start_and_again_by_reset(
    start_netsuite_emulator: NetSuiteFactory, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.json"
    customer = {"externalId": "SFACC-FILE-1", "companyName": "File Co", "subsidiary": {"id": "1"}}
    seed.write_text(json.dumps({"customer": [customer]}))
    info = start_netsuite_emulator(seed=seed)
    with api(info) as client, control(info) as hooks:
        assert client.get("/record/v1/customer/eid:SFACC-FILE-1").status_code == 200
        client.delete("/record/v1/customer/eid:SFACC-FILE-1")
        hooks.post("/reset")
        assert client.get("/record/v1/customer/eid:SFACC-FILE-1").status_code == 200
