"""Who may do what in the console and the API (issue 6, DESIGN §8).

What routes use::

    from dealbridge.web.security import Principal, require_role, allow_anonymous

    @router.post("/errors/{error_id}/retry")
    def retry(error_id: int, who: Principal = Depends(require_role("operator"))): ...

Forms carry ``csrf_token`` (``pages.render`` provides it to every template); the CSRF middleware
checks it on every state-changing request. ``accounts`` and ``tokens`` manage users and API
tokens, auditing each change.
"""

from __future__ import annotations

from dealbridge.web.security.csrf import csrf_token
from dealbridge.web.security.roles import (
    ROLE_RANK,
    AuthenticationRequiredError,
    PermissionDeniedError,
    Principal,
    allow_anonymous,
    optional_principal,
    require_role,
)

__all__ = [
    "ROLE_RANK",
    "AuthenticationRequiredError",
    "PermissionDeniedError",
    "Principal",
    "allow_anonymous",
    "csrf_token",
    "optional_principal",
    "require_role",
]
