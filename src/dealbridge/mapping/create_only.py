"""What an upsert sends to a record NetSuite already holds: the payload without create-only fields.

Why: some records are shared by several deals — the customer and the billing account belong to
the Salesforce account, not to one opportunity — yet a few of their values come from whichever
deal creates them (the billing account's ``startDate``, the customer's billing ``email``). Sent on
every sync, each deal of the account would overwrite the values another deal set. A field marked
``create_only`` in the flow is therefore sent when the record is created and left out of every
later write; PUT and PATCH leave unsent fields as they are (contracts/netsuite.md §2).

Who knows whether a record exists decides which body to send: the sync engine asks its ledger
(a record with a NetSuite internal id was written before), the preview asks NetSuite. The ledger's
payload hash is always taken of the update body (``update_view``), whether the record was created
or updated, so a deal synced again — or another deal of the account that differs only in
create-only values — finds its record unchanged and writes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dealbridge.core.records import Operation


def update_view(operation: Operation) -> Operation:
    """``operation`` without its create-only fields: what to send to an existing record.

    A dotted name (``addressBookAddress.city``) removes a field of a subrecord, and the subrecord
    too when nothing else is left in it. A removed sublist also leaves ``replace``: replacing a
    sublist the body does not carry would empty it. Without create-only fields, or none present
    in the payload, the operation itself is returned.
    """
    if not operation.create_only:
        return operation
    payload = operation.payload
    removed: list[str] = []
    for name in operation.create_only:
        stripped = _without(payload, name.split("."))
        if stripped is not payload:
            payload = stripped
            removed.append(name)
    if not removed:
        return operation
    replace = tuple(name for name in operation.replace if name not in removed)
    return dataclasses.replace(operation, payload=payload, replace=replace)


def _without(payload: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """A copy of ``payload`` without the field at ``path``, or ``payload`` itself if absent."""
    head, rest = path[0], path[1:]
    if head not in payload:
        return payload
    if not rest:
        return {key: value for key, value in payload.items() if key != head}
    inner = payload[head]
    if not isinstance(inner, dict):
        return payload
    stripped = _without(inner, rest)
    if stripped is inner:
        return payload
    copy = dict(payload)
    if stripped:
        copy[head] = stripped
    else:
        del copy[head]
    return copy
