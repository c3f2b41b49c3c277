"""``POST composite``: up to 25 subrequests in order, with references and ``allOrNone`` (§1.6).

The response is always 200 ``{"compositeResponse":[…]}``, one entry per subrequest. With
``allOrNone`` every subrequest runs inside one store transaction: the first failure rolls back
every earlier write, keeps its own error, and every other entry — earlier or not yet run — gets
400 ``PROCESSING_HALTED``. Without it each subrequest stands alone, and one that references a
failed subrequest fails too. The whole request is one API call (counted by the app, not here).

Structural mistakes (no ``compositeRequest``, more than 25 entries, a repeated or malformed
``referenceId``, a subrequest setting Accept/Authorization/Content-Type, which it must inherit)
fail the whole request with 400 before anything runs; their error codes are UNCONFIRMED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from dealbridge.connectors.salesforce.emulator.composite_refs import resolve_body, resolve_url
from dealbridge.connectors.salesforce.emulator.dispatch import (
    UNSET,
    RestCall,
    RestReply,
    router,
)
from dealbridge.connectors.salesforce.emulator.wire import (
    SalesforceApiError,
    bad_input,
    parse_version,
)
from dealbridge.connectors.salesforce.models import COMPOSITE_MAX, DATA_PATH, PROCESSING_HALTED

# §1.6 [R42]
HALTED_MESSAGE = (
    "The transaction was rolled back since another operation in the same transaction failed."
)
_INHERITED_HEADERS = frozenset({"accept", "authorization", "content-type"})  # §1.6
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"})
_REFERENCE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class _Subrequest:
    method: str
    url: str
    reference_id: str
    body: Any
    headers: dict[str, str]


class _Halt(Exception):
    """Unwinds the ``allOrNone`` transaction after a failed subrequest."""


@router.route("POST", r"/composite/?")
def composite(call: RestCall, match: re.Match[str]) -> RestReply:
    """Run the subrequests; 200 with one result each."""
    if call.in_composite:
        raise bad_input("A Composite request cannot contain a Composite request.")
    body = call.json()
    if not isinstance(body, dict):
        raise bad_input("The request body must be a JSON object with compositeRequest.")
    subrequests = _subrequests(body.get("compositeRequest"))
    all_or_none = body.get("allOrNone") is True
    replies = _run_all_or_none(call, subrequests) if all_or_none else _run_each(call, subrequests)
    return RestReply(
        200,
        {
            "compositeResponse": [
                _entry(sub, reply) for sub, reply in zip(subrequests, replies, strict=True)
            ]
        },
    )


def _subrequests(raw: Any) -> list[_Subrequest]:
    if not isinstance(raw, list) or not raw:
        raise bad_input("compositeRequest must be a non-empty list of subrequests.")
    if len(raw) > COMPOSITE_MAX:
        raise bad_input(f"A Composite request may hold at most {COMPOSITE_MAX} subrequests.")
    subs = [_subrequest(item) for item in raw]
    seen: set[str] = set()
    for sub in subs:
        if sub.reference_id in seen:
            raise bad_input(f"Duplicate referenceId provided in the request: {sub.reference_id}")
        seen.add(sub.reference_id)
    return subs


def _subrequest(item: Any) -> _Subrequest:
    if not isinstance(item, dict):
        raise bad_input("Each subrequest must be a JSON object.")
    method = str(item.get("method", "")).upper()
    url = item.get("url")
    reference_id = item.get("referenceId")
    if method not in _METHODS or not isinstance(url, str):
        raise bad_input("Each subrequest needs a method and a url.")
    if not isinstance(reference_id, str) or not _REFERENCE_ID.match(reference_id):
        raise bad_input(
            "Each subrequest needs a referenceId of letters, digits and underscores, "
            "starting with a letter."
        )
    headers = item.get("httpHeaders") or {}
    if not isinstance(headers, dict):
        raise bad_input("httpHeaders must be a JSON object.")
    inherited = sorted(name for name in headers if str(name).lower() in _INHERITED_HEADERS)
    if inherited:
        raise bad_input(
            f"Subrequests inherit {', '.join(inherited)} from the Composite request; "
            "they cannot set them."
        )
    body = item["body"] if "body" in item else UNSET
    return _Subrequest(
        method, url, reference_id, body, {str(k): str(v) for k, v in headers.items()}
    )


def _run_each(call: RestCall, subrequests: list[_Subrequest]) -> list[RestReply]:
    results: dict[str, Any] = {}
    return [_execute(call, sub, results) for sub in subrequests]


def _run_all_or_none(call: RestCall, subrequests: list[_Subrequest]) -> list[RestReply]:
    results: dict[str, Any] = {}
    replies: list[RestReply] = []
    try:
        with call.state.store.transaction():
            for sub in subrequests:
                replies.append(_execute(call, sub, results))
                if replies[-1].status >= 400:
                    raise _Halt
    except _Halt:
        failed = len(replies) - 1
        halted = RestReply(400, [{"errorCode": PROCESSING_HALTED, "message": HALTED_MESSAGE}])
        return [replies[failed] if i == failed else halted for i in range(len(subrequests))]
    return replies


def _execute(call: RestCall, sub: _Subrequest, results: dict[str, Any]) -> RestReply:
    """One subrequest, as a REST call that is neither authenticated nor counted again."""
    try:
        url = resolve_url(sub.url, results)
        body = sub.body if sub.body is UNSET else resolve_body(sub.body, results)
        path, version, params = _split(url)
    except SalesforceApiError as error:
        return RestReply(error.status, error.body())
    subcall = RestCall(
        method=sub.method,
        path=path,
        api_version=version,
        params=params,
        headers={name.lower(): value for name, value in sub.headers.items()},
        state=call.state,
        parsed_body=body,
        in_composite=True,
    )
    reply = router.dispatch(subcall)
    if reply.status < 400:
        results[sub.reference_id] = reply.body
    return reply


def _split(url: str) -> tuple[str, str, dict[str, str]]:
    """``/services/data/v65.0/sobjects/…?a=b`` → path after the version, version, params."""
    parts = urlsplit(url)
    prefix = DATA_PATH + "/"
    if not parts.path.startswith(prefix):
        raise bad_input(f"The subrequest url must start with {prefix}vNN.0/: {url}")
    version_segment, _, rest = parts.path[len(prefix) :].partition("/")
    version = parse_version(version_segment)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    return "/" + unquote(rest), version, params


def _entry(sub: _Subrequest, reply: RestReply) -> dict[str, Any]:
    return {
        "body": reply.body,
        "httpHeaders": dict(reply.headers),
        "httpStatusCode": reply.status,
        "referenceId": sub.reference_id,
    }
