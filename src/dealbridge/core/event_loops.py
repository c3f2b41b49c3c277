"""The event loops of a service process: uvloop's where it is installed, else asyncio's.

Why: a deal's work is a few dozen exchanges on sockets (Salesforce, NetSuite, the Outbound
Message listener) driven by callbacks of the event loop, and asyncio's own loop runs those
callbacks, timers and socket reads in Python. uvloop runs them in C on libuv: the service's CPU
per deal went down by about a sixth (``bench/overhead.py``, back to back, 2026-11-28).

Why a policy and not one loop: DBOS runs the deal workflows on an event loop of its own, made in
its own thread with ``asyncio.new_event_loop()``; only the policy reaches that loop too. Set
once, before the runtime starts, and for service processes only (``serve``, ``worker``), like
``core.collector``: a library user's or a test's process keeps the loops it chose.

``sync.event_loop = "asyncio"`` keeps asyncio's loops; where uvloop cannot be installed
(Windows) they are asyncio's whatever the setting.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Literal

EventLoopChoice = Literal["uvloop", "asyncio"]


def use_event_loops(choice: EventLoopChoice) -> EventLoopChoice:
    """Make ``choice``'s loops the process's loops; returns the kind now in use."""
    if choice == "asyncio":
        return "asyncio"
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def event_loop_kind() -> EventLoopChoice:
    """The kind of loop the process's policy makes now (``describe`` prints it)."""
    policy = type(asyncio.get_event_loop_policy())
    return "uvloop" if policy.__module__.split(".")[0] == "uvloop" else "asyncio"
