"""Fixtures of the browser tests: one console stack and one chromium for the whole package.

Why package scope and not per test: starting both emulators and ``serve`` and syncing the deals
takes most of the run; the tests only read from it or change what they themselves set up
(edit-and-retry resolves the error made for it). Each test gets a fresh browser context (no
cookies shared between tests) and leaves a full-page screenshot of where it ended in
``tests/browser/artifacts/<test>.png`` — also when it failed, which is when it is most useful.

Playwright drives Debian's chromium (``make chromium``); without it the tests skip, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.browser.stack import ClosedDeals, ConsoleStack, console_stack

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
# Playwright's own waits (a selector to appear, a navigation to finish); deals are waited for
# by polling with explicit deadlines instead.
ACTION_TIMEOUT_MS = 15_000


def require_chromium() -> None:
    """Skip, saying why, where Debian's chromium is not installed (e.g. a laptop)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (`make chromium`)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs chromium and takes seconds."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="package")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    """Emulators, users and ``serve`` (no deals closed yet)."""
    require_chromium()
    with console_stack(tmp_path_factory.mktemp("console")) as started:
        yield started


@pytest.fixture(scope="package")
def deals(console: ConsoleStack) -> ClosedDeals:
    """Sound and flawed deals closed in Salesforce, each with its outcome in the ledger."""
    return console.close_deals()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, console: ConsoleStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context on the console's URL; screenshotted when the test ends."""
    context = browser.new_context(base_url=console.url, viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        screenshot(opened, request.node.name)
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot at ``artifacts/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
