"""Both emulators as real processes (started once, reset before each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.sync.harness import Emulators, running_emulators


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("alerting-emulators")) as started:
        yield started


@pytest.fixture
def org(emulators: Emulators) -> Emulators:
    """A freshly seeded Salesforce org and fresh NetSuite reference data."""
    emulators.reset()
    return emulators
