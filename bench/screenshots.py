"""Screenshots of the built site for a person to look at: home, an article, a listing,
the search page and the statistics page, in light and dark mode, at desktop and phone
widths, in Debian's Chromium.

    python bench/screenshots.py [SOURCE] [--out FOLDER]

SOURCE defaults to the bundled sample (content/); the PNG files go to FOLDER (default
screenshots/, which git ignores) and their names are printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import browser_unavailable, launch_browser  # noqa: E402

from kbsite.build import BuildOptions, build_site  # noqa: E402

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def pages(site: Path) -> dict[str, str]:
    """Name -> address of each page to show; the first article and listing found."""
    article = sorted((site / "kb").glob("*.html"))[0]
    listing = sorted(p for p in (site / "category").glob("*.html") if p.name != "index.html")[0]
    return {
        "home": (site / "index.html").as_uri(),
        "article": article.as_uri(),
        "listing": listing.as_uri(),
        "search": (site / "search.html").as_uri() + "?q=server+error",
        "stats": (site / "stats.html").as_uri(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=ROOT / "content")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    reason = browser_unavailable()
    if reason is not None:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        site = Path(work) / "site"
        build_site(BuildOptions([args.source], site, jobs=2))
        with launch_browser() as browser:
            for scheme in ("light", "dark"):
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(
                        color_scheme=scheme, viewport={"width": width, "height": height}
                    )
                    page = context.new_page()
                    for name, url in pages(site).items():
                        page.goto(url)
                        if name == "search":
                            page.wait_for_selector("#kb-results li")
                        target = args.out / f"{name}-{scheme}-{size}.png"
                        page.screenshot(path=str(target))
                        print(target)
                    context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
