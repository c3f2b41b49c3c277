"""An operator's actions in the console: bulk retry, resolve with a reason, connection tests.

Each action test works on failed deals reserved for it (``ClosedDeals.for_bulk_retry`` and
``for_resolve``): nobody else reads or changes them. What the browser shows is checked against
the ledger, the emulators and, signed in as an admin, the audit log, which must name the operator
who acted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Dialog, Page, expect

from dealbridge.db.open_errors import AUTO_RESOLVE_NOTE, SYSTEM_ACTOR
from tests.browser.conftest import screenshot
from tests.browser.console_pages import (
    audit_entries_for_error,
    filter_audit,
    sign_in,
    sign_in_again,
)
from tests.browser.stack import (
    ADMIN,
    OPERATOR,
    SHORT_WEBSITE,
    SYNC_TIMEOUT_SECONDS,
    ClosedDeals,
    ConsoleStack,
)
from tests.e2e.serve_stack import wait_until

BULK_CONFIRM = "Retry every selected deal now?"
RESOLVE_REASON = "Term dates corrected by hand in NetSuite; no resync wanted."
RESOLVE_REQUIRED = "Say why the error is resolved"
SYSTEMS = {"netsuite": "NetSuite", "salesforce": "Salesforce"}
# Long enough for the quiet stack to go idle after the earlier tests' syncs.
IDLE_TIMEOUT_SECONDS = 60.0


def _row(error_id: int) -> str:
    """The error's row in the errors table."""
    return f'table#errors tr[data-error-id="{error_id}"]'


