"""``@{referenceId.path}`` references between Composite subrequests (contracts §1.6).

A subrequest may use an earlier one's result in its URL or body: ``@{NewAccount.id}``,
``@{q1.records[0].Id}``, ``@{opp.records[0].SBQQ__PrimaryQuote__c}``. A body string that is
exactly one reference takes the referenced value as it is (a number stays a number); a reference
inside a longer string, or in the URL, is replaced by its text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError
from dealbridge.connectors.salesforce.models import PROCESSING_HALTED

_REFERENCE = re.compile(r"@\{(?P<ref>[A-Za-z0-9_]+)(?P<path>(?:\.[A-Za-z0-9_]+|\[\d+\])+)\}")
_STEP = re.compile(r"\.(?P<key>[A-Za-z0-9_]+)|\[(?P<index>\d+)\]")

Results = Mapping[str, Any]


def resolve_url(url: str, results: Results) -> str:
    """``url`` with every reference replaced by its URL-encoded text."""
    return _REFERENCE.sub(lambda m: quote(_text(_lookup(m, results)), safe=""), url)


def resolve_body(body: Any, results: Results) -> Any:
    """``body`` (any JSON value) with every reference in its strings resolved."""
    if isinstance(body, str):
        whole = _REFERENCE.fullmatch(body)
        if whole is not None:
            return _lookup(whole, results)
        return _REFERENCE.sub(lambda m: _text(_lookup(m, results)), body)
    if isinstance(body, list):
        return [resolve_body(item, results) for item in body]
    if isinstance(body, dict):
        return {key: resolve_body(value, results) for key, value in body.items()}
    return body


def _lookup(match: re.Match[str], results: Results) -> Any:
    ref = match.group("ref")
    if ref not in results:
        raise _invalid(match, f"Provided referenceId ('{ref}') was not found or did not succeed.")
    value: Any = results[ref]
    for step in _STEP.finditer(match.group("path")):
        value = _step(value, step)
        if value is _MISSING:
            raise _invalid(match, f"No value for {match.group(0)[2:-1]} found in {ref}.")
    return value


_MISSING = object()


def _step(value: Any, step: re.Match[str]) -> Any:
    key, index = step.group("key"), step.group("index")
    if key is not None:
        return value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
    position = int(index)
    return value[position] if isinstance(value, list) and position < len(value) else _MISSING


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _invalid(match: re.Match[str], detail: str) -> SalesforceApiError:
    # Salesforce answers an unresolvable reference with 400 PROCESSING_HALTED; the wording is
    # UNCONFIRMED beyond its "Invalid reference specified." opening.
    return SalesforceApiError(
        400, PROCESSING_HALTED, f"Invalid reference specified. {detail} ({match.group(0)})"
    )
