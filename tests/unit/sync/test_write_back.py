"""The write-back composite: what is written, and the stamp read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dealbridge.connectors.salesforce.results import SubResponse
from dealbridge.errors import UnexpectedResponseError
from dealbridge.sync.write_back import FAILED, SYNCED, WriteBack, stamp_of, subrequests

AT = datetime(2025, 5, 1, 10, 0, 0, 250_000, tzinfo=UTC)
OPPORTUNITY = "006000000000001AAA"
ACCOUNT = "001000000000001AAA"


def test_success_writes_ids_status_and_time_then_reads_the_stamp() -> None:
    write = WriteBack(OPPORTUNITY, ACCOUNT, SYNCED, ["11", "12"], customer_id="7")
    requests = subrequests(write, AT)
    assert [(r.method, r.url, r.reference_id) for r in requests] == [
        ("PATCH", f"sobjects/Opportunity/{OPPORTUNITY}", "opportunity"),
        ("PATCH", f"sobjects/Account/{ACCOUNT}", "account"),
        ("GET", f"sobjects/Opportunity/{OPPORTUNITY}?fields=SystemModstamp", "stamp"),
    ]
    assert requests[0].body == {
        "NetSuite_Subscription_Ids__c": "11,12",
        "NetSuite_Sync_Status__c": "Synced",
        "NetSuite_Sync_Error__c": None,
        "NetSuite_Synced_At__c": "2025-05-01T10:00:00.250Z",
    }
    assert requests[1].body == {"NetSuite_Customer_Id__c": "7"}


def test_failure_writes_status_and_reason_only() -> None:
    write = WriteBack(OPPORTUNITY, ACCOUNT, FAILED, error="Product 'X' has no NetSuite item.")
    requests = subrequests(write, AT)
    assert [r.reference_id for r in requests] == ["opportunity", "stamp"]
    assert requests[0].body == {
        "NetSuite_Sync_Status__c": "Failed",
        "NetSuite_Sync_Error__c": "Product 'X' has no NetSuite item.",
    }


def test_the_stamp_is_normalised() -> None:
    results = [
        SubResponse("opportunity", 204, None),
        SubResponse("stamp", 200, {"SystemModstamp": "2025-05-01T10:00:01.000+0000"}),
    ]
    assert stamp_of(results) == "2025-05-01T10:00:01.000Z"


def test_a_missing_stamp_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError, match="SystemModstamp"):
        stamp_of([SubResponse("stamp", 200, {})])
