"""Signing in and out; anonymous visitors go to the login page; a wrong password is told so."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.browser.console_pages import sign_in, signed_in_as
from tests.browser.stack import ADMIN, VIEWER, ConsoleStack

LOGIN_URL = re.compile(r"/login(\?.*)?$")


def test_an_anonymous_visit_to_the_console_is_sent_to_the_login_page(
    page: Page, console: ConsoleStack
) -> None:
    page.goto("/")

    expect(page).to_have_url(LOGIN_URL)
    assert parse_qs(urlsplit(page.url).query).get("next", ["/"]) == ["/"]
    expect(page.locator("input[name=username]")).to_be_visible()
    expect(page.locator("input[name=password]")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_wrong_password_shows_the_alert_and_signs_nobody_in(
    page: Page, console: ConsoleStack
) -> None:
    page.goto("/login")

    sign_in(page, VIEWER, password="not-" + VIEWER.password)

    alert = page.locator("p.alert[role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Sign-in failed")
    expect(page.locator("input[name=username]")).to_have_value(VIEWER.name)
    expect(page.locator("input[name=password]")).to_have_value("")  # never echoed back
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    another_tab = page.context.new_page()  # same cookies; this page keeps the alert on screen
    another_tab.goto("/")
    expect(another_tab).to_have_url(LOGIN_URL)


def test_signing_in_and_out(page: Page, console: ConsoleStack) -> None:
    page.goto("/")
    sign_in(page, ADMIN)

    expect(page).not_to_have_url(LOGIN_URL)
    signed_in_as(page, ADMIN)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(LOGIN_URL)
    page.goto("/")
    expect(page).to_have_url(LOGIN_URL)  # the session really ended
