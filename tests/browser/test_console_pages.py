"""Every console page, reached through its navigation, with a screenshot of each.

The screenshots (``artifacts/test_every_console_page_renders-<page>.png``) are how a reviewer
sees the console without running it; the assertions check each page shows its main element and
some of the stack's own data, so an empty or broken page fails here.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.console_pages import sign_in
from tests.browser.stack import ADMIN, ClosedDeals, ConsoleStack

NAV = {
    "Dashboard": "/",
    "Runs": "/runs",
    "Errors": "/errors",
    "Flows": "/flows",
    "Reconciliation": "/reconciliation",
    "Connections": "/connections",
    "Audit": "/audit",
}


def test_every_console_page_renders(page: Page, console: ConsoleStack, deals: ClosedDeals) -> None:
    name = "test_every_console_page_renders"
    page.goto("/")
    sign_in(page, ADMIN)
    nav = page.locator("header nav")
    for label, path in NAV.items():
        expect(nav.locator(f'a[href="{path}"]')).to_contain_text(label)

    expect(page.locator("section#dashboard")).to_be_visible()
    screenshot(page, f"{name}-dashboard")

    nav.locator('a[href="/runs"]').click()
    expect(page.locator("table#runs tr[data-run-id]").first).to_be_visible()
    sound_run = page.locator("table#runs tr[data-run-id]", has_text=deals.sound[0]).first
    expect(sound_run).to_be_visible()
    screenshot(page, f"{name}-runs")

    run_id = sound_run.get_attribute("data-run-id")
    sound_run.locator(f'a[href="/runs/{run_id}"]').first.click()
    expect(page).to_have_url(f"{console.url}/runs/{run_id}")
    expect(page.locator("section#run")).to_contain_text(deals.sound[0])
    expect(page.locator("ol#steps li[data-step]").first).to_be_visible()
    calls = page.locator("table#calls")
    expect(calls).to_contain_text("salesforce")
    expect(calls).to_contain_text("netsuite")
    expect(page.locator("table#records")).to_contain_text("customer")
    screenshot(page, f"{name}-run")

    nav.locator('a[href="/errors"]').click()
    error_id = deals.invalid_error["id"]
    row = page.locator(f'table#errors tr[data-error-id="{error_id}"]')
    expect(row).to_be_visible()
    screenshot(page, f"{name}-errors")

    page.goto(f"/errors/{error_id}")
    expect(page.locator("section#error")).to_contain_text(deals.invalid_error["message"])
    screenshot(page, f"{name}-error")

    nav.locator('a[href="/flows"]').click()
    expect(page.locator("section#flow")).to_contain_text("customer")
    screenshot(page, f"{name}-flows")

    untouched = _unclosed_candidate(console, deals)
    page.goto("/flows/preview")
    page.locator("form#preview input[name=opportunity]").fill(untouched)
    page.locator("form#preview button[type=submit]").click()
    expect(page.locator("section#plan")).to_contain_text(untouched)
    expect(page.locator('section#plan tr[data-operation^="customer/"]')).to_have_count(1)
    expect(page.locator("section#diff table").first).to_be_visible()  # all new: every field
    screenshot(page, f"{name}-preview")

    nav.locator('a[href="/reconciliation"]').click()
    expect(page.locator("table#reconcile-items")).to_be_attached()
    expect(page.locator("svg#reconcile-trend")).to_be_attached()
    screenshot(page, f"{name}-reconciliation")

    nav.locator('a[href="/connections"]').click()
    status = page.locator("table#connection-status")
    expect(status).to_contain_text("Salesforce")
    expect(status).to_contain_text("NetSuite")
    expect(page.locator("form#test-salesforce")).to_be_visible()
    expect(page.locator("form#test-netsuite")).to_be_visible()
    screenshot(page, f"{name}-connections")

    nav.locator('a[href="/audit"]').click()
    audit = page.locator("table#audit")
    expect(audit).to_contain_text(ADMIN.name)  # this very sign-in
    expect(audit).to_contain_text("login")
    screenshot(page, f"{name}-audit")


def _unclosed_candidate(console: ConsoleStack, deals: ClosedDeals) -> str:
    """A deal that could be won but was not closed: its preview creates every record."""
    closed = {*deals.sound, deals.invalid, deals.rejected}
    candidates: list[str] = console.stack.emulators.seeded["won_candidates"]
    return next(candidate for candidate in candidates if candidate not in closed)
