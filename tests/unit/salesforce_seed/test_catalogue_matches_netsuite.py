"""The seeded Salesforce catalogue and the NetSuite emulator's items name the same products.

The Salesforce emulator keeps its own copy of the codes (it may not import the NetSuite
connector), so this test is what keeps the two in step: a sound deal must be mappable, item by
item, with ``itemId`` = ProductCode (DESIGN §4).
"""

from __future__ import annotations

from datetime import date

from dealbridge.connectors.netsuite.emulator.reference_data import ITEMS
from dealbridge.connectors.salesforce.emulator.seed import generate_org
from dealbridge.connectors.salesforce.emulator.seed_catalogue import (
    PRODUCTS,
    UNKNOWN_PRODUCT_CODE,
)
from tests.unit.salesforce_seed.org_index import OrgIndex

ACTIVE = frozenset(item["itemId"] for item in ITEMS if not item["isInactive"])
ALL_ITEMS = frozenset(item["itemId"] for item in ITEMS)


def test_every_code_on_a_sound_deal_is_an_active_netsuite_item() -> None:
    index = OrgIndex.of(generate_org(11, 500, today=date(2026, 1, 5)))
    used = index.sound_product_codes()
    assert used, "no sound deal has a quote line"
    assert used <= ACTIVE, sorted(used - ACTIVE)


def test_the_flawed_deals_are_flawed_by_netsuite_standards_too() -> None:
    index = OrgIndex.of(generate_org(11, 500, today=date(2026, 1, 5)))
    for opportunity in index.org.records["Opportunity"]:
        reason = index.org.flawed.get(opportunity["Id"])
        assert index.flaws_of(opportunity, ACTIVE) == ({reason} if reason else set())


def test_the_catalogue_is_the_active_items_plus_one_unknown_product() -> None:
    codes = {product.code for product in PRODUCTS}
    assert codes - {UNKNOWN_PRODUCT_CODE} == ACTIVE
    assert UNKNOWN_PRODUCT_CODE not in ALL_ITEMS
