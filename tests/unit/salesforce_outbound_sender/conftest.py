"""Fixtures of the sender tests: an org, a hand-driven clock, a listener, a sender wired to them."""

from __future__ import annotations

import pytest

from dealbridge.connectors.salesforce.emulator.outbound_sender import OutboundSender
from tests.unit.salesforce_outbound_sender.sender_support import (
    URL,
    FakeClock,
    Listener,
    Org,
    make_sender,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def org() -> Org:
    return Org()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def sender(org: Org, listener: Listener, clock: FakeClock) -> OutboundSender:
    sender = make_sender(org, listener, clock)
    sender.register_endpoint({"url": URL})
    return sender
