"""An index over a generated ``SeedOrg`` and an independent detector of its deliberate flaws.

The detector looks at the records only, never at ``SeedOrg.flawed``, so the tests can compare the
two: each flaw must show up exactly where the generator says it put one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dealbridge.connectors.salesforce.emulator.seed import SeedOrg

Row = dict[str, Any]
NETSUITE_NAME_MAX = 83  # DESIGN §4: a customer name NetSuite accepts


@dataclass
class OrgIndex:
    """Rows by id, and the children of each opportunity and quote."""

    org: SeedOrg
    rows: dict[str, tuple[str, Row]] = field(default_factory=dict)
    roles: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    quotes: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    lines: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, org: SeedOrg) -> OrgIndex:
        index = cls(org)
        for sobject, rows in org.records.items():
            for row in rows:
                assert row["Id"] not in index.rows, f"duplicate id {row['Id']}"
                index.rows[row["Id"]] = (sobject, row)
        for role in org.records["OpportunityContactRole"]:
            index.roles[role["OpportunityId"]].append(role)
        for quote in org.records["SBQQ__Quote__c"]:
            index.quotes[quote["SBQQ__Opportunity2__c"]].append(quote)
        for line in org.records["SBQQ__QuoteLine__c"]:
            index.lines[line["SBQQ__Quote__c"]].append(line)
        return index

    def row(self, record_id: str) -> Row:
        return self.rows[record_id][1]

    def primary_quote(self, opportunity: Row) -> Row | None:
        quote_id = opportunity["SBQQ__PrimaryQuote__c"]
        return self.row(quote_id) if quote_id else None

    def flaws_of(self, opportunity: Row, known_codes: frozenset[str]) -> set[str]:
        """The flaws an opportunity's records show; ``known_codes`` are the mappable products."""
        found: set[str] = set()
        quote = self.primary_quote(opportunity)
        roles = self.roles[opportunity["Id"]]
        if not roles or (quote is not None and quote["SBQQ__PrimaryContact__c"] is None):
            found.add("no_contact")
        if quote is not None:
            codes = {line["SBQQ__ProductCode__c"] for line in self.lines[quote["Id"]]}
            if codes - known_codes:
                found.add("unknown_product")
            start, end = quote["SBQQ__StartDate__c"], quote["SBQQ__EndDate__c"]
            if date.fromisoformat(end) < date.fromisoformat(start):
                found.add("end_before_start")
        if len(self.row(opportunity["AccountId"])["Name"]) > NETSUITE_NAME_MAX:
            found.add("long_account_name")
        return found

    def sound_product_codes(self) -> set[str]:
        """Every product code on any quote of an opportunity the generator calls sound."""
        codes: set[str] = set()
        for opportunity in self.org.records["Opportunity"]:
            if opportunity["Id"] in self.org.flawed:
                continue
            for quote in self.quotes[opportunity["Id"]]:
                codes |= {line["SBQQ__ProductCode__c"] for line in self.lines[quote["Id"]]}
        return codes
