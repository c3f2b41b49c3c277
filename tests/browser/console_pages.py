"""What a person does in the console, as steps the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.stack import User

CSRF_META = 'meta[name="csrf-token"]'


def sign_in(page: Page, user: User, *, password: str | None = None) -> None:
    """Fill the login form and submit it (wherever ``page`` is, it goes to ``/login`` first)."""
    if not re.search(r"/login(\?|$)", page.url):
        page.goto("/login")
    page.fill("input[name=username]", user.name)
    page.fill("input[name=password]", user.password if password is None else password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def signed_in_as(page: Page, user: User) -> None:
    """The top bar names ``user`` and offers to sign out."""
    expect(page.locator("header .who")).to_contain_text(user.name)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def csrf_token(page: Page) -> str:
    """The CSRF token of the current page's session (what its forms post)."""
    token = page.locator(CSRF_META).get_attribute("content")
    assert token, "the page carries no CSRF token"
    return token


def metric(page: Page, name: str) -> int:
    """The dashboard figure ``[data-metric=name]`` as a whole number (e.g. ``1,234`` → 1234)."""
    text = page.locator(f'[data-metric="{name}"]').inner_text().strip()
    found = re.match(r"\d[\d,]*", text)
    assert found, f"dashboard figure {name} is {text!r}, not a count"
    return int(found.group().replace(",", ""))


def sign_in_again(page: Page, user: User) -> None:
    """Sign out through the top bar, then in as ``user`` (one context, one session at a time)."""
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))
    sign_in(page, user)
    signed_in_as(page, user)


def filter_audit(page: Page, *, actor: str, action: str) -> None:
    """The audit log narrowed to one actor's ``action`` entries, through its filter form."""
    page.goto("/audit")
    form = page.locator("form#audit-filters")
    form.get_by_label("Who").fill(actor)
    form.get_by_label("Action").fill(action)
    form.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"[?&]action={re.escape(action)}(&|$)"))


def audit_entries_for_error(page: Page, action: str, error_id: int) -> Locator:
    """The rows of the audit table recording ``action`` on the error ``error_id``."""
    return page.locator(
        f'table#audit tr[data-action="{action}"]',
        has=page.locator(f'a[href="/errors/{error_id}"]'),
    )
