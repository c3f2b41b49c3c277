"""Raw-httpx access to a running Salesforce emulator, for contract tests of its wire format.

No dealbridge client code is used: requests are built here from the emulator's first stdout line
(``emulator/server.py``) so the tests pin the emulator to ``shared/contracts/salesforce.md``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt

from tests.support.processes import dealbridge_process

Info = dict[str, Any]
VERSION = "65.0"
DATA = f"/services/data/v{VERSION}"


class SalesforceOrg:
    """An emulator and a session on it: REST calls, control-API calls, a few shortcuts."""

    def __init__(self, info: Info) -> None:
        self.info = info
        verify: str | bool = info["ca_cert"] or True
        self.rest = httpx.Client(
            base_url=info["instance_url"],
            headers={"Authorization": f"Bearer {info['access_token']}"},
            verify=verify,
            timeout=60,
        )
        self.anonymous = httpx.Client(base_url=info["instance_url"], verify=verify, timeout=60)
        self.control = httpx.Client(base_url=info["control_url"], verify=verify, timeout=60)

    def close(self) -> None:
        """Close the HTTP clients."""
        for client in (self.rest, self.anonymous, self.control):
            client.close()

    # -- REST -----------------------------------------------------------------------------------

    def query(self, soql: str, *, resource: str = "query", **headers: str) -> httpx.Response:
        """``GET …/query?q=`` (or ``queryAll``)."""
        return self.rest.get(f"{DATA}/{resource}", params={"q": soql}, headers=headers)

    def query_all_pages(self, soql: str, **headers: str) -> list[dict[str, Any]]:
        """Every page of a query, following ``nextRecordsUrl``."""
        pages = [self.ok(self.query(soql, **headers))]
        while not pages[-1]["done"]:
            pages.append(self.ok(self.rest.get(pages[-1]["nextRecordsUrl"], headers=headers)))
        return pages

    def create(self, sobject: str, body: dict[str, Any]) -> str:
        """``POST sobjects/T/``; returns the new Id."""
        response = self.rest.post(f"{DATA}/sobjects/{sobject}/", json=body)
        assert response.status_code == 201, response.text
        record_id: str = response.json()["id"]
        return record_id

    def get(self, sobject: str, record_id: str) -> httpx.Response:
        """``GET sobjects/T/{id}``."""
        return self.rest.get(f"{DATA}/sobjects/{sobject}/{record_id}")

    def count(self, soql: str) -> int:
        """``totalSize`` of a query."""
        total: int = self.ok(self.query(soql))["totalSize"]
        return total

    @staticmethod
    def ok(response: httpx.Response) -> Any:
        """The JSON of a 200, or fail with the body."""
        assert response.status_code == 200, response.text
        return response.json()

    # -- control API ----------------------------------------------------------------------------

    def reset(self) -> None:
        """An empty org with start-up settings, and a fresh session for :attr:`rest`."""
        self.ok(self.control.post("/reset"))
        token = self.ok(self.control.post("/tokens"))["access_token"]
        self.rest.headers["Authorization"] = f"Bearer {token}"

    def seed(self, deals: int = 10, seed: int = 1) -> dict[str, Any]:
        """Load the generated org."""
        result: dict[str, Any] = self.ok(
            self.control.post("/seed", json={"seed": seed, "deals": deals})
        )
        return result

    def load(self, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """Load raw rows."""
        result: dict[str, Any] = self.ok(self.control.post("/records", json=rows))
        return result

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Change fault settings."""
        result: dict[str, Any] = self.ok(self.control.put("/faults", json=changes))
        return result

    def dump(self, sobject: str) -> list[dict[str, Any]]:
        """Every stored record of an sObject (deleted ones too)."""
        rows: list[dict[str, Any]] = self.ok(self.control.get(f"/records/{sobject}"))
        return rows


def api_usage(response: httpx.Response) -> int:
    """The used count of ``Sforce-Limit-Info``, parsed as simple-salesforce does (§1.7)."""
    match = re.match(r"[^-]?api-usage=(\d+)/(\d+)", response.headers["sforce-limit-info"])
    assert match is not None, response.headers
    return int(match.group(1))


def jwt_assertion(info: Info, *, key: bytes | None = None, **changes: Any) -> str:
    """A JWT bearer assertion for the emulator's app, as Salesforce's guide builds it (§2).

    ``exp`` is a numeric *string*, as simple-salesforce and Salesforce's own example send it.
    """
    settings = info["jwt"]
    claims: dict[str, Any] = {
        "iss": settings["consumer_key"],
        "sub": settings["username"],
        "aud": "https://login.salesforce.com",
        "exp": str(int(time.time()) + 180),
        **changes,
    }
    signing_key = key or Path(settings["private_key"]).read_bytes()
    return jwt.encode(claims, signing_key, algorithm="RS256")


def token_request(info: Info, form: dict[str, str], **kwargs: Any) -> httpx.Response:
    """``POST /services/oauth2/token`` with a form body."""
    return httpx.post(
        info["jwt"]["token_url"], data=form, verify=info["ca_cert"] or True, timeout=30, **kwargs
    )


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met before the deadline")


@contextmanager
def salesforce_process(state_dir: Path, *options: str) -> Iterator[SalesforceOrg]:
    """Run ``dealbridge emulate salesforce`` on a free port; yield a session on it."""
    args = ["emulate", "salesforce", "--port", "0", "--state-dir", str(state_dir), *options]
    with dealbridge_process(args) as started:
        org = SalesforceOrg(started.info)
        try:
            yield org
        finally:
            org.close()
