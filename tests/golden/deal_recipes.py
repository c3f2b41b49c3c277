"""Recipes of the sound golden deals: bundles, currencies, billing frequencies, terms.

Each recipe returns a one-line description and a deal graph; ``make_deals`` writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.cpq_deals import (
    account,
    contact,
    deal,
    line,
    opportunity,
    quote,
    role,
    sfid,
)

Row = dict[str, Any]
Recipe = Callable[[], tuple[str, Row]]
RECIPES: dict[str, Recipe] = {}

GB = {
    "BillingStreet": "12 King Street",
    "BillingCity": "London",
    "BillingState": "England",
    "BillingPostalCode": "EC2 4AB",
    "BillingCountry": "United Kingdom",
    "ShippingStreet": "12 King Street",
    "ShippingCity": "London",
    "ShippingState": "England",
    "ShippingPostalCode": "EC2 4AB",
    "ShippingCountry": "United Kingdom",
    "Phone": "+44 20 7946 0000",
    "Website": "https://www.harbor-logistics.example",
    "CurrencyIsoCode": "GBP",
}
DE = {
    "BillingStreet": "Hauptstraße 12",
    "BillingCity": "Berlin",
    "BillingState": "Berlin",
    "BillingPostalCode": "10115",
    "BillingCountry": "Germany",
    "ShippingStreet": "Lagerweg 3\nHalle 2",
    "ShippingCity": "Hamburg",
    "ShippingState": "Hamburg",
    "ShippingPostalCode": "20095",
    "ShippingCountry": "Germany",
    "Phone": "+49 30 1234567",
    "Website": "https://www.nimbus-robotics.example",
    "CurrencyIsoCode": "EUR",
}
CA = {
    "BillingStreet": "200 Bay Street",
    "BillingCity": "Toronto",
    "BillingState": "ON",
    "BillingPostalCode": "M5J 2J2",
    "BillingCountry": "Canada",
    "ShippingStreet": "200 Bay Street",
    "ShippingCity": "Toronto",
    "ShippingState": "ON",
    "ShippingPostalCode": "M5J 2J2",
    "ShippingCountry": "Canada",
    "Phone": "+1 (416) 555-0100",
    "Website": "https://www.polaris-foods.example",
    "CurrencyIsoCode": "CAD",
}
AU = {
    "BillingStreet": "1 George Street",
    "BillingCity": "Sydney",
    "BillingState": "NSW",
    "BillingPostalCode": "2000",
    "BillingCountry": "Australia",
    "ShippingStreet": None,
    "ShippingCity": None,
    "ShippingState": None,
    "ShippingPostalCode": None,
    "ShippingCountry": None,
    "Phone": "+61 2 9999 0000",
    "Website": "https://www.meridian-outfitters.example",
    "CurrencyIsoCode": "AUD",
}


def recipe(name: str) -> Callable[[Recipe], Recipe]:
    """Register a deal recipe under ``name`` (the file name)."""

    def register(build: Recipe) -> Recipe:
        RECIPES[name] = build
        return build

    return register


def professional_bundle(first: int = 1, **options: Any) -> list[Row]:
    """PLAT-PRO with its required seats and bundled support (lines ``first``…``first+2``)."""
    top = line(first, "PLAT-PRO", **options)
    return [
        top,
        line(first + 1, "SEAT-STD", parent=top, quantity=10, **options),
        line(first + 2, "SUPPORT-STD", parent=top, bundled=True, **options),
    ]


@recipe("01_simple_single_product")
def _simple() -> tuple[str, Row]:
    return "One standalone recurring product billed monthly, in USD.", deal([line(1, "PLAT-STD")])


@recipe("02_bundle")
def _bundle() -> tuple[str, Row]:
    lines = professional_bundle()
    lines.append(line(4, "INTEG-SF", parent=lines[0]))
    text = "A CPQ bundle (PLAT-PRO) with two options and one bundled (free) component."
    return text, deal(lines)


@recipe("03_nested_bundle")
def _nested() -> tuple[str, Row]:
    top = line(1, "PLAT-ENT")
    sandbox = line(6, "SANDBOX", parent=top)
    lines = [
        top,
        line(2, "SEAT-PRM", parent=top, quantity=25),
        line(3, "SUPPORT-PRM", parent=top),
        line(4, "SSO", parent=top, bundled=True),
        line(5, "AUDIT-LOG", parent=top, bundled=True),
        sandbox,
        line(7, "SANDBOX-DEV", parent=sandbox, quantity=2, bundled=True),
    ]
    # CPQ returns lines in any order; the flattened members must follow SBQQ__Number__c.
    scrambled = [lines[6], lines[2], lines[0], lines[5], lines[4], lines[1], lines[3]]
    text = (
        "A nested bundle: PLAT-ENT > SANDBOX > SANDBOX-DEV, lines delivered out of order; the "
        "plan members are flattened depth-first in SBQQ__Number__c order."
    )
    return text, deal(scrambled)


@recipe("04_several_packages")
def _several() -> tuple[str, Row]:
    lines = [
        *professional_bundle(),
        line(4, "SEAT-VIEW", quantity=50),
        line(5, "ANALYTICS"),
    ]
    text = (
        "Three packages on one quote: an annual bundle, a monthly standalone seat and a "
        "quarterly add-on; three billing accounts (one per frequency)."
    )
    return text, deal(lines)


@recipe("05_currency_gbp")
def _gbp() -> tuple[str, Row]:
    lines = professional_bundle(fx=0.79)
    acct = account(2, "Harbor Logistics Ltd", **GB)
    people = [role(contact(2, "Oliver", "Bennett", Email="oliver.bennett@harbor.example"),
                   primary=True)]  # fmt: skip
    text = "A UK account billed in GBP by the UK subsidiary."
    return text, deal(
        lines,
        the_account=acct,
        roles=people,
        the_quote=quote(currency="GBP"),
        the_opportunity=opportunity(AccountId=acct["Id"], CurrencyIsoCode="GBP"),
    )


@recipe("06_currency_eur")
def _eur() -> tuple[str, Row]:
    lines = [line(1, "PLAT-STD", fx=0.92), line(2, "SEAT-VIEW", quantity=20, fx=0.92)]
    acct = account(3, "Nimbus Robotics GmbH", **DE)
    people = [role(contact(3, "Jonas", "Müller", Email="jonas.mueller@nimbus.example"),
                   primary=True)]  # fmt: skip
    text = (
        "A German account in EUR with a different (two-line) shipping address: two "
        "address-book entries."
    )
    return text, deal(
        lines,
        the_account=acct,
        roles=people,
        the_quote=quote(currency="EUR"),
        the_opportunity=opportunity(AccountId=acct["Id"], CurrencyIsoCode="EUR"),
    )


@recipe("07_currency_cad")
def _cad() -> tuple[str, Row]:
    lines = professional_bundle(fx=1.36)
    acct = account(4, "Polaris Foods Inc.", **CA)
    people = [role(contact(4, "Chloé", "Tremblay", Email="chloe.tremblay@polaris.example"),
                   primary=True)]  # fmt: skip
    text = "A Canadian account in CAD: Canada subsidiary, CAD price plans and price book."
    return text, deal(
        lines,
        the_account=acct,
        roles=people,
        the_quote=quote(currency="CAD"),
        the_opportunity=opportunity(AccountId=acct["Id"], CurrencyIsoCode="CAD"),
    )


@recipe("08_discounts")
def _discounts() -> tuple[str, Row]:
    top = line(1, "PLAT-PRO", discount=15.0)
    lines = [
        top,
        line(2, "SEAT-STD", parent=top, quantity=40, discount=20.0),
        line(3, "SUPPORT-STD", parent=top, bundled=True),
        line(4, "INTEG-SF", parent=top, discount=5.0),
    ]
    text = "Discounts of 15, 20 and 5 percent: list prices in price plans, discounts per interval."
    return text, deal(lines)


@recipe("09_one_time_and_recurring")
def _one_time() -> tuple[str, Row]:
    lines = [line(1, "PLAT-STD"), line(2, "ONBOARD"), line(3, "TRAINING", quantity=3)]
    text = (
        "Recurring platform plus two package-less one-time services: they become one-time "
        "add-on lines (type 1, ONETIME) on the platform's subscription."
    )
    return text, deal(lines)


@recipe("10_monthly_two_packages")
def _monthly() -> tuple[str, Row]:
    lines = [line(1, "PLAT-STD"), line(2, "WORKFLOW"), line(3, "AI-ASSIST", discount=10.0)]
    text = "Three monthly standalone products: three plans, one shared monthly billing account."
    return text, deal(lines)


@recipe("11_annual_24_month_term")
def _annual() -> tuple[str, Row]:
    lines = professional_bundle(term=24)
    text = "An annual bundle on a 24-month quote: initial term 24 months, end two years later."
    return text, deal(lines, the_quote=quote("2026-03-01", "2028-02-29", term=24))


@recipe("12_quarterly")
def _quarterly() -> tuple[str, Row]:
    text = "A quarterly standalone add-on: the price plan holds one quarter's price (3/12)."
    return text, deal([line(1, "ANALYTICS", quantity=2)])


@recipe("22_standalone_recurring_addon")
def _addon() -> tuple[str, Row]:
    lines = [*professional_bundle(), line(4, "SUPPORT-247")]
    text = "A bundle plus a standalone recurring add-on: the add-on is a one-member plan."
    return text, deal(lines)


@recipe("23_same_account_deal_a")
def _account_a() -> tuple[str, Row]:
    text = "Deal A of account 7: same customer and billing account keys as deal B."
    acct = account(7, "Summit Energy Corp.", Website="https://www.summit-energy.example")
    return text, deal([line(1, "PLAT-STD")], the_account=acct,
                      the_opportunity=opportunity(7, AccountId=acct["Id"]))  # fmt: skip


@recipe("24_same_account_deal_b")
def _account_b() -> tuple[str, Row]:
    text = (
        "Deal B of account 7, a later quote: the same customer and billing account ids as deal "
        "A; the shared PLAT-STD plan, price book and price plan have identical keys and "
        "payloads (no flip-flop). The billing account's startDate is this deal's start, "
        "create-only: a sync after deal A keeps deal A's start on the shared billing account."
    )
    acct = account(7, "Summit Energy Corp.", Website="https://www.summit-energy.example")
    lines = [line(11, "PLAT-STD"), line(12, "STORAGE-TB", quantity=4)]
    for row in lines:
        row["SBQQ__Quote__c"] = sfid("a0q", 2)
    the_quote = quote("2026-07-01", "2027-06-30", Id=sfid("a0q", 2), Name="Q-00002")
    opp = opportunity(8, AccountId=acct["Id"], SBQQ__PrimaryQuote__c=sfid("a0q", 2))
    return text, deal(lines, the_account=acct, the_quote=the_quote, the_opportunity=opp)


@recipe("26_australia_aud")
def _aud() -> tuple[str, Row]:
    acct = account(9, "Meridian Outfitters Pty Ltd", **AU)
    text = "An Australian account: billed in AUD by the parent subsidiary (no AU subsidiary)."
    opp = opportunity(AccountId=acct["Id"], CurrencyIsoCode="AUD")
    return text, deal(
        [line(1, "PLAT-STD", fx=1.52)],
        the_account=acct,
        the_quote=quote(currency="AUD"),
        the_opportunity=opp,
    )


@recipe("27_bundle_with_one_time_option")
def _bundle_one_time() -> tuple[str, Row]:
    lines = professional_bundle()
    lines.append(line(4, "DATA-MIGR", parent=lines[0]))
    text = "A bundle with a one-time option: the option is a one-time line of its subscription."
    return text, deal(lines)


@recipe("28_quote_contact_only")
def _quote_contact() -> tuple[str, Row]:
    person = contact(8, "Priya", "Natarajan", Email="priya.natarajan@acme-analytics.example")
    text = "No contact role, but the quote has a primary contact: that contact is used."
    return text, deal([line(1, "PLAT-STD")], roles=[], the_quote=quote(primary_contact=person))


@recipe("32_large_30_lines")
def _large() -> tuple[str, Row]:
    """The benchmark deal: 30 lines in several bundles, add-ons and one-time services."""
    ent = line(1, "PLAT-ENT", discount=10.0)
    sandbox = line(7, "SANDBOX", parent=ent)
    lines = [
        ent,
        line(2, "SEAT-PRM", parent=ent, quantity=120, discount=15.0),
        line(3, "SUPPORT-PRM", parent=ent),
        line(4, "SSO", parent=ent, bundled=True),
        line(5, "AUDIT-LOG", parent=ent, bundled=True),
        line(6, "INTEG-SF", parent=ent, discount=5.0),
        sandbox,
        line(8, "SANDBOX-DEV", parent=sandbox, quantity=3, bundled=True),
    ]
    pro = line(9, "PLAT-PRO", discount=5.0)
    lines += [
        pro,
        line(10, "SEAT-STD", parent=pro, quantity=60, discount=5.0),
        line(11, "SUPPORT-STD", parent=pro, bundled=True),
        line(12, "INTEG-SF", parent=pro),
        line(13, "DATA-MIGR", parent=pro),
    ]
    sandbox2 = line(14, "SANDBOX")
    lines += [sandbox2, line(15, "SANDBOX-DEV", parent=sandbox2, quantity=2, bundled=True)]
    addons = ["SEAT-VIEW", "STORAGE-TB", "ANALYTICS", "WORKFLOW", "AI-ASSIST", "SUPPORT-247",
              "PREMIUM-SLA", "HEALTHCHECK", "INTEG-SF", "AUDIT-LOG", "SSO"]  # fmt: skip
    for offset, code in enumerate(addons):
        quantity = 25.0 if code == "SEAT-VIEW" else 1.0
        lines.append(line(16 + offset, code, quantity=quantity, discount=offset % 3 * 5.0))
    lines += [
        line(27, "ONBOARD"),
        line(28, "TRAINING", quantity=4),
        line(29, "HW-GATEWAY", quantity=2),
        line(30, "TRAINING", quantity=1, discount=50.0),
    ]
    assert len(lines) == 30
    people = [
        role(contact(1, "Dana", "Whitfield"), primary=True),
        role(contact(2, "Sam", "Okafor"), "Economic Buyer"),
        role(contact(3, "Lee", "Park"), "Technical Buyer"),
    ]
    text = "30 lines: two bundles (one nested), a standalone bundle, 11 add-ons, 4 one-time lines."
    return text, deal(lines, roles=people, the_quote=quote(term=12))
