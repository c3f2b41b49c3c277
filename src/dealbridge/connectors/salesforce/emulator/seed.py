"""A deterministic, realistic Salesforce CPQ org for the emulator (``--seed``, ``--deals``).

``generate_org(seed, deals, today=…)`` returns plain records keyed by sObject API name, with
canonical field names and JSON-ready values (dates as ``YYYY-MM-DD`` strings, numbers as floats,
counts and terms as ints) and preassigned 18-character ids (``seed_ids``), so the store can load
them as they are. The same (seed, deals, today) always gives the same org; every date is relative
to ``today``.

The org: ~deals/2 accounts in five countries with 1-4 contacts each; the product catalogue with
bundles (one nested) whose codes are the NetSuite item ids (``seed_catalogue``); opportunities
across the sales stages, ~10 % already Closed Won (history for a backfill), most with a primary
quote whose lines are priced as ``seed_quotes`` documents, some with a second, non-primary quote;
and contact roles. A few open deals are deliberately flawed (``flawed`` says which and how) so a
demo can close them and watch validation reject them; ``won_candidates`` are the open, sound,
quoted deals a demo may close.

Opportunity ↔ primary quote reference each other (``SBQQ__PrimaryQuote__c`` /
``SBQQ__Opportunity2__c``): load all records before checking references.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dealbridge.connectors.salesforce.emulator import seed_catalogue as cat
from dealbridge.connectors.salesforce.emulator.seed_ids import SeedIds
from dealbridge.connectors.salesforce.emulator.seed_parties import Party, build_parties
from dealbridge.connectors.salesforce.emulator.seed_quotes import (
    Catalogue,
    QuoteFactory,
    QuoteSpec,
    add_months,
    build_catalogue,
)

Row = dict[str, Any]
_Quote = tuple[Row, list[Row]]  # a quote and its lines

CLOSED_WON = "Closed Won"
CLOSED_LOST = "Closed Lost"
OPEN_STAGES: tuple[tuple[str, int], ...] = (
    ("Prospecting", 15),
    ("Qualification", 15),
    ("Proposal/Price Quote", 25),
    ("Negotiation/Review", 25),
)
NO_CONTACT = "no_contact"
UNKNOWN_PRODUCT = "unknown_product"
END_BEFORE_START = "end_before_start"
LONG_ACCOUNT_NAME = "long_account_name"
FLAWS: tuple[str, ...] = (NO_CONTACT, UNKNOWN_PRODUCT, END_BEFORE_START, LONG_ACCOUNT_NAME)
SOBJECT_ORDER: tuple[str, ...] = (
    "Account",
    "Contact",
    "Product2",
    "SBQQ__ProductOption__c",
    "Opportunity",
    "OpportunityContactRole",
    "SBQQ__Quote__c",
    "SBQQ__QuoteLine__c",
)

_CLOSED_SHARE = 0.10  # of each of Closed Won and Closed Lost
_DEALS_PER_FLAW = 50  # one deal of each flaw per this many deals (at least one from 10 deals)
_QUOTE_CHANCE = {"Prospecting": 0.3, "Qualification": 0.7, CLOSED_LOST: 0.8}
_SECOND_QUOTE = 0.2
_QUOTE_STATUS = {
    CLOSED_WON: "Accepted",
    CLOSED_LOST: "Rejected",
    "Negotiation/Review": "Approved",
    "Proposal/Price Quote": "Presented",
}
_OPEN = frozenset(stage for stage, _ in OPEN_STAGES)


@dataclass
class SeedOrg:
    """The generated org.

    Attributes:
        records: sObject API name → rows, in ``SOBJECT_ORDER``.
        flawed: Opportunity id → reason code (one of ``FLAWS``); all are open deals.
        won_candidates: Open, sound opportunities with a primary quote, ready to be closed.
    """

    records: dict[str, list[Row]]
    flawed: dict[str, str] = field(default_factory=dict)
    won_candidates: list[str] = field(default_factory=list)

    def all_opportunity_ids(self) -> list[str]:
        """Every opportunity id, in creation order."""
        return [row["Id"] for row in self.records["Opportunity"]]


@dataclass(frozen=True)
class _DealPlan:
    """What one opportunity will be, decided before any of its records is built."""

    stage: str
    flaw: str | None
    party: Party
    quoted: bool
    second_quote: bool


def generate_org(seed: int, deals: int, *, today: date) -> SeedOrg:
    """Generate the org for ``seed`` with ``deals`` opportunities, dated around ``today``.

    Raises:
        ValueError: If ``deals`` is negative.
    """
    if deals < 0:
        raise ValueError(f"deals must be >= 0, got {deals}")
    rng = random.Random(seed)
    ids = SeedIds()
    catalogue = build_catalogue(ids)
    stages = _stages(rng, deals)
    flaws = _flaws(rng, stages)
    long_names = sum(reason == LONG_ACCOUNT_NAME for reason in flaws.values())
    parties = build_parties(rng, ids, max(long_names + 1, (deals + 1) // 2), long_names)
    builder = _OrgBuilder(rng, ids, catalogue, today)
    for plan in _plans(rng, stages, flaws, parties):
        builder.add_deal(plan)
    return builder.finish(parties)


def _stages(rng: random.Random, deals: int) -> list[str]:
    """Stage per deal: fixed shares closed (so even small orgs have history), the rest open."""
    closed = round(deals * _CLOSED_SHARE)
    open_count = max(0, deals - 2 * closed)
    names, weights = zip(*OPEN_STAGES, strict=True)
    stages = [CLOSED_WON] * closed + [CLOSED_LOST] * closed
    stages += rng.choices(names, weights, k=open_count)
    rng.shuffle(stages)
    return stages


def _flaws(rng: random.Random, stages: list[str]) -> dict[int, str]:
    """Deal index → flaw, for a few open deals: as many of each flaw, none from under 10 deals."""
    if len(stages) < 10:
        return {}
    per_flaw = max(1, len(stages) // _DEALS_PER_FLAW)
    open_deals = [index for index, stage in enumerate(stages) if stage in _OPEN]
    picks = rng.sample(open_deals, min(len(open_deals), per_flaw * len(FLAWS)))
    return {index: FLAWS[number % len(FLAWS)] for number, index in enumerate(picks)}


def _plans(
    rng: random.Random, stages: list[str], flaws: dict[int, str], parties: list[Party]
) -> list[_DealPlan]:
    """Each deal's account: a long-name deal owns its account, the others share the rest."""
    long_named = iter(parties)
    normal = parties[sum(reason == LONG_ACCOUNT_NAME for reason in flaws.values()) :]
    plans, shared = [], 0
    for index, stage in enumerate(stages):
        flaw = flaws.get(index)
        if flaw == LONG_ACCOUNT_NAME:
            party = next(long_named)
        else:
            party = normal[shared] if shared < len(normal) else rng.choice(normal)
            shared += 1
        quoted = flaw is not None or rng.random() < _QUOTE_CHANCE.get(stage, 1.0)
        second = quoted and rng.random() < _SECOND_QUOTE
        plans.append(_DealPlan(stage, flaw, party, quoted, second))
    return plans


