"""``CookielessClient.build_request`` writes plain requests' URLs as text: the same request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dealbridge.core.http_transport import CookielessClient

BASES = ["https://acct.suitetalk.api.netsuite.com/services/rest/", "http://127.0.0.1:8123", ""]
URLS = [
    "record/v1/customer/eid:ACME-1",
    "/record/v1/customer/eid:ACME%2F1",
    "https://acme.my.salesforce.com/services/data/v60.0/query",
    "http://127.0.0.1:9/services/data/v60.0/composite/sobjects",
    "record/v1/customer/eid:Ä café",
]
PARAMS: list[Any] = [
    None,
    {},
    {"q": "SELECT Id, Name FROM Account WHERE Name = 'A&B / C+D'"},
    {"replace": "item,price", "limit": 5, "flag": True, "empty": "", "none": None, "x": 2.5},
    [("fields", "a"), ("fields", "b")],
]
BODIES: list[Any] = [None, {"companyName": "Ünïcode & Co", "items": [1, 2.5, None]}]


def _same(fast: httpx.Request, slow: httpx.Request) -> None:
    assert fast.method == slow.method
    assert fast.url.raw == slow.url.raw
    assert str(fast.url) == str(slow.url)
    assert fast.headers.multi_items() == slow.headers.multi_items()
    assert fast.content == slow.content
    assert fast.extensions == slow.extensions


def _client(base: str) -> CookielessClient:
    return CookielessClient(
        base_url=base, headers={"Accept": "application/json", "Prefer": "transient"}, timeout=7.5
    )


# A relative URL without a base URL is no request httpx can send either.
SENDABLE = [(base, url) for base in BASES for url in URLS if base or url.startswith("http")]


@pytest.mark.parametrize(("base", "url"), SENDABLE)
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("body", BODIES)
def test_a_plain_request_is_the_one_httpx_builds(
    base: str, url: str, params: Any, body: Any
) -> None:
    client = _client(base)
    headers = {"Authorization": "Bearer t0ken", "X-Extra": "1"}

    fast = client.build_request("PUT", url, params=params, json=body, headers=headers)
    slow = httpx.AsyncClient.build_request(
        client, "PUT", url, params=params, json=body, headers=headers
    )

    _same(fast, slow)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"grant_type": "client_credentials"}},
        {"content": b"<xml/>"},
        {"timeout": 1.0},
        {"extensions": {"trace": None}},
        {"cookies": {"a": "b"}},
    ],
    ids=["form", "content", "timeout", "extensions", "cookies"],
)
def test_anything_else_goes_through_httpx_unchanged(kwargs: dict[str, Any]) -> None:
    client = _client(BASES[0])

    fast = client.build_request("POST", "record/v1/customer", **kwargs)
    slow = httpx.AsyncClient.build_request(client, "POST", "record/v1/customer", **kwargs)

    _same(fast, slow)


@pytest.mark.parametrize("url", ["record/v1/customer?limit=5", httpx.URL("record/v1/customer")])
def test_a_query_in_the_url_or_a_url_object_is_joined_by_httpx(url: str | httpx.URL) -> None:
    client = _client(BASES[0])

    fast = client.build_request("GET", url, params={"offset": "10"})
    slow = httpx.AsyncClient.build_request(client, "GET", url, params={"offset": "10"})

    _same(fast, slow)


def test_client_wide_parameters_are_merged_by_httpx() -> None:
    client = CookielessClient(base_url=BASES[0], params={"script": "12"})

    fast = client.build_request("GET", "record/v1/customer", params={"limit": "5"})

    assert fast.url.params == httpx.QueryParams({"script": "12", "limit": "5"})


def test_a_base_url_with_a_query_is_joined_by_httpx() -> None:
    client = CookielessClient(base_url="https://x.test/api/?tenant=1")

    fast = client.build_request("GET", "items")
    slow = httpx.AsyncClient.build_request(client, "GET", "items")

    _same(fast, slow)


def test_a_plain_request_is_built_without_httpx_joining_its_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The point of the override: httpx's own builder (URL re-parsed at each join) is skipped."""
    client = _client(BASES[0])

    def refuse(*_args: Any, **_kwargs: Any) -> httpx.Request:
        raise AssertionError("httpx's build_request was called for a plain request")

    monkeypatch.setattr(httpx.AsyncClient, "build_request", refuse)

    request = client.build_request("GET", "record/v1/customer/eid:A", params={"limit": "1"})

    assert str(request.url) == BASES[0] + "record/v1/customer/eid:A?limit=1"
