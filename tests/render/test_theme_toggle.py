"""The light/dark toggle in Chromium: it follows the system until the reader chooses,
remembers the choice across pages, and applies it before the first paint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kbsite.report import BuildReport

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DARK_BG = "rgb(21, 24, 28)"
LIGHT_BG = "rgb(251, 251, 248)"
WATCH_THEME = """
window.kbThemeLog = [];
new MutationObserver(() => window.kbThemeLog.push(
  [document.documentElement.getAttribute("data-theme"), document.body !== null]
)).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-theme"]});
"""


@pytest.fixture(params=["light", "dark"])
def tab(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(color_scheme=request.param)
    context.add_init_script(WATCH_THEME)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


def background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


def test_the_choice_is_remembered_and_applied_before_the_body_exists(
    tab: Page, sample_site: tuple[Path, BuildReport]
) -> None:
    site = sample_site[0]
    system_dark = tab.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    tab.goto((site / "index.html").as_uri())
    button = tab.locator("#theme-toggle")
    assert button.is_visible()
    assert background(tab) == (DARK_BG if system_dark else LIGHT_BG)
    assert button.get_attribute("aria-pressed") == ("true" if system_dark else "false")

    button.click()
    chosen = "light" if system_dark else "dark"
    assert tab.evaluate("document.documentElement.dataset.theme") == chosen
    assert background(tab) == (LIGHT_BG if system_dark else DARK_BG)

    tab.goto((site / "kb" / "Q200101.html").as_uri())
    assert background(tab) == (LIGHT_BG if system_dark else DARK_BG)
    log = tab.evaluate("window.kbThemeLog")
    assert log and log[0] == [chosen, False], "the theme was set after <body> began: a flash"

    tab.keyboard.press("Tab")  # skip link
    tab.locator("#theme-toggle").focus()
    tab.keyboard.press("Enter")
    assert background(tab) == (DARK_BG if system_dark else LIGHT_BG)
