"""Emulators once per session (real processes); a throwaway PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.scaleout.fleet import started_together
from tests.integration.sync.harness import Emulators
from tests.support import postgres_db
from tests.support.processes import dealbridge_process


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """Both emulators, started at the same time (``sync.harness`` starts them one by one).

    Every test here that uses them also needs PostgreSQL: without it, skip before spending
    seconds of CPU on two processes.
    """
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("emulators")
    salesforce = ["emulate", "salesforce", "--port", "0", "--deals", "0"]
    netsuite = ["emulate", "netsuite", "--port", "0", "--state-dir", str(state / "ns")]
    managers = [
        dealbridge_process([*salesforce, "--state-dir", str(state / "sf")]),
        dealbridge_process(netsuite),
    ]
    with started_together(managers) as (sf, ns):
        yield Emulators(sf.info, ns.info)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_db.fresh_database("dealbridge_scaleout") as url:
        yield url
