"""The seeded CPQ org: deterministic, referentially whole, consistently priced, flawed on cue."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealbridge.connectors.salesforce.emulator.seed import (
    CLOSED_WON,
    FLAWS,
    SOBJECT_ORDER,
    SeedOrg,
    generate_org,
)
from dealbridge.connectors.salesforce.emulator.seed_catalogue import UNKNOWN_PRODUCT_CODE
from dealbridge.connectors.salesforce.emulator.seed_ids import KEY_PREFIXES
from dealbridge.connectors.salesforce.emulator.seed_quotes import add_months
from dealbridge.connectors.salesforce.models import to_id18
from tests.unit.salesforce_seed.org_index import OrgIndex

TODAY = date(2026, 3, 15)
CENT = Decimal("0.01")
OPEN = {"Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"}
CURRENCY = {"United States": "USD", "United Kingdom": "GBP", "Germany": "EUR", "Canada": "CAD",
            "Australia": "AUD"}  # fmt: skip
# field -> the sObject it must point at, per sObject
REFERENCES: dict[str, dict[str, str]] = {
    "Contact": {"AccountId": "Account"},
    "Opportunity": {"AccountId": "Account", "SBQQ__PrimaryQuote__c": "SBQQ__Quote__c"},
    "OpportunityContactRole": {"OpportunityId": "Opportunity", "ContactId": "Contact"},
    "SBQQ__ProductOption__c": {"SBQQ__ConfiguredSKU__c": "Product2",
                               "SBQQ__OptionalSKU__c": "Product2"},
    "SBQQ__Quote__c": {"SBQQ__Opportunity2__c": "Opportunity", "SBQQ__Account__c": "Account",
                       "SBQQ__PrimaryContact__c": "Contact"},
    "SBQQ__QuoteLine__c": {"SBQQ__Quote__c": "SBQQ__Quote__c", "SBQQ__Product__c": "Product2",
                           "SBQQ__RequiredBy__c": "SBQQ__QuoteLine__c",
                           "SBQQ__ProductOption__c": "SBQQ__ProductOption__c"},
}  # fmt: skip


@pytest.fixture(scope="module")
def org() -> SeedOrg:
    return generate_org(7, 400, today=TODAY)


@pytest.fixture(scope="module")
def index(org: SeedOrg) -> OrgIndex:
    return OrgIndex.of(org)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def test_same_inputs_give_the_same_org_and_other_inputs_another() -> None:
    first = generate_org(3, 60, today=TODAY)
    assert first == generate_org(3, 60, today=TODAY)
    assert first.records != generate_org(4, 60, today=TODAY).records
    later = generate_org(3, 60, today=TODAY + timedelta(days=10))
    shifted = [
        (a["CloseDate"], b["CloseDate"])
        for a, b in zip(first.records["Opportunity"], later.records["Opportunity"], strict=True)
    ]
    assert all(date.fromisoformat(b) - date.fromisoformat(a) == timedelta(days=10)
               for a, b in shifted)  # fmt: skip


def test_records_come_in_load_order_with_every_sobject(org: SeedOrg) -> None:
    assert tuple(org.records) == SOBJECT_ORDER
    assert all(org.records[name] for name in SOBJECT_ORDER)
    assert org.all_opportunity_ids() == [row["Id"] for row in org.records["Opportunity"]]


def test_ids_are_case_safe_18_characters_with_the_right_prefix(index: OrgIndex) -> None:
    for record_id, (sobject, _) in index.rows.items():
        assert len(record_id) == 18
        assert record_id.startswith(KEY_PREFIXES[sobject])
        assert to_id18(record_id[:15]) == record_id


def test_every_reference_resolves_to_a_record_of_the_right_type(index: OrgIndex) -> None:
    for sobject, fields in REFERENCES.items():
        for row in index.org.records[sobject]:
            for field, target in fields.items():
                if row[field] is not None:
                    assert index.rows[row[field]][0] == target, (sobject, field, row["Id"])


def test_quotes_belong_to_their_opportunity_and_account(index: OrgIndex) -> None:
    for opportunity in index.org.records["Opportunity"]:
        quotes = index.quotes[opportunity["Id"]]
        primaries = [quote for quote in quotes if quote["SBQQ__Primary__c"]]
        assert len(primaries) == (1 if opportunity["SBQQ__PrimaryQuote__c"] else 0)
        if primaries:
            assert primaries[0]["Id"] == opportunity["SBQQ__PrimaryQuote__c"]
        for quote in quotes:
            assert quote["SBQQ__Account__c"] == opportunity["AccountId"]
            assert quote["CurrencyIsoCode"] == opportunity["CurrencyIsoCode"]
            assert index.lines[quote["Id"]], "a quote without lines"


def test_bundle_children_hang_off_a_parent_on_the_same_quote(index: OrgIndex) -> None:
    for quote_id, lines in index.lines.items():
        numbers = [line["SBQQ__Number__c"] for line in lines]
        assert numbers == list(range(1, len(lines) + 1))
        position = {line["Id"]: line["SBQQ__Number__c"] for line in lines}
        for line in lines:
            parent_id = line["SBQQ__RequiredBy__c"]
            if parent_id is None:
                assert line["SBQQ__ProductOption__c"] is None
                continue
            parent, option = index.row(parent_id), index.row(line["SBQQ__ProductOption__c"])
            assert parent["SBQQ__Quote__c"] == quote_id
            assert parent["SBQQ__Bundle__c"] is True
            assert position[parent_id] < line["SBQQ__Number__c"]
            assert option["SBQQ__ConfiguredSKU__c"] == parent["SBQQ__Product__c"]
            assert option["SBQQ__OptionalSKU__c"] == line["SBQQ__Product__c"]
            assert line["SBQQ__Bundled__c"] is option["SBQQ__Bundled__c"]


def test_lines_copy_their_product(index: OrgIndex) -> None:
    for line in index.org.records["SBQQ__QuoteLine__c"]:
        product = index.row(line["SBQQ__Product__c"])
        assert line["SBQQ__ProductCode__c"] == product["ProductCode"]
        assert line["SBQQ__ProductName__c"] == product["Name"]
        assert line["SBQQ__ChargeType__c"] == product["SBQQ__ChargeType__c"]
        assert line["SBQQ__BillingFrequency__c"] == product["SBQQ__BillingFrequency__c"]


def test_line_prices_follow_the_documented_arithmetic(index: OrgIndex) -> None:
    for line in index.org.records["SBQQ__QuoteLine__c"]:
        quote = index.row(line["SBQQ__Quote__c"])
        recurring = line["SBQQ__ChargeType__c"] == "Recurring"
        multiplier = dec(quote["SBQQ__SubscriptionTerm__c"]) / 12 if recurring else Decimal(1)
        net = money(dec(line["SBQQ__ListPrice__c"]) * (100 - dec(line["SBQQ__Discount__c"])) / 100)
        assert line["SBQQ__Discount__c"] in {0.0, 5.0, 10.0, 15.0, 20.0}
        assert dec(line["SBQQ__NetPrice__c"]) == net
        assert dec(line["SBQQ__ProrateMultiplier__c"]) == multiplier
        assert dec(line["SBQQ__NetTotal__c"]) == money(net * dec(line["SBQQ__Quantity__c"])
                                                       * multiplier)  # fmt: skip
        if line["SBQQ__Bundled__c"]:
            assert line["SBQQ__NetTotal__c"] == 0.0


def test_quote_and_opportunity_amounts_are_the_sums_of_the_lines(index: OrgIndex) -> None:
    for quote in index.org.records["SBQQ__Quote__c"]:
        lines = index.lines[quote["Id"]]
        assert dec(quote["SBQQ__NetAmount__c"]) == sum(dec(ln["SBQQ__NetTotal__c"]) for ln in lines)
        assert quote["SBQQ__LineItemCount__c"] == len(lines)
    for opportunity in index.org.records["Opportunity"]:
        primary = index.primary_quote(opportunity)
        if primary is not None:
            assert opportunity["Amount"] == primary["SBQQ__NetAmount__c"]


def test_sound_quotes_run_term_months_less_a_day(index: OrgIndex) -> None:
    for quote in index.org.records["SBQQ__Quote__c"]:
        if index.org.flawed.get(quote["SBQQ__Opportunity2__c"]) == "end_before_start":
            continue
        start = date.fromisoformat(quote["SBQQ__StartDate__c"])
        expected = add_months(start, quote["SBQQ__SubscriptionTerm__c"]) - timedelta(days=1)
        assert quote["SBQQ__EndDate__c"] == expected.isoformat()
        assert quote["SBQQ__SubscriptionTerm__c"] in {12, 24, 36}


def test_close_dates_and_stages_agree_with_today(org: SeedOrg) -> None:
    stages = Counter(row["StageName"] for row in org.records["Opportunity"])
    assert stages[CLOSED_WON] == stages["Closed Lost"] == 40  # 10 % of 400 each
    assert set(stages) == OPEN | {CLOSED_WON, "Closed Lost"}
    for row in org.records["Opportunity"]:
        closed = row["StageName"] not in OPEN
        assert (date.fromisoformat(row["CloseDate"]) <= TODAY) is closed
        assert row["IsClosed"] is closed
        assert row["IsWon"] is (row["StageName"] == CLOSED_WON)


def test_accounts_have_addresses_currencies_and_contacts(index: OrgIndex) -> None:
    accounts = index.org.records["Account"]
    assert len(accounts) == 200
    assert set(CURRENCY) == {row["BillingCountry"] for row in accounts}
    for account in accounts:
        assert account["CurrencyIsoCode"] == CURRENCY[account["BillingCountry"]]
        assert all(account[f"Billing{part}"] for part in ("Street", "City", "PostalCode"))
        assert account["Phone"]
        assert account["Website"].startswith("https://www.")
    per_account = Counter(row["AccountId"] for row in index.org.records["Contact"])
    assert set(per_account.values()) <= {1, 2, 3, 4}
    assert set(per_account) == {row["Id"] for row in accounts}
    emails = [row["Email"] for row in index.org.records["Contact"]]
    assert all(email.isascii() and email.count("@") == 1 for email in emails)


def test_contact_roles_name_the_accounts_people_and_one_primary(index: OrgIndex) -> None:
    for opportunity in index.org.records["Opportunity"]:
        roles = index.roles[opportunity["Id"]]
        if index.org.flawed.get(opportunity["Id"]) == "no_contact":
            assert roles == []
            continue
        assert 1 <= len(roles) <= 2
        assert [role["IsPrimary"] for role in roles].count(True) == 1
        assert {index.row(role["ContactId"])["AccountId"] for role in roles} == {
            opportunity["AccountId"]
        }
        quote = index.primary_quote(opportunity)
        if quote is not None:
            primary = next(role for role in roles if role["IsPrimary"])
            assert quote["SBQQ__PrimaryContact__c"] == primary["ContactId"]


def test_the_catalogue_has_nested_bundles_and_mixed_charges(index: OrgIndex) -> None:
    codes = {row["Id"]: row["ProductCode"] for row in index.org.records["Product2"]}
    bundles = {(codes[row["SBQQ__ConfiguredSKU__c"]], codes[row["SBQQ__OptionalSKU__c"]])
               for row in index.org.records["SBQQ__ProductOption__c"]}  # fmt: skip
    assert {("PLAT-ENT", "SANDBOX"), ("SANDBOX", "SANDBOX-DEV")} <= bundles
    lines = index.org.records["SBQQ__QuoteLine__c"]
    nested = [ln for ln in lines if ln["SBQQ__RequiredBy__c"]
              and index.row(ln["SBQQ__RequiredBy__c"])["SBQQ__RequiredBy__c"]]  # fmt: skip
    assert nested, "no line three levels deep"
    assert {ln["SBQQ__ChargeType__c"] for ln in lines} == {"Recurring", "One-Time"}
    assert {"Monthly", "Annual", "Quarterly"} <= {ln["SBQQ__BillingFrequency__c"] for ln in lines}
    assert {ln["SBQQ__Discount__c"] for ln in lines} == {0.0, 5.0, 10.0, 15.0, 20.0}
    assert any(ln["SBQQ__Bundled__c"] for ln in lines)


def test_some_opportunities_also_have_an_alternative_quote(index: OrgIndex) -> None:
    alternatives = [q for q in index.org.records["SBQQ__Quote__c"] if not q["SBQQ__Primary__c"]]
    assert alternatives
    names = [quote["Name"] for quote in index.org.records["SBQQ__Quote__c"]]
    assert names[:2] == ["Q-00001", "Q-00002"]
    assert len(set(names)) == len(names)


def test_each_flaw_sits_exactly_where_the_org_says(index: OrgIndex) -> None:
    known = frozenset(row["ProductCode"] for row in index.org.records["Product2"]) - {
        UNKNOWN_PRODUCT_CODE
    }
    assert Counter(index.org.flawed.values()) == {flaw: 8 for flaw in FLAWS}
    for opportunity in index.org.records["Opportunity"]:
        reason = index.org.flawed.get(opportunity["Id"])
        assert index.flaws_of(opportunity, known) == ({reason} if reason else set())
        if reason:
            assert opportunity["StageName"] in OPEN
            assert opportunity["SBQQ__PrimaryQuote__c"] is not None


def test_won_candidates_are_open_sound_and_quoted(index: OrgIndex) -> None:
    candidates = set(index.org.won_candidates)
    assert candidates
    assert not candidates & set(index.org.flawed)
    for opportunity in index.org.records["Opportunity"]:
        quoted_open = opportunity["StageName"] in OPEN and opportunity["SBQQ__PrimaryQuote__c"]
        expected = bool(quoted_open) and opportunity["Id"] not in index.org.flawed
        assert (opportunity["Id"] in candidates) is expected
        if opportunity["StageName"] == CLOSED_WON:
            assert opportunity["SBQQ__PrimaryQuote__c"] is not None


@pytest.mark.parametrize("deals", [0, 1, 9])
def test_tiny_orgs_have_no_flaws(deals: int) -> None:
    org = generate_org(1, deals, today=TODAY)
    assert len(org.all_opportunity_ids()) == deals
    assert org.flawed == {}
    assert org.records["Account"], "an org always has an account"


def test_a_negative_deal_count_is_refused() -> None:
    with pytest.raises(ValueError, match="deals"):
        generate_org(1, -1, today=TODAY)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), deals=st.integers(10, 60))
def test_every_seed_flaws_each_kind_at_least_once(seed: int, deals: int) -> None:
    org = generate_org(seed, deals, today=TODAY)
    index = OrgIndex.of(org)
    known = frozenset(row["ProductCode"] for row in org.records["Product2"]) - {
        UNKNOWN_PRODUCT_CODE
    }
    assert set(org.flawed.values()) == set(FLAWS)
    for opportunity in org.records["Opportunity"]:
        reason = org.flawed.get(opportunity["Id"])
        assert index.flaws_of(opportunity, known) == ({reason} if reason else set())
