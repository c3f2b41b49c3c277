"""Emulators once per session (real processes); a throwaway PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.sync.harness import Emulators, running_emulators
from tests.support import postgres_db


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("emulators")) as started:
        yield started


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reason = postgres_db.unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_db.fresh_database("dealbridge_scaleout") as url:
        yield url
