"""Which validation findings an edited payload waives, and which still block."""

from __future__ import annotations

from typing import Any

from dealbridge.core.records import RecordKey
from dealbridge.sync.overrides import blocking, operation_key, waive_overridden

CUSTOMER = RecordKey("customer", "SFACC-1")


def _op(name: str, type_: str, external_id: str, source_id: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "external_id": external_id,
        "source": ["Account", source_id] if source_id else None,
    }


def _finding(record: str, salesforce_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"record": record, "field": "companyName", "salesforce_id": salesforce_id, **extra}


DOCUMENT = {
    "operations": [
        _op("customer", "customer", "SFACC-1", "001A"),
        _op("contact", "contact", "SFCON-1", "003A"),
        _op("contact", "contact", "SFCON-2", "003B"),
    ],
    "violations": [
        _finding("customer", "001A", severity="error"),
        _finding("contact", "003B", severity="error"),
        _finding("deal", None, severity="error"),
        _finding("customer", "001A", severity="warning"),
    ],
}


def test_only_findings_about_the_edited_record_are_waived() -> None:
    result = waive_overridden(DOCUMENT, [CUSTOMER])
    severities = [v["severity"] for v in result["violations"]]
    assert severities == ["waived", "error", "error", "warning"]
    assert result["violations"][0]["waived_for"] == "customer/SFACC-1"
    assert blocking(result["violations"])
    assert DOCUMENT["violations"][0]["severity"] == "error"  # the input is left as it was


def test_a_deal_whose_every_blocking_finding_was_edited_away_is_no_longer_blocked() -> None:
    document = {**DOCUMENT, "violations": DOCUMENT["violations"][:2]}
    result = waive_overridden(document, [CUSTOMER, RecordKey("contact", "SFCON-2")])
    assert not blocking(result["violations"])


def test_a_finding_that_cannot_be_pinned_to_one_record_is_never_waived() -> None:
    operations = DOCUMENT["operations"]
    assert operation_key(_finding("contact"), operations) is None  # two contacts, no source id
    assert operation_key(_finding("deal"), operations) is None
    assert operation_key(_finding("contact", "003A"), operations) == RecordKey("contact", "SFCON-1")


def test_without_edits_the_document_is_unchanged() -> None:
    assert waive_overridden(DOCUMENT, []) is DOCUMENT
