"""A service process runs on uvloop's loops unless told otherwise or uvloop is missing."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator

import pytest

from dealbridge.core.event_loops import event_loop_kind, use_event_loops


@pytest.fixture(autouse=True)
def _restore_policy() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


def test_uvloop_loops_are_made_everywhere_once_chosen() -> None:
    assert use_event_loops("uvloop") == "uvloop"
    assert event_loop_kind() == "uvloop"
    made: list[str] = []

    def in_a_thread() -> None:  # as DBOS makes the loop its workflows run on
        loop = asyncio.new_event_loop()
        made.append(type(loop).__module__)
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert made == ["uvloop"]


def test_asyncio_keeps_the_standard_loops() -> None:
    assert use_event_loops("asyncio") == "asyncio"
    assert event_loop_kind() == "asyncio"
    loop = asyncio.new_event_loop()
    try:
        assert isinstance(loop, asyncio.BaseEventLoop)
    finally:
        loop.close()


def test_without_uvloop_the_standard_loops_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows: the import fails
    assert use_event_loops("uvloop") == "asyncio"
    assert event_loop_kind() == "asyncio"
