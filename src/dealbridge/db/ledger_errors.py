"""What the ledger raises when asked for something it cannot do.

Both are ``DealbridgeError`` so the sync engine, the API and the console handle them like every
other failure; they are bugs or stale requests, never retryable.
"""

from __future__ import annotations

from dealbridge.errors import DealbridgeError


class LedgerError(DealbridgeError):
    """The ledger was used wrongly (unknown status, unsupported database)."""


class NotInLedgerError(LedgerError):
    """The run, error, user or token named does not exist."""


class InvalidTransitionError(LedgerError):
    """The change would break a record's lifecycle, e.g. retrying a resolved error."""
