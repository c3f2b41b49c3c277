"""Start-up options of ``dealbridge emulate salesforce``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SalesforceEmulatorOptions:
    """Start-up options; everything else changes at run time through ``/__emulator__/``.

    Attributes:
        host: Interface to listen on.
        port: TCP port; 0 picks a free one.
        tls: Serve HTTPS with a self-signed CA generated into the state dir.
        latency_ms: Added to every REST request.
        seed: Seed of the deterministic org generator.
        deals: Number of opportunities the generator creates.
        daily_api_limit: The org's daily API allocation (403 REQUEST_LIMIT_EXCEEDED beyond it).
        state_dir: Where the SQLite database, keys and CA live; a temp dir if None.
        time_scale: Outbound Message retry clock speed-up (3600 = one hour passes in a second).
    """

    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = False
    latency_ms: float = 0.0
    seed: int = 1
    deals: int = 50
    daily_api_limit: int = 100_000
    state_dir: Path | None = None
    time_scale: float = 1.0
