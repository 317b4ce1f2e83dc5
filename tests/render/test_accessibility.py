"""Every kind of page passes axe-core (from the npm registry) in Chromium with no serious
or critical violation, in light and dark mode, and the keyboard reaches what matters.

axe-core is installed by ``.ci/run`` with npm into ``node_modules/``; elsewhere the test
skips with the command to install it, unless KBSITE_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kbsite.report import BuildReport

if TYPE_CHECKING:
    from playwright.sync_api import Browser

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [
    "index.html",
    "kb/Q200101.html",
    "kb/Q200119.html",
    "category/index.html",
    "category/hmail.html",
    "titles/h.html",
    "missing.html",
    "stats.html",
    "search.html?q=relay+host",
    "404.html",
]


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.is_file():
        reason = f"axe-core is not installed ({AXE}): npm install --no-save axe-core@4"
        if os.environ.get("KBSITE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation(
    browser: Browser, sample_site: tuple[Path, BuildReport], axe_script: Path, scheme: str
) -> None:
    site = sample_site[0]
    # bypass_csp: the pages forbid injected scripts, axe is one
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        found: dict[str, list[str]] = {}
        for path in PAGES:
            page.goto(site.as_uri() + "/" + path)
            if path.startswith("search.html"):
                page.wait_for_selector("#kb-results li")
            page.add_script_tag(path=str(axe_script))
            result: dict[str, Any] = page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
            serious = [
                f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                found[path] = serious
        assert found == {}
    finally:
        context.close()


def test_the_keyboard_reaches_skip_link_search_and_theme_toggle(
    browser: Browser, sample_site: tuple[Path, BuildReport]
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((sample_site[0] / "kb" / "Q200101.html").as_uri())
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        reached = set()
        for _ in range(30):
            page.keyboard.press("Tab")
            reached.add(
                page.evaluate("document.activeElement.id || document.activeElement.tagName")
            )
        assert {"site-search-q", "theme-toggle"} <= reached
        outline = page.evaluate(
            "() => { const b = document.getElementById('theme-toggle'); b.focus();"
            " return getComputedStyle(b).outlineStyle; }"
        )
        assert outline != "none", "focus must be visible"
    finally:
        context.close()