class _OrgBuilder:
    """Accumulates the records of each deal and the demo's lists of flawed and ready deals."""

    def __init__(self, rng: random.Random, ids: SeedIds, catalogue: Catalogue, today: date) -> None:
        self._rng = rng
        self._ids = ids
        self._today = today
        self._quotes = QuoteFactory(rng, ids, catalogue)
        self._records: dict[str, list[Row]] = {name: [] for name in SOBJECT_ORDER}
        self._records["Product2"] = catalogue.products
        self._records["SBQQ__ProductOption__c"] = catalogue.options
        self._org = SeedOrg(self._records)

    def add_deal(self, plan: _DealPlan) -> None:
        """Build the opportunity, its contact roles and quotes."""
        opportunity_id = self._ids.next("Opportunity")
        close = self._close_date(plan.stage)
        roles = [] if plan.flaw == NO_CONTACT else self._roles(opportunity_id, plan.party)
        contact_id = roles[0]["ContactId"] if roles else None
        primary = self._add_quotes(plan, opportunity_id, contact_id, close)
        self._records["Opportunity"].append(self._opportunity(plan, opportunity_id, close, primary))
        self._records["OpportunityContactRole"] += roles
        if plan.flaw:
            self._org.flawed[opportunity_id] = plan.flaw
        elif plan.stage in _OPEN and primary:
            self._org.won_candidates.append(opportunity_id)

    def finish(self, parties: list[Party]) -> SeedOrg:
        """The finished org, accounts and contacts included."""
        self._records["Account"] = [party.account for party in parties]
        self._records["Contact"] = [contact for party in parties for contact in party.contacts]
        return self._org

    def _close_date(self, stage: str) -> date:
        if stage in _OPEN:
            return self._today + timedelta(days=self._rng.randint(7, 150))
        return self._today - timedelta(days=self._rng.randint(3, 330))

    def _roles(self, opportunity_id: str, party: Party) -> list[Row]:
        """One or two contact roles from the account's contacts, the first one primary."""
        count = min(len(party.contacts), self._rng.randint(1, 2))
        contacts = self._rng.sample(party.contacts, count)
        roles = self._rng.sample(cat.CONTACT_ROLES, count)
        return [
            {
                "Id": self._ids.next("OpportunityContactRole"),
                "OpportunityId": opportunity_id,
                "ContactId": contact["Id"],
                "Role": role,
                "IsPrimary": number == 0,
            }
            for number, (contact, role) in enumerate(zip(contacts, roles, strict=True))
        ]

    def _add_quotes(
        self, plan: _DealPlan, opportunity_id: str, contact_id: str | None, close: date
    ) -> _Quote | None:
        """The primary quote (returned) and maybe an alternative; None if the deal has none."""
        if not plan.quoted:
            return None
        spec = QuoteSpec(
            opportunity_id=opportunity_id,
            account_id=plan.party.account_id,
            contact_id=contact_id,
            currency=plan.party.country.currency,
            fx=plan.party.country.fx,
            start=add_months(close.replace(day=1), 1),
            term=self._term(),
            primary=True,
            status=_QUOTE_STATUS.get(plan.stage, "Draft"),
            unknown_product=plan.flaw == UNKNOWN_PRODUCT,
            end_before_start=plan.flaw == END_BEFORE_START,
        )
        primary = self._add_quote(spec)
        if plan.second_quote:
            alternative = QuoteSpec(
                opportunity_id,
                spec.account_id,
                contact_id,
                spec.currency,
                spec.fx,
                spec.start,
                self._term(),
                False,
                "Draft",
            )
            self._add_quote(alternative)
        return primary

    def _add_quote(self, spec: QuoteSpec) -> _Quote:
        quote, lines = self._quotes.build(spec)
        self._records["SBQQ__Quote__c"].append(quote)
        self._records["SBQQ__QuoteLine__c"] += lines
        return quote, lines

    def _term(self) -> int:
        terms = [term for term, _ in cat.TERMS]
        return self._rng.choices(terms, [weight for _, weight in cat.TERMS])[0]

    def _opportunity(
        self, plan: _DealPlan, opportunity_id: str, close: date, primary: _Quote | None
    ) -> Row:
        if primary:
            quote, lines = primary
            label = cat.DEAL_LABELS.get(lines[0]["SBQQ__ProductCode__c"], "Platform")
            amount = quote["SBQQ__NetAmount__c"]
        else:
            label = self._rng.choice(sorted(cat.DEAL_LABELS.values()))
            amount = float(self._rng.randint(10, 300) * 1000)  # a rep's estimate, no quote yet
        short_name = str(plan.party.account["Name"])[:40].rstrip()
        return {
            "Id": opportunity_id,
            "Name": f"{short_name} - {label} {close.year}",
            "AccountId": plan.party.account_id,
            "StageName": plan.stage,
            "CloseDate": close.isoformat(),
            "Amount": amount,
            "CurrencyIsoCode": plan.party.country.currency,
            "IsClosed": plan.stage not in _OPEN,
            "IsWon": plan.stage == CLOSED_WON,
            "SBQQ__PrimaryQuote__c": primary[0]["Id"] if primary else None,
            "SBQQ__Contracted__c": False,
        }
