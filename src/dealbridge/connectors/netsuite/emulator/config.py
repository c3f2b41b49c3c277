"""How an emulator instance is started: the options of ``dealbridge emulate netsuite``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmulatorOptions:
    """Start-up options; everything else is changed at run time through ``/__emulator__/``.

    Attributes:
        host: Interface to listen on.
        port: TCP port; 0 picks a free one.
        account: Account id the emulator plays, e.g. ``1234567_SB1``; the TBA realm must match.
        latency_ms: Added to every governed request, while it holds a concurrency slot.
        jitter: Fraction of ``latency_ms`` drawn uniformly either side (0.2 = ±20 %).
        concurrency_limit: Governed requests in flight above this get 429.
        seed_file: JSON file of records to load after the built-in reference data.
        state_dir: Where the SQLite database, keys and credentials live; a temp dir if None.
    """

    host: str = "127.0.0.1"
    port: int = 0
    account: str = "1234567_SB1"
    latency_ms: float = 0.0
    jitter: float = 0.2
    concurrency_limit: int = 15
    seed_file: Path | None = None
    state_dir: Path | None = None
