"""The dashboard after deals went through: counts, the per-hour chart, errors by class."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.console_pages import metric, sign_in
from tests.browser.stack import ADMIN, ClosedDeals, ConsoleStack


def test_the_dashboard_shows_the_synced_deals(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    page.goto("/")
    sign_in(page, ADMIN)

    expect(page.locator("section#dashboard")).to_be_visible()
    assert metric(page, "synced-24h") >= len(deals.sound)
    assert metric(page, "failed-24h") >= 1
    assert metric(page, "open-errors") >= 1  # the deal validation refused stays open
    bars = page.locator("svg#synced-per-hour rect")
    assert bars.count() > 0, "the chart has no bars"
    heights = [float(bar.get_attribute("height") or 0) for bar in bars.all()]
    assert max(heights) > 0, f"every bar is empty: {heights}"
    assert all(bar.locator("title").count() == 1 for bar in bars.all())
    by_class = page.locator("table#errors-by-class")
    expect(by_class).to_contain_text(deals.invalid_error["class"])
    expect(page.locator("table#connections")).to_be_visible()
    refreshed = page.locator("[data-refresh]")
    expect(refreshed).to_have_attribute("data-refresh", "/dashboard/fragment")
    expect(refreshed).to_have_attribute("data-refresh-seconds", "15")
