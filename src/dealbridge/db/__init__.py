"""The ledger: what dealbridge has done and must remember, in SQLite or PostgreSQL.

One concept per module, each a set of functions over an explicit ``Session`` (no global state):
``runs`` (run history and its figures), ``api_calls`` (each run's calls), ``synced`` (the id map
and payload hashes behind exactly-once), ``open_errors`` (one active error per opportunity),
``watermarks`` (forward-only cursors), ``audit`` (who did what), ``users`` (logins and API
tokens). ``session`` makes engines and sessions, ``migrate`` brings a database to the current
schema (``dealbridge db upgrade``; imported on demand, as Alembic is slow to load), ``models``
declares the tables.

Typical use::

    factory = make_session_factory(engine_for(settings.resolved_database_url()))
    with session_scope(factory) as session:
        run = runs.start_run(session, workflow_id=..., opportunity_id=..., trigger="poller")
"""

from __future__ import annotations

from dealbridge.db.ledger_errors import InvalidTransitionError, LedgerError, NotInLedgerError
from dealbridge.db.session import (
    dispose_engines,
    engine_for,
    make_engine,
    make_session_factory,
    session_scope,
)

__all__ = [
    "InvalidTransitionError",
    "LedgerError",
    "NotInLedgerError",
    "dispose_engines",
    "engine_for",
    "make_engine",
    "make_session_factory",
    "session_scope",
]
