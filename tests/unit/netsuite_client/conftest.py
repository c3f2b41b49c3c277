"""Shared fixtures: settings for both auth modes, keys, and a scripted NetSuite on MockTransport."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dealbridge.connectors.netsuite import models
from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter
from dealbridge.core.calls import CallRecord
from dealbridge.settings import NetSuiteSettings

ACCOUNT = "1234567_SB1"
BASE = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
TBA_SECRETS = {
    "consumer_key": "ck-4f1d2e3c5b6a7988",
    "consumer_secret": "cs-9a8b7c6d5e4f3a2b",
    "token_id": "tid-1a2b3c4d5e6f7a8b",
    "token_secret": "ts-8f7e6d5c4b3a2918",
}

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _default_structlog() -> None:
    """Another test may leave structlog writing to a stream pytest has since closed."""
    structlog.reset_defaults()


def pem_of(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def tba_settings(**overrides: Any) -> NetSuiteSettings:
    values: dict[str, Any] = {
        "account": ACCOUNT,
        "auth_mode": "tba",
        **TBA_SECRETS,
        "max_attempts": 6,
        "backoff_base_seconds": 0.5,
        "backoff_max_seconds": 30.0,
    }
    values.update(overrides)
    return NetSuiteSettings(**values)


def oauth2_settings(key: Any, **overrides: Any) -> NetSuiteSettings:
    values: dict[str, Any] = {
        "account": ACCOUNT,
        "auth_mode": "oauth2",
        "client_id": "client-abc",
        "certificate_id": "cert-xyz",
        "private_key": pem_of(key),
    }
    values.update(overrides)
    return NetSuiteSettings(**values)


def problem(
    status: int,
    code: str,
    detail: str = "",
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A NetSuite RFC 7807 answer (contracts §5)."""
    body = models.error_body(status, code, detail or code, path)
    return httpx.Response(status, json=body, headers=headers)


def no_content(record_id: str = "107", record_type: str = "customer") -> httpx.Response:
    return httpx.Response(204, headers={"Location": f"{BASE}/record/v1/{record_type}/{record_id}"})


@dataclass
class FakeNetSuite:
    """Answers API calls from a script (then ``default``) and issues OAuth 2 tokens."""

    script: deque[httpx.Response | Handler] = field(default_factory=deque)
    default: httpx.Response | Handler | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    expires_in: Any = 3600

    def queue(self, *answers: httpx.Response | Handler) -> None:
        self.script.extend(answers)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(models.TOKEN_PATH):
            self.token_requests.append(request)
            token = f"access-token-{len(self.token_requests)}-0123456789"
            return httpx.Response(200, json={"access_token": token, "expires_in": self.expires_in})
        self.requests.append(request)
        answer = self.script.popleft() if self.script else self.default
        if answer is None:
            return no_content()
        if callable(answer):
            result = answer(request)
            return await result if isinstance(result, Awaitable) else result
        return answer


@dataclass
class Harness:
    """A client wired to a fake, with its call records and the sleeps it asked for."""

    client: NetSuiteClient
    fake: FakeNetSuite
    records: list[CallRecord]
    sleeps: list[float]
    limiter: AdaptiveConcurrencyLimiter


def make_harness(
    settings: NetSuiteSettings,
    fake: FakeNetSuite | None = None,
    limiter: AdaptiveConcurrencyLimiter | None = None,
) -> Harness:
    fake = fake or FakeNetSuite()
    records: list[CallRecord] = []
    sleeps: list[float] = []
    limiter = limiter or AdaptiveConcurrencyLimiter(settings.concurrency_limit)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = NetSuiteClient(
        settings,
        transport=fake.transport,
        on_call=records.append,
        limiter=limiter,
        sleep=sleep,
    )
    return Harness(client, fake, records, sleeps, limiter)


def harness_with(*answers: httpx.Response | Handler, **settings: Any) -> Harness:
    """A TBA client whose NetSuite gives ``answers`` in order, then 204s."""
    fake = FakeNetSuite()
    fake.queue(*answers)
    return make_harness(tba_settings(**settings), fake)
