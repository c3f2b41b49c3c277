"""Org-level REST resources: the version's resource list and ``limits`` (§1.1, §5)."""

from __future__ import annotations

import re

from dealbridge.connectors.salesforce.emulator.dispatch import RestCall, RestReply, router

_RESOURCES = ("sobjects", "query", "queryAll", "composite", "limits", "search", "tooling")


@router.route("GET", r"/?")
def resources(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET /services/data/vNN.0/``: the resources of this version."""
    return RestReply(200, {name: call.url(f"/{name}") for name in _RESOURCES})


@router.route("GET", r"/limits/?")
def limits(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET limits``: ``DailyApiRequests{Max,Remaining}`` (§5)."""
    return RestReply(200, call.state.governor.limits_body())
