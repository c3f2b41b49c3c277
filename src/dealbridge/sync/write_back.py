"""The write-back: NetSuite ids and the sync status onto the opportunity and its account.

One Salesforce composite call (contracts/salesforce.md §1.6) with ``allOrNone``: PATCH the
opportunity's ``NetSuite_*`` fields, PATCH the account's ``NetSuite_Customer_Id__c`` (after a
success), then GET the opportunity's ``SystemModstamp``. Why the GET, inside the same call: our
own PATCH bumps ``SystemModstamp``, and the poller (and this engine) must recognise that stamp as
our echo rather than a change of the deal, or every sync would set off another one. The stamp read
right after the PATCH, in the same transaction, is exactly the one our write produced; the engine
keeps it in the ledger (``Ledger.remember_write_back``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dealbridge.connectors.salesforce.results import SubRequest, SubResponse
from dealbridge.errors import UnexpectedResponseError
from dealbridge.sync.stamps import salesforce_instant

SYNCED = "Synced"
FAILED = "Failed"
STAMP_REFERENCE = "stamp"


@dataclass(frozen=True)
class WriteBack:
    """What to write onto one opportunity (and its account).

    Attributes:
        opportunity_id: The opportunity.
        account_id: Its account; ``customer_id`` goes there.
        status: ``Synced`` or ``Failed``.
        subscription_ids: NetSuite internal ids of the deal's subscriptions (success only).
        customer_id: NetSuite internal id of the customer (success only).
        error: The user's sentence (failure only), at most 32,000 characters.
    """

    opportunity_id: str
    account_id: str | None
    status: str
    subscription_ids: list[str] = field(default_factory=list)
    customer_id: str | None = None
    error: str | None = None


def opportunity_fields(write: WriteBack, synced_at: datetime) -> dict[str, Any]:
    """The opportunity's ``NetSuite_*`` fields for this outcome."""
    if write.status != SYNCED:
        return {"NetSuite_Sync_Status__c": FAILED, "NetSuite_Sync_Error__c": write.error}
    return {
        "NetSuite_Subscription_Ids__c": ",".join(write.subscription_ids) or None,
        "NetSuite_Sync_Status__c": SYNCED,
        "NetSuite_Sync_Error__c": None,
        "NetSuite_Synced_At__c": salesforce_instant(synced_at),
    }


def subrequests(write: WriteBack, synced_at: datetime) -> list[SubRequest]:
    """The composite's subrequests: PATCH opportunity, [PATCH account,] GET the stamp."""
    opportunity = f"sobjects/Opportunity/{write.opportunity_id}"
    requests = [
        SubRequest("PATCH", opportunity, "opportunity", opportunity_fields(write, synced_at))
    ]
    if write.status == SYNCED and write.customer_id and write.account_id:
        body = {"NetSuite_Customer_Id__c": write.customer_id}
        requests.append(
            SubRequest("PATCH", f"sobjects/Account/{write.account_id}", "account", body)
        )
    requests.append(SubRequest("GET", f"{opportunity}?fields=SystemModstamp", STAMP_REFERENCE))
    return requests


def stamp_of(results: list[SubResponse]) -> str:
    """The ``SystemModstamp`` the GET subrequest read, normalised.

    Raises:
        UnexpectedResponseError: The GET's answer has no stamp.
    """
    answer = next((r for r in results if r.reference_id == STAMP_REFERENCE), None)
    body = answer.body if answer is not None else None
    stamp = body.get("SystemModstamp") if isinstance(body, dict) else None
    if not isinstance(stamp, str):
        raise UnexpectedResponseError(
            "Salesforce answered the write-back without the opportunity's SystemModstamp",
            system="salesforce",
            operation="POST composite stamp",
        )
    return salesforce_instant(stamp)
