"""The derived views of a deal graph: packages, members, one-time lines, contacts, currency."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest

from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.mapping.deal_values import model_data, normalise_frequency
from dealbridge.mapping.deal_views import deal_views
from tests.support.cpq_deals import account, contact, deal, line, opportunity, quote, role, sfid

Row = dict[str, Any]


def views(graph: Row, **constants: Any) -> dict[str, Any]:
    return deal_views(graph, constants)


def codes(entries: list[Row]) -> list[str]:
    return [entry["code"] for entry in entries]


def pro_bundle() -> list[Row]:
    top = line(1, "PLAT-PRO")
    return [
        top,
        line(2, "SEAT-STD", parent=top, quantity=10),
        line(3, "SUPPORT-STD", parent=top, bundled=True),
    ]


def nested_bundle() -> list[Row]:
    top = line(1, "PLAT-ENT")
    sandbox = line(4, "SANDBOX", parent=top)
    return [
        top,
        line(2, "SEAT-PRM", parent=top, quantity=25),
        line(3, "SUPPORT-PRM", parent=top),
        sandbox,
        line(5, "SANDBOX-DEV", parent=sandbox, quantity=2, bundled=True),
        line(6, "SSO", parent=top, bundled=True),
    ]


def test_a_bundle_is_one_package_whose_top_line_comes_first() -> None:
    (package,) = views(deal(pro_bundle()))["packages"]
    assert package["code"] == "PLAT-PRO"
    assert codes(package["members"]) == ["PLAT-PRO", "SEAT-STD", "SUPPORT-STD"]
    assert [m["number"] for m in package["members"]] == [1, 2, 3]
    assert [m["depth"] for m in package["members"]] == [0, 1, 1]
    assert package["frequency"] == "ANNUALLY"
    assert package["net_total"] == 24000.0 + 6000.0
    assert package["members"][2]["unit_price"] == 0.0  # a bundled component is free


def test_nested_bundles_flatten_depth_first_in_line_number_order() -> None:
    (package,) = views(deal(nested_bundle()))["packages"]
    assert codes(package["members"]) == [
        "PLAT-ENT", "SEAT-PRM", "SUPPORT-PRM", "SANDBOX", "SANDBOX-DEV", "SSO",
    ]  # fmt: skip
    assert [m["depth"] for m in package["members"]] == [0, 1, 1, 1, 2, 1]


@pytest.mark.parametrize("seed", range(5))
def test_the_order_of_lines_in_the_graph_does_not_change_the_package(seed: int) -> None:
    expected = views(deal(nested_bundle()))["packages"][0]
    shuffled = nested_bundle()
    random.Random(seed).shuffle(shuffled)
    package = views(deal(shuffled))["packages"][0]
    assert codes(package["members"]) == codes(expected["members"])
    assert package["variant"] == expected["variant"]
    assert package["book_key"] == expected["book_key"]


def test_standalone_recurring_lines_are_one_member_packages() -> None:
    lines = [*pro_bundle(), line(4, "SUPPORT-247"), line(5, "SEAT-VIEW", quantity=20)]
    packages = views(deal(lines))["packages"]
    assert codes(packages) == ["PLAT-PRO", "SUPPORT-247", "SEAT-VIEW"]
    assert [codes(p["members"]) for p in packages[1:]] == [["SUPPORT-247"], ["SEAT-VIEW"]]
    assert [p["number"] for p in packages] == [1, 2, 3]


def test_one_time_options_are_add_on_lines_after_the_members() -> None:
    lines = pro_bundle()
    lines.append(line(4, "DATA-MIGR", parent=lines[0]))
    (package,) = views(deal(lines))["packages"]
    assert codes(package["members"]) == ["PLAT-PRO", "SEAT-STD", "SUPPORT-STD"]
    (one_time,) = package["one_time"]
    assert (one_time["code"], one_time["number"]) == ("DATA-MIGR", 4)
    assert (one_time["line_type"], one_time["frequency"]) == ("1", "ONETIME")
    assert one_time["unit_price"] == 10000.0  # a one-time price is per unit, not per period
    assert codes(package["intervals"]) == [*codes(package["members"]), "DATA-MIGR"]
    assert package["net_total"] == 24000.0 + 6000.0 + 10000.0


def test_package_less_one_time_lines_go_on_the_first_package() -> None:
    lines = [line(1, "PLAT-STD"), line(2, "ONBOARD"), line(3, "SEAT-VIEW"), line(4, "TRAINING")]
    result = views(deal(lines))
    first, second = result["packages"]
    assert codes(first["one_time"]) == ["ONBOARD", "TRAINING"]
    assert [entry["number"] for entry in first["one_time"]] == [2, 3]
    assert second["one_time"] == []
    assert [row["SBQQ__ProductCode__c"] for row in result["one_time_lines"]] == [
        "ONBOARD", "TRAINING",
    ]  # fmt: skip


def test_a_quote_of_one_time_lines_only_has_no_package() -> None:
    result = views(deal([line(1, "ONBOARD"), line(2, "TRAINING", quantity=2)]))
    assert result["packages"] == []
    assert len(result["one_time_lines"]) == 2


def test_lines_with_a_missing_or_looping_parent_are_orphans() -> None:
    dangling = line(2, "SEAT-STD", SBQQ__RequiredBy__c=sfid("a0v", 99))
    loop_a = line(3, "SEAT-VIEW", SBQQ__RequiredBy__c=sfid("a0v", 4))
    loop_b = line(4, "SSO", SBQQ__RequiredBy__c=sfid("a0v", 3))
    result = views(deal([line(1, "PLAT-STD"), dangling, loop_a, loop_b]))
    assert [row["SBQQ__Number__c"] for row in result["orphan_lines"]] == [2, 3, 4]
    assert codes(result["packages"]) == ["PLAT-STD"]


def test_usage_lines_are_reported() -> None:
    result = views(deal([line(1, "PLAT-STD"), line(2, "API-CALLS", quantity=1000)]))
    assert [row["SBQQ__ProductCode__c"] for row in result["usage_lines"]] == ["API-CALLS"]
    assert codes(result["packages"][0]["members"]) == ["PLAT-STD"]


def test_a_self_parented_line_never_loops_forever() -> None:
    me = line(1, "PLAT-STD")
    me["SBQQ__RequiredBy__c"] = me["Id"]
    result = views(deal([me]))
    assert result["packages"] == []
    assert result["orphan_lines"] == [me]


@pytest.mark.parametrize(
    ("frequency", "expected_price"),
    [("Monthly", 750.0), ("Quarterly", 2250.0), ("Semiannual", 4500.0), ("Annual", 9000.0)],
)
def test_the_unit_price_is_the_list_price_of_one_billing_period(
    frequency: str, expected_price: float
) -> None:
    result = views(deal([line(1, "PLAT-STD", SBQQ__BillingFrequency__c=frequency)]))
    (member,) = result["packages"][0]["members"]
    assert member["unit_price"] == expected_price
    assert member["price_plan_key"].endswith(f"-USD-{round(expected_price * 100)}")


def test_the_price_term_is_a_constant() -> None:
    result = views(deal([line(1, "PLAT-STD")]), list_price_term_months=1)
    assert result["packages"][0]["members"][0]["unit_price"] == 9000.0


def test_unit_prices_round_to_cents() -> None:
    result = views(deal([line(1, "SUPPORT-STD", SBQQ__BillingFrequency__c="Monthly")]))
    assert result["packages"][0]["members"][0]["unit_price"] == 416.67


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("Monthly", "MONTHLY"), ("annual", "ANNUALLY"), ("Semiannual", "SEMIANNUALLY"),
     ("Invoice Plan", None), (None, None)],
)  # fmt: skip
def test_frequencies_normalise_to_netsuite_values(raw: str | None, normalised: str | None) -> None:
    assert normalise_frequency(raw) == normalised


def test_billing_groups_are_distinct_frequencies_with_the_earliest_start() -> None:
    lines = [
        line(1, "PLAT-STD", SBQQ__StartDate__c="2026-03-01"),
        line(2, "SEAT-VIEW"),
        line(3, "SUPPORT-247"),
    ]
    result = views(deal(lines))
    groups = result["billing_groups"]
    assert [(g["currency"], g["frequency"]) for g in groups] == [
        ("USD", "MONTHLY"), ("USD", "ANNUALLY"),
    ]  # fmt: skip
    assert groups[0]["start_date"] == "2026-01-01"  # the quote start beats a later line start
    assert groups[0]["packages"] == [1, 2]
    assert groups[0]["key"] == f"{sfid('001', 1)}-USD-MONTHLY"
    assert [p["billing_key"] for p in result["packages"]] == [
        groups[0]["key"], groups[0]["key"], groups[1]["key"],
    ]  # fmt: skip


def test_line_dates_win_over_the_quote_dates() -> None:
    lines = [line(1, "PLAT-STD", SBQQ__StartDate__c="2026-02-01", SBQQ__EndDate__c="2027-01-31")]
    (package,) = views(deal(lines))["packages"]
    assert (package["start_date"], package["end_date"]) == ("2026-02-01", "2027-01-31")
    assert package["term_months"] == 12


def test_price_plans_are_distinct_across_packages() -> None:
    lines = [*pro_bundle(), line(4, "SEAT-STD", quantity=3)]
    plans = views(deal(lines))["price_plans"]
    keys = [plan["key"] for plan in plans]
    assert len(keys) == len(set(keys)) == 3  # PLAT-PRO, SEAT-STD (once), bundled SUPPORT-STD
    assert plans[0]["tiers"] == [{"from_value": 0, "value": 24000.0}]


def test_a_bundle_with_other_options_is_another_plan_variant() -> None:
    base = views(deal(pro_bundle()))["packages"][0]
    lines = pro_bundle()
    lines.append(line(4, "INTEG-SF", parent=lines[0]))
    more = views(deal(lines))["packages"][0]
    assert base["variant"] != more["variant"]
    assert base["plan_key"].startswith(base["product_id"])


def test_a_different_currency_or_price_is_another_price_book_but_the_same_plan() -> None:
    usd = views(deal(pro_bundle()))["packages"][0]
    gbp_lines = [line(1, "PLAT-PRO", fx=0.79)]
    gbp_lines += [line(2, "SEAT-STD", parent=gbp_lines[0], quantity=10, fx=0.79)]
    gbp_lines += [line(3, "SUPPORT-STD", parent=gbp_lines[0], bundled=True)]
    gbp = views(deal(gbp_lines, the_quote=quote(currency="GBP")))["packages"][0]
    assert gbp["plan_key"] == usd["plan_key"]
    assert gbp["book_key"] != usd["book_key"]
    assert gbp["currency"] == "GBP"


def test_contacts_are_distinct_with_the_primary_first() -> None:
    dana, sam, lee = contact(1, "Dana", "W"), contact(2, "Sam", "O"), contact(3, "Lee", "P")
    roles = [role(sam, "Economic Buyer"), role(dana, primary=True), role(sam, "Champion")]
    result = views(deal([line(1, "PLAT-STD")], roles=roles, the_quote=quote(primary_contact=lee)))
    assert [c["FirstName"] for c in result["contacts"]] == ["Dana", "Sam", "Lee"]
    assert [c["IsPrimary"] for c in result["contacts"]] == [True, False, False]
    assert [c["Role"] for c in result["contacts"]] == ["Decision Maker", "Economic Buyer", None]
    assert result["primary_contact"]["FirstName"] == "Dana"


def test_without_a_primary_role_the_quote_contact_is_primary() -> None:
    sam, lee = contact(2, "Sam", "O"), contact(3, "Lee", "P")
    graph = deal([line(1, "PLAT-STD")], roles=[role(sam)], the_quote=quote(primary_contact=lee))
    result = views(graph)
    assert result["primary_contact"]["FirstName"] == "Lee"
    assert [c["FirstName"] for c in result["contacts"]] == ["Lee", "Sam"]


def test_contacts_without_an_id_are_left_out() -> None:
    nameless = {"Id": None, "ContactId": None, "Role": "x", "IsPrimary": True, "Contact": None}
    result = views(deal([line(1, "PLAT-STD")], roles=[nameless]))
    assert result["contacts"] == []
    assert result["primary_contact"] is None


@pytest.mark.parametrize(
    ("quote_currency", "opportunity_currency", "account_currency", "expected"),
    [("gbp", "EUR", "CAD", "GBP"), (None, "EUR", "CAD", "EUR"), (None, None, "CAD", "CAD"),
     (None, None, None, "JPY")],
)  # fmt: skip
def test_the_deal_currency_falls_back_quote_opportunity_account_constant(
    quote_currency: str | None,
    opportunity_currency: str | None,
    account_currency: str | None,
    expected: str,
) -> None:
    graph = deal(
        [line(1, "PLAT-STD")],
        the_account=account(CurrencyIsoCode=account_currency),
        the_quote=quote(currency=quote_currency),  # type: ignore[arg-type]
        the_opportunity=opportunity(CurrencyIsoCode=opportunity_currency),
    )
    assert views(graph, default_currency="jpy")["currency"] == expected


def test_the_same_billing_and_shipping_address_is_one_entry() -> None:
    (entry,) = views(deal([line(1, "PLAT-STD")]))["addresses"]
    assert (entry["default_billing"], entry["default_shipping"]) == (True, True)
    assert (entry["addr1"], entry["city"], entry["country"]) == (
        "100 Market Street", "San Francisco", "United States",
    )  # fmt: skip


def test_a_different_shipping_address_is_a_second_entry_with_street_lines() -> None:
    acct = account(ShippingStreet="Dock 4\nGate B\nBuilding 7\nFloor 2", ShippingCity="Oakland")
    billing, shipping = views(deal([line(1, "PLAT-STD")], the_account=acct))["addresses"]
    assert (billing["default_shipping"], shipping["default_shipping"]) == (False, True)
    assert (shipping["addr1"], shipping["addr2"], shipping["addr3"]) == (
        "Dock 4", "Gate B", "Building 7 Floor 2",
    )  # fmt: skip


def test_an_account_without_addresses_has_none() -> None:
    acct = account()
    for kind in ("Billing", "Shipping"):
        for part in ("Street", "City", "State", "PostalCode", "Country"):
            acct[kind + part] = None
    assert views(deal([line(1, "PLAT-STD")], the_account=acct))["addresses"] == []


def test_a_dealgraph_dumps_to_the_same_numbers_and_dates_as_its_json() -> None:
    graph = deal(pro_bundle())
    model = DealGraph.model_validate(graph)
    data = model_data(model)
    first = data["lines"][0]
    assert first["SBQQ__Number__c"] == 1
    assert isinstance(first["SBQQ__Number__c"], int)
    assert first["SBQQ__ListPrice__c"] == 24000.0
    assert data["quote"]["SBQQ__StartDate__c"] == "2026-01-01"
    assert derived(views(data)) == derived(views(json.loads(json.dumps(graph))))


def derived(result: dict[str, Any]) -> list[Row]:
    """The packages without the raw records they point at (a dump has every model field)."""
    raw = ("line", "product")
    return [
        {
            **{
                k: v
                for k, v in package.items()
                if k not in (*raw, "members", "one_time", "intervals")
            },
            "members": [{k: v for k, v in m.items() if k not in raw} for m in package["members"]],
        }
        for package in result["packages"]
    ]


def test_decimal_text_that_is_not_a_number_is_kept() -> None:
    model = DealGraph.model_validate(deal([line(1, "PLAT-STD", SBQQ__Quantity__c=Decimal("2.5"))]))
    assert model_data(model)["lines"][0]["SBQQ__Quantity__c"] == 2.5


def test_damaged_records_never_break_the_views() -> None:
    graph: Row = {
        "opportunity": "not a record",
        "account": None,
        "contact_roles": "nope",
        "quote": 7,
        "lines": [None, 3, {"Id": 5, "SBQQ__Product__r": "x", "SBQQ__Quantity__c": "abc"}],
    }
    result = views(graph)
    assert result["opportunity"] == {}
    assert result["quote"] is None
    assert result["packages"][0]["members"][0]["quantity"] is None


def test_price_keys_never_fail_on_extreme_prices() -> None:
    """Regression: ``price * 100`` overflowed for a price near the float maximum."""
    from dealbridge.mapping.packages import price_in_cents

    assert price_in_cents(None) == "none"
    assert price_in_cents(12.5) == "1250"
    assert price_in_cents(2.675) == str(round(2.675 * 100))  # the float rounding keys always had
    huge = price_in_cents(1.797693134862316e306)
    assert huge.startswith("17976931348623160")
    assert len(huge) == 309
    assert price_in_cents(float("inf")) == "invalid"
    assert price_in_cents(float("nan")) == "invalid"
