"""Recipes of the flawed golden deals: each breaks one rule or hits one stop of the flow.

Each recipe returns a one-line description and a deal graph; ``make_deals`` writes them.
"""

from __future__ import annotations

from tests.golden.deal_recipes import Row, professional_bundle, recipe
from tests.support.cpq_deals import account, contact, deal, line, opportunity, quote, role, sfid


@recipe("13_missing_contact")
def _no_contact() -> tuple[str, Row]:
    text = "No contact role and no quote contact: the 'no contact' violation."
    return text, deal([line(1, "PLAT-STD")], roles=[])


@recipe("14_unknown_product")
def _unknown() -> tuple[str, Row]:
    lines = [*professional_bundle(), line(4, "LEGACY-ADDON")]
    text = "A product (LEGACY-ADDON) with no NetSuite item: a violation naming product and line."
    return text, deal(lines)


@recipe("15_long_account_name")
def _long_name() -> tuple[str, Row]:
    name = (
        "Riverbend Analytics Group International Holdings and Consolidated Subsidiaries for "
        "Research and Development Services Wor"
    )
    assert len(name) == 120
    acct = account(5, name, Website="https://www.riverbend-analytics.example")
    return (
        "A 120-character account name: NetSuite allows 83, and the flow says error, not truncate.",
        deal([line(1, "PLAT-STD")], the_account=acct,
             the_opportunity=opportunity(AccountId=acct["Id"])),
    )  # fmt: skip


@recipe("16_end_before_start")
def _end_before() -> tuple[str, Row]:
    text = "A quote that ends before it starts: the end_before_start check names the quote."
    return text, deal([line(1, "PLAT-STD")], the_quote=quote("2026-06-01", "2026-04-30"))


@recipe("17_amendment")
def _amendment() -> tuple[str, Row]:
    opp = opportunity(Type="Amendment", SBQQ__AmendedContract__c="800000000000042AAA")
    text = "An amendment opportunity: stopped, nothing mapped."
    return text, deal([line(1, "SEAT-STD", quantity=5)], the_opportunity=opp)


@recipe("18_renewal")
def _renewal() -> tuple[str, Row]:
    opp = opportunity(
        Type="Renewal", SBQQ__Renewal__c=True, SBQQ__RenewedContract__c="800000000000007AAA"
    )
    text = "A renewal opportunity: stopped, nothing mapped."
    return text, deal([line(1, "PLAT-STD")], the_opportunity=opp)


@recipe("19_zero_quantity")
def _zero() -> tuple[str, Row]:
    lines = [line(1, "PLAT-STD"), line(2, "SEAT-VIEW", quantity=0.0)]
    text = "A line with quantity 0: 'quantity > 0' fails on that line's price interval."
    return text, deal(lines)


@recipe("20_negative_price")
def _negative() -> tuple[str, Row]:
    bad = line(1, "PLAT-STD", SBQQ__ListPrice__c=-900.0, SBQQ__NetPrice__c=-900.0,
               SBQQ__CustomerPrice__c=-900.0, SBQQ__NetTotal__c=-900.0)  # fmt: skip
    text = "A negative list price: 'price >= 0' fails on the price plan."
    return text, deal([bad])


@recipe("21_bad_email")
def _bad_email() -> tuple[str, Row]:
    person = contact(6, "Dana", "Whitfield", Email="dana.whitfield(at)acme-analytics")
    text = "A primary contact with a malformed email: violations on the contact and the customer."
    return text, deal([line(1, "PLAT-STD")], roles=[role(person, primary=True)])


@recipe("25_one_time_only")
def _one_time_only() -> tuple[str, Row]:
    text = "Only one-time lines: stopped ('one-time-only quotes are not supported yet')."
    return text, deal([line(1, "ONBOARD"), line(2, "TRAINING", quantity=2)])


@recipe("29_usage_line")
def _usage() -> tuple[str, Row]:
    lines = [line(1, "PLAT-STD"), line(2, "API-CALLS", quantity=5000)]
    text = "A usage-priced line: stopped ('usage charges are not supported yet')."
    return text, deal(lines)


@recipe("30_broken_bundle")
def _broken() -> tuple[str, Row]:
    orphan = line(2, "SEAT-STD", quantity=5, SBQQ__RequiredBy__c=sfid("a0v", 99))
    text = "A line whose bundle parent is not on the quote: stopped ('broken_bundle')."
    return text, deal([line(1, "PLAT-STD"), orphan])


@recipe("31_unsupported_term")
def _term() -> tuple[str, Row]:
    text = "An 18-month term: no NetSuite subscription term; the 'term resolves' rule fails."
    lines = [line(1, "PLAT-STD", term=18)]
    return text, deal(lines, the_quote=quote("2026-01-01", "2027-06-30", term=18))