def test_bulk_retry_of_fixed_deals_queues_them_and_they_end_resolved(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    reserved = deals.for_bulk_retry
    ids = [deal.error["id"] for deal in reserved]
    for deal in reserved:  # the cause, fixed where it lives: the account's website
        console.stack.emulators.update("Account", deal.account, {"Website": SHORT_WEBSITE})
    page.goto("/errors")
    sign_in(page, OPERATOR)

    for error_id in ids:
        expect(page.locator(_row(error_id))).to_be_visible()
        page.get_by_label(f"Select error {error_id}", exact=True).check()
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    page.get_by_role("button", name="Retry selected").click()

    expect(page.locator("p.notice[role=status]")).to_have_text(
        f"{len(ids)} retries queued. Errors that were already resolved were skipped."
    )
    assert asked == [BULK_CONFIRM]
    expect(page.locator("a#tab-open")).to_have_attribute("aria-current", "page")
    for error_id in ids:
        expect(page.locator(_row(error_id))).to_have_count(0)  # retrying, or already resolved

    def all_resolved() -> bool:
        page.goto("/errors?state=resolved")
        return all(page.locator(_row(error_id)).count() == 1 for error_id in ids)

    wait_until(all_resolved, "the retried errors under the resolved tab", SYNC_TIMEOUT_SECONDS)
    for deal in reserved:
        stored = console.error(deal.error["id"])
        assert (stored["state"], stored["resolved_by"]) == ("resolved", SYSTEM_ACTOR)
        assert str(stored["resolution_note"]).startswith(AUTO_RESOLVE_NOTE)
        customer = console.netsuite_customer(deal.customer)
        assert customer is not None
        assert customer["url"] == SHORT_WEBSITE
    opportunities = [deal.opportunity for deal in reserved]
    assert sorted(console.stack.synced(opportunities)) == sorted(opportunities)

    sign_in_again(page, ADMIN)
    filter_audit(page, actor=OPERATOR.name, action="error.retry")
    for error_id in ids:
        entry = audit_entries_for_error(page, "error.retry", error_id)
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(OPERATOR.name)
        expect(entry).to_contain_text(f"retry:{error_id}:1")  # the workflow the retry queued


def test_resolving_with_a_reason_moves_the_error_to_resolved_with_who_and_why(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    error_id = deals.for_resolve.error["id"]
    page.goto(f"/errors/{error_id}")
    sign_in(page, OPERATOR)
    form = page.locator("form#resolve")
    reason = form.locator("textarea[name=reason]")

    reason.fill("   ")  # passes the browser's `required`, not the console
    form.get_by_role("button", name="Resolve").click()
    expect(page.locator("p.alert[role=alert]")).to_contain_text(RESOLVE_REQUIRED)
    assert console.error(error_id)["state"] == "open"

    page.locator("form#resolve textarea[name=reason]").fill(RESOLVE_REASON)
    page.locator("form#resolve").get_by_role("button", name="Resolve").click()

    section = page.locator("section#error")
    expect(section.locator("p.notice[role=status]")).to_contain_text("Error resolved")
    expect(section.locator('dd[data-field="state"]')).to_have_text("resolved")
    expect(page.locator("form#resolve")).to_have_count(0)
    page.goto("/errors")
    expect(page.locator("table#errors")).to_be_visible()
    expect(page.locator(_row(error_id))).to_have_count(0)
    page.click("a#tab-resolved")
    resolved_row = page.locator(_row(error_id))
    expect(resolved_row).to_be_visible()
    resolved_row.locator(f'a[href="/errors/{error_id}"]').click()
    expect(page.locator("section#error dl.facts")).to_contain_text(
        f"by {OPERATOR.name}: {RESOLVE_REASON}"
    )
    stored = console.error(error_id)
    assert (stored["state"], stored["resolved_by"], stored["resolution_note"]) == (
        "resolved",
        OPERATOR.name,
        RESOLVE_REASON,
    )

    sign_in_again(page, ADMIN)
    filter_audit(page, actor=OPERATOR.name, action="error.resolve")
    entry = audit_entries_for_error(page, "error.resolve", error_id)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(OPERATOR.name)
    expect(entry).to_contain_text(RESOLVE_REASON)


def test_testing_each_connection_shows_it_works_and_who_tested_it(
    page: Page, console: ConsoleStack
) -> None:
    page.goto("/connections")
    sign_in(page, OPERATOR)

    for system, label in SYSTEMS.items():
        _press_test(page, system)
        expect(page.locator("p.notice[role=status]")).to_contain_text(
            re.compile(rf"^{label} answered in \d[\d.]* m?s: the connection works\.$")
        )
        row = page.locator(f'table#connection-status tr[data-system="{system}"]')
        expect(row.locator("span.good")).to_have_text("ok")
        expect(row).to_contain_text(OPERATOR.name)
    expect(page.locator("p.alert[role=alert]")).to_have_count(0)


def test_a_failing_netsuite_check_is_shown_as_an_alert_until_it_works_again(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    wait_until(
        lambda: not console.errors("retrying"), "no deal being retried", IDLE_TIMEOUT_SECONDS
    )
    page.goto("/connections")
    sign_in(page, OPERATOR)
    row = page.locator('table#connection-status tr[data-system="netsuite"]')

    with _netsuite_failing_every_call(console):
        _press_test(page, "netsuite")
        alert = page.locator("p.alert[role=alert]")
        expect(alert).to_contain_text("NetSuite check failed: unreachable:")  # a 500 is an outage
        expect(row.locator("span.bad")).to_have_text("failing")
        screenshot(page, "test_a_failing_netsuite_check_is_shown_as_an_alert-failing")

    _press_test(page, "netsuite")
    expect(page.locator("p.notice[role=status]")).to_contain_text("the connection works")
    expect(row.locator("span.good")).to_have_text("ok")


def _press_test(page: Page, system: str) -> None:
    """Press the system's test button and wait for the page it leads to."""
    with page.expect_navigation(url=re.compile(rf"/connections\?tested={system}$")):
        page.locator(f"form#test-{system}").get_by_role("button").click()


@contextmanager
def _netsuite_failing_every_call(console: ConsoleStack) -> Iterator[None]:
    """NetSuite answers every API call with a 500 inside the block, as before it afterwards.

    The stack is shared, so the block is kept as short as a page load and only entered when no
    deal is being synced (the caller waits for that).
    """
    control = console.stack.emulators.netsuite_control
    before = control.faults()["error_rate"]
    control.faults(error_rate=1.0)
    try:
        yield
    finally:
        control.faults(error_rate=before)
