"""Browser fixtures: Debian's Chromium through Playwright, one per module; a page that records any dialog and fails
on any Content-Security-Policy violation."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google, which this closed network refuses.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
ARGS += ["--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    # The pages run under our Content-Security-Policy: anything it blocks is a page that does not work.
    blocked: list[str] = []

    def csp(message) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text:
            blocked.append(f"{opened.url}: {message.text}")  # which page, too

    opened.on("console", csp)
    yield opened
    context.close()
    assert not blocked, f"the page broke its Content-Security-Policy: {blocked[:3]}"
