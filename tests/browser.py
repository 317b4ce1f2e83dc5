"""Headless Chromium for the browser tests: the system's Chromium, driven by Playwright.

Playwright's own browser downloads are never used: the tests launch /usr/bin/chromium.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def browser_unavailable() -> str | None:
    """Why headless Chromium cannot be launched here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.is_file():
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """Headless Chromium from CHROMIUM, closed (with Playwright) on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
