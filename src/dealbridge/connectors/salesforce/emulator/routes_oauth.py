"""``POST /services/oauth2/token``: the HTTP face of :class:`~.auth.TokenIssuer` (contracts §2).

Outside the REST API: no session, no API-call count, no ``Sforce-Limit-Info``, and OAuth's own
error shape (an object, not an array). The body is read as a form whatever the Content-Type
says, as simple-salesforce posts a dict that ``requests`` form-encodes.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from dealbridge.connectors.salesforce.emulator.auth import OAuthError
from dealbridge.connectors.salesforce.emulator.state import SalesforceEmulatorState, state_of
from dealbridge.connectors.salesforce.models import TOKEN_PATH

router = APIRouter()
State = Annotated[SalesforceEmulatorState, Depends(state_of)]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1
_MAX_FORM_BYTES = 64 * 1024


@router.post(TOKEN_PATH)
async def issue_token(request: Request, state: State) -> JSONResponse:
    """Grant a session for a JWT assertion or client credentials."""
    state.governor.stats.token_requests += 1
    raw = await request.body()
    try:
        if len(raw) > _MAX_FORM_BYTES:
            raise OAuthError("invalid_request", "request too large", "body size")
        form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
        body = state.issuer.grant(form, request.headers.get("authorization", ""))
    except OAuthError as refusal:
        state.governor.stats.auth_failures[refusal.reason] += 1
        return JSONResponse(refusal.body(), status_code=refusal.status, headers=_NO_STORE)
    return JSONResponse(body, headers=_NO_STORE)
