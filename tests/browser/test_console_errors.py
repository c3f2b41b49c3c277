"""Failed deals under Errors, fixed by editing the payload; viewers may look but not act.

Two deals failed on the way in (``stack.ClosedDeals``): one the flow's validation refused (its
error stays open throughout; the tests here only read it or try to change it and must fail) and
one NetSuite rejected for a too-long website, which edit-and-retry fixes. What the browser shows
is checked against the ledger as the CLI reads it and against the NetSuite emulator.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from dealbridge.web.security.csrf import FIELD_NAME, REFUSED
from tests.browser.console_pages import csrf_token, sign_in
from tests.browser.stack import (
    LONG_WEBSITE,
    OPERATOR,
    SHORT_WEBSITE,
    SYNC_TIMEOUT_SECONDS,
    VIEWER,
    ClosedDeals,
    ConsoleStack,
)
from tests.e2e.serve_stack import wait_until

LOGIN_URL = re.compile(r"/login(\?.*)?$")
ACTION_FORMS = ("form#retry", "form#resolve", "form#edit-and-retry")


def _row(error_id: int) -> str:
    """The error's row in the errors table."""
    return f'table#errors tr[data-error-id="{error_id}"]'


def test_a_failed_deal_appears_under_errors_with_its_class_and_message(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    error = deals.invalid_error
    page.goto("/errors")
    sign_in(page, OPERATOR)

    page.click("a#tab-open")
    row = page.locator(_row(error["id"]))
    expect(row).to_be_visible()
    expect(row).to_contain_text(error["class"])
    expect(row).to_contain_text(error["message"])

    page.goto(f"/errors/{error['id']}")
    section = page.locator("section#error")
    expect(section).to_contain_text(error["class"])
    expect(section).to_contain_text(error["message"])
    expect(section).to_contain_text(error["field"])
    expect(section).to_contain_text(error["record"])
    expect(section.locator(f'a[href*="{deals.invalid}"]').first).to_be_visible()


def test_an_edit_that_is_not_json_is_refused_and_nothing_is_stored(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    error = deals.invalid_error
    page.goto(f"/errors/{error['id']}")
    sign_in(page, OPERATOR)
    form = page.locator("form#edit-and-retry")

    form.locator("textarea[name=payload]").fill('{"companyName": "Short name"')  # no closing }
    with page.expect_response(f"**/errors/{error['id']}/edit-and-retry") as answer:
        form.get_by_role("button", name="Save and retry").click()

    assert answer.value.status == 400
    expect(page.locator("p.alert[role=alert]")).to_contain_text("JSON")
    stored = console.error(error["id"])
    assert (stored["state"], stored["override"]) == ("open", None)


def test_edit_and_retry_fixes_the_record_netsuite_rejected(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    error = deals.rejected_error
    page.goto(f"/errors/{error['id']}")
    sign_in(page, OPERATOR)
    form = page.locator("form#edit-and-retry")
    form.locator("select[name=record_key]").select_option(deals.rejected_customer)
    textarea = form.locator("textarea[name=payload]")
    expect(textarea).to_have_value(re.compile(re.escape(LONG_WEBSITE)))
    payload = json.loads(textarea.input_value())
    assert payload["url"] == LONG_WEBSITE

    textarea.fill(json.dumps({**payload, "url": SHORT_WEBSITE}, indent=2))
    form.get_by_role("button", name="Save and retry").click()

    expect(page.locator("p.notice[role=status]")).to_be_visible()

    def resolved() -> bool:
        page.goto("/errors?state=resolved")
        return page.locator(_row(error["id"])).count() == 1

    wait_until(resolved, "the edited error under the resolved tab", SYNC_TIMEOUT_SECONDS)
    page.goto("/errors")
    page.click("a#tab-open")
    expect(page.locator("table#errors")).to_be_visible()
    expect(page.locator(_row(error["id"]))).to_have_count(0)
    customer = console.netsuite_customer(deals.rejected_customer.split("/", 1)[1])
    assert customer is not None
    assert customer["url"] == SHORT_WEBSITE
    assert console.stack.synced([deals.rejected]) == [deals.rejected]


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(
    page: Page, console: ConsoleStack, deals: ClosedDeals
) -> None:
    error_id = deals.invalid_error["id"]
    before = console.error(error_id)
    page.goto("/errors")
    sign_in(page, VIEWER)

    expect(page.locator(_row(error_id))).to_be_visible()
    expect(page.locator('header nav a[href="/audit"]')).to_have_count(0)  # admins only
    expect(page.locator("form#bulk-retry")).to_have_count(0)
    expect(page.locator("input[name=error_id]")).to_have_count(0)
    page.goto(f"/errors/{error_id}")
    expect(page.locator("section#error")).to_be_visible()
    for form in ACTION_FORMS:
        expect(page.locator(form)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("retry", re.IGNORECASE))).to_have_count(0)

    token = csrf_token(page)
    forged = {
        f"/errors/{error_id}/retry": {},
        f"/errors/{error_id}/resolve": {"reason": "a viewer tried"},
        f"/errors/{error_id}/edit-and-retry": {
            "record_key": deals.invalid_error["record"],
            "payload": json.dumps({"companyName": "Short name"}),
        },
        "/errors/bulk-retry": {"error_id": str(error_id)},
    }
    for path, fields in forged.items():
        answer = page.request.post(path, form={FIELD_NAME: token, **fields}, max_redirects=0)
        assert answer.status == 403, f"{path}: {answer.status}"
        assert REFUSED not in answer.text(), f"{path}: refused for its CSRF token, not the role"

    assert page.request.get("/audit", max_redirects=0).status == 403
    after = console.error(error_id)
    assert (after["state"], after["override"], after["occurrences"]) == (
        "open",
        None,
        before["occurrences"],
    )
    # The token was the session's own: the same forged way, signing out is accepted.
    signed_out = page.request.post("/logout", form={FIELD_NAME: token}, max_redirects=0)
    assert signed_out.status == 303
    page.goto("/errors")
    expect(page).to_have_url(LOGIN_URL)
