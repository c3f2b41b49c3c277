"""The service's collector tuning: startup objects frozen, young collections less often."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dealbridge.core.collector import OLDER_THRESHOLD, YOUNG_THRESHOLD, tune_for_service


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """Put this test process's collector back as it was."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


class Cycle:
    """An object that refers to itself: only the cycle collector can free it."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.usefixtures("restored_collector")
def test_startup_objects_are_frozen_and_young_collections_are_rarer() -> None:
    kept = [Cycle() for _ in range(10)]
    gc.unfreeze()
    tune_for_service()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
    assert YOUNG_THRESHOLD > 700  # CPython's default, which the tuning exists to raise


@pytest.mark.usefixtures("restored_collector")
def test_garbage_is_collected_before_the_freeze_and_new_cycles_still_are() -> None:
    gc.unfreeze()
    before = Cycle()
    garbage = weakref.ref(before)
    del before
    tune_for_service()
    assert garbage() is None  # collected first, not frozen for the life of the process
    after = Cycle()
    later = weakref.ref(after)
    del after
    gc.collect()
    assert later() is None  # a cycle made after startup is still found
