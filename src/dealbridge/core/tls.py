"""Telling a certificate that is not trusted apart from a network that is down.

httpx reports both as ``ConnectError``. A refused or reset connection may heal by itself, so it
is retried; a certificate the client does not trust never heals by retrying — it needs a
settings change (a CA bundle) — so it must fail at once as a configuration error instead of
looking like an outage forever.
"""

from __future__ import annotations

import ssl


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate-verification error behind ``exc``, if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
