"""Preassigned record ids of the seeded org: key prefix plus a counter, made 18-character.

The seed names every record before anything is stored, so that references between records (even
the Opportunity ↔ primary quote cycle) can be written in one pass and a given seed always yields
the same ids. The counter is zero-padded to fill the 15-character id.
"""

from __future__ import annotations

from collections import Counter

from dealbridge.connectors.salesforce.models import to_id18

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Product2": "01t",
    "SBQQ__Quote__c": "a0q",
    "SBQQ__QuoteLine__c": "a0v",
    "SBQQ__ProductOption__c": "a0p",
}


class SeedIds:
    """Hands out ``<prefix><zero-padded counter>`` ids, one counter per sObject."""

    def __init__(self) -> None:
        self._counters: Counter[str] = Counter()
        # The case-safe suffix depends only on upper-case letters, and the counter is all digits:
        # one suffix per prefix serves every id of that sObject (a hot path at 5,000 deals).
        self._suffixes = {name: to_id18(prefix + "0" * 12)[15:] for name, prefix in
                          KEY_PREFIXES.items()}  # fmt: skip

    def next(self, sobject: str) -> str:
        """The next 18-character id of ``sobject``."""
        self._counters[sobject] += 1
        return f"{KEY_PREFIXES[sobject]}{self._counters[sobject]:012d}{self._suffixes[sobject]}"
