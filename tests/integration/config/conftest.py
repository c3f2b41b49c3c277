"""Both emulators as real processes, once per session; the checks only read from them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.sync.harness import Emulators, running_emulators


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    with running_emulators(tmp_path_factory.mktemp("emulators")) as started:
        yield started
