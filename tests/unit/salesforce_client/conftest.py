"""Shared fixtures: settings for both OAuth flows, an RSA key, and a scripted Salesforce."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.core.calls import CallRecord
from dealbridge.settings import SalesforceSettings

LOGIN = "https://login.example.test"
INSTANCE = "https://acme.my.salesforce.com"
DATA = "/services/data/v65.0"
CONSUMER_KEY = "3MVG9-consumer-key-0123456789"
CLIENT_SECRET = "client-secret-9f8e7d6c5b4a"
OPP_ID = "0065w000023STAmAAO"
ACC_ID = "0015w00002ABCDEAA2"
QUOTE_ID = "a0q5w00000Q1234AAA"

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _default_structlog() -> None:
    """Another test may leave structlog writing to a stream pytest has since closed."""
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: Any) -> str:
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def jwt_settings(key: Any, **overrides: Any) -> SalesforceSettings:
    values: dict[str, Any] = {
        "login_url": LOGIN,
        "auth_mode": "jwt",
        "consumer_key": CONSUMER_KEY,
        "username": "integration@acme.example",
        "private_key": pem_of(key),
        "max_attempts": 4,
        "backoff_base_seconds": 0.5,
        "backoff_max_seconds": 30.0,
    }
    values.update(overrides)
    return SalesforceSettings(**values)


def cc_settings(**overrides: Any) -> SalesforceSettings:
    values: dict[str, Any] = {
        "login_url": "https://acme.my.salesforce.com",
        "auth_mode": "client_credentials",
        "client_id": "cc-client-id-0123",
        "client_secret": CLIENT_SECRET,
    }
    values.update(overrides)
    return SalesforceSettings(**values)


def sf_error(
    status: int, code: str, message: str = "", fields: list[str] | None = None
) -> httpx.Response:
    """A REST error: always a JSON array (contracts §1.8)."""
    return httpx.Response(status, json=models.error_array(code, message or code, fields))


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def page(
    records: list[dict[str, Any]], next_url: str | None = None, total: int | None = None
) -> httpx.Response:
    body: dict[str, Any] = {
        "totalSize": total if total is not None else len(records),
        "done": next_url is None,
        "records": records,
    }
    if next_url:
        body["nextRecordsUrl"] = next_url
    return httpx.Response(200, json=body)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@dataclass
class FakeSalesforce:
    """Answers REST calls from a script (then ``default``) and issues tokens."""

    script: deque[httpx.Response | Handler] = field(default_factory=deque)
    default: httpx.Response | Handler | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    token_answer: httpx.Response | None = None
    token_script: deque[httpx.Response] = field(default_factory=deque)
    limit_info: str | None = "api-usage=18/5000"

    def queue(self, *answers: httpx.Response | Handler) -> None:
        self.script.extend(answers)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def token_value(self, number: int) -> str:
        return f"00D5w000004qGTO!AR-token-{number}-abcdef"

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == models.TOKEN_PATH:
            self.token_requests.append(request)
            if self.token_script:
                return self.token_script.popleft()
            if self.token_answer is not None:
                return self.token_answer
            body = {
                "access_token": self.token_value(len(self.token_requests)),
                "instance_url": INSTANCE,
                "token_type": "Bearer",
            }
            return httpx.Response(200, json=body)
        self.requests.append(request)
        answer = self.script.popleft() if self.script else self.default
        if answer is None:
            answer = httpx.Response(204)
        if callable(answer):
            result = answer(request)
            answer = await result if isinstance(result, Awaitable) else result
        if self.limit_info and models.LIMIT_INFO_HEADER not in answer.headers:
            answer.headers[models.LIMIT_INFO_HEADER] = self.limit_info
        return answer


@dataclass
class Harness:
    """A client wired to a fake, with its call records and the sleeps it asked for."""

    client: SalesforceClient
    fake: FakeSalesforce
    records: list[CallRecord]
    sleeps: list[float]


def make_harness(settings: SalesforceSettings, fake: FakeSalesforce | None = None) -> Harness:
    fake = fake or FakeSalesforce()
    records: list[CallRecord] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = SalesforceClient(
        settings, transport=fake.transport, on_call=records.append, sleep=sleep
    )
    return Harness(client, fake, records, sleeps)


@pytest.fixture
def harness(rsa_key: rsa.RSAPrivateKey) -> Harness:
    """A JWT-bearer client whose Salesforce answers from ``harness.fake``'s script."""
    return make_harness(jwt_settings(rsa_key))
