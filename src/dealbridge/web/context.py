"""What every route of the web app shares: settings, the ledger, the session codec, the hasher.

Why an object on ``app.state`` rather than module globals: two apps in one process (tests, a
demo next to a server) must not share sessions, throttles or databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from dealbridge.db.session import session_scope
from dealbridge.db.timestamps import utc_now
from dealbridge.settings import Settings

if TYPE_CHECKING:  # the security package depends on this module at runtime, not the reverse
    from dealbridge.web.security.passwords import Passwords
    from dealbridge.web.security.sessions import SessionCodec
    from dealbridge.web.security.throttle import FailureCounter


@runtime_checkable
class RuntimeProbe(Protocol):
    """What ``/readyz`` asks of the sync runtime (DBOS launched, workers polling)."""

    def is_ready(self) -> bool:
        """Whether the runtime can take work now."""


@dataclass
class WebContext:
    """The web app's shared services (one per app).

    Attributes:
        settings: All settings.
        ledger: Makes ledger sessions (``ledger_session`` wraps one per request).
        codec: Signs and expires console sessions.
        passwords: The argon2 hasher.
        ip_failures: The per-address login failure counter.
        runtime: The sync runtime, when this process runs one; ``None`` for a web-only node.
            Routes added later reach it here; ``/readyz`` calls its ``is_ready()`` if it has one.
        clock: The current time (aware UTC); tests pass a fake one instead of sleeping.
    """

    settings: Settings
    ledger: sessionmaker[Session]
    codec: SessionCodec
    passwords: Passwords
    ip_failures: FailureCounter
    runtime: Any = None
    clock: Callable[[], datetime] = utc_now


def web_context(request: Request) -> WebContext:
    """The shared services of the app serving ``request``."""
    context = request.app.state.dealbridge
    if not isinstance(context, WebContext):
        raise RuntimeError("the app was not made by create_web_app")  # wiring bug
    return context


def ledger_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one ledger transaction per request, committed if the route succeeds.

    Routes and the auth dependencies share it (FastAPI caches it per request), so an action and
    its audit entry commit together.
    """
    with session_scope(web_context(request).ledger) as session:
        yield session
